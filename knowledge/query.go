package knowledge

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
)

// queryTerm is one distinct analysed term of a query, with the
// alternatives that may stand for it in a phrasing: the term itself
// (credit 1), a spelling correction, synonyms.
type queryTerm struct {
	term   string
	weight float64  // IDF over phrasings
	alts   []alt    // alts[0] is the term itself
	spans  [][2]int // byte spans of the term's tokens in the query text
	// content is false for a CJK bigram that straddles a word boundary
	// (see indexConfig.DropBoundaryBigrams): it is searched but left out
	// of the confidence.
	content bool
}

// alt is a sequence of analysed terms that stands for a query term when a
// phrasing holds all of them, with the share of the term's weight it earns.
type alt struct {
	terms  []string
	credit float64
}

// analysedQuery is a query analysed for search and scoring.
type analysedQuery struct {
	text  string // the query as searched (digit runs blanked)
	terms []queryTerm
	sum   float64 // total weight of the content terms
	cjk   float64 // share of tokens that are CJK
}

// Credits of alternatives, relative to the query term itself (1).
const (
	creditSpelling = 0.8
)

// blankDigitRuns replaces each run of 5+ ASCII digits (order, phone and
// tracking numbers) with as many spaces, so token offsets still point into
// the query as the user wrote it. The analyzer drops such runs too.
func blankDigitRuns(s string) string {
	b := []byte(s)
	changed := false
	for i := 0; i < len(b); {
		if b[i] < '0' || b[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j-i >= 5 {
			for k := i; k < j; k++ {
				b[k] = ' '
			}
			changed = true
		}
		i = j
	}
	if !changed {
		return s
	}
	return string(b)
}

// analyseQuery analyses q into weighted terms with their alternatives.
func (ix *Index) analyseQuery(q string, stats *termStats, locale string) analysedQuery {
	q = blankDigitRuns(q)
	aq := analysedQuery{text: q}
	ts := ix.analyzer.Analyze([]byte(q))
	if len(ts) == 0 {
		return aq
	}
	junk := map[string]bool{}
	if ix.cfg.DropBoundaryBigrams {
		junk = boundaryBigrams(ts, stats)
	}
	pos := map[string]int{}
	ncjk := 0
	for _, t := range ts {
		if t.Type == analysis.Double || t.Type == analysis.Single || t.Type == analysis.Ideographic {
			ncjk++
		}
		term := string(t.Term)
		if term == "" {
			continue
		}
		i, ok := pos[term]
		if !ok {
			i = len(aq.terms)
			pos[term] = i
			aq.terms = append(aq.terms, queryTerm{
				term:    term,
				weight:  stats.idf(term, ix.cfg.UnknownDF),
				alts:    []alt{{terms: []string{term}, credit: 1}},
				content: !junk[term],
			})
		}
		aq.terms[i].spans = append(aq.terms[i].spans, [2]int{t.Start, t.End})
	}
	aq.cjk = float64(ncjk) / float64(len(ts))
	if ix.cfg.Rerank.Spelling {
		for i := range aq.terms {
			qt := &aq.terms[i]
			if c, ok := stats.correct(qt.term); ok {
				qt.alts = append(qt.alts, alt{terms: []string{c}, credit: creditSpelling})
			}
		}
	}
	if ix.cfg.Lexicon != nil {
		ix.expandLexicon(&aq, ix.cfg.Lexicon, stats, ix.cfg.LexiconCredit)
	}
	if syn := ix.synonymSet(); syn != nil {
		syn.expand(&aq, locale, func(t string) float64 {
			if _, known := stats.df[t]; known {
				return ix.cfg.Rerank.SynonymCreditKnown
			}
			return ix.cfg.Rerank.SynonymCredit
		})
	}
	for _, qt := range aq.terms {
		if qt.content {
			aq.sum += qt.weight
		}
	}
	return aq
}

// boundaryBigrams returns the CJK bigrams of ts that no phrasing contains
// and whose two characters are each covered by another token that some
// phrasing does contain: such a bigram straddles a word boundary (西收 in
// 东西收到) rather than naming something the FAQ lacks.
func boundaryBigrams(ts analysis.TokenStream, stats *termStats) map[string]bool {
	known := func(t *analysis.Token) bool { _, ok := stats.df[string(t.Term)]; return ok }
	covered := func(start, end int, self int) bool {
		for j, t := range ts {
			if j != self && known(t) && t.Start <= start && t.End >= end {
				return true
			}
		}
		return false
	}
	junk := map[string]bool{}
	keep := map[string]bool{}
	for i, t := range ts {
		term := string(t.Term)
		if t.Type == analysis.Double && !known(t) {
			_, size := utf8.DecodeRune(t.Term)
			mid := t.Start + size
			if covered(t.Start, mid, i) && covered(mid, t.End, i) {
				junk[term] = true
				continue
			}
		}
		keep[term] = true
	}
	for t := range keep {
		delete(junk, t)
	}
	return junk
}

// matchedText returns the parts of the query text that the given terms'
// tokens cover, in query order, overlapping and touching spans merged (so
// the CJK bigrams 退款 and 款到 give 退款到).
func (aq analysedQuery) matchedText(matched []bool) []string {
	var spans [][2]int
	for i, qt := range aq.terms {
		if matched[i] {
			spans = append(spans, qt.spans...)
		}
	}
	if len(spans) == 0 {
		return nil
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	var out []string
	cur := spans[0]
	flush := func() {
		if s := strings.TrimSpace(aq.text[cur[0]:cur[1]]); s != "" {
			out = append(out, s)
		}
	}
	for _, s := range spans[1:] {
		if s[0] <= cur[1] && isCJKJoin(aq.text, cur[1], s[0]) {
			cur[1] = max(cur[1], s[1])
			continue
		}
		flush()
		cur = s
	}
	flush()
	return out
}

// isCJKJoin reports whether spans ending at end and starting at start
// overlap or touch; Latin words are never merged (each is reported alone).
func isCJKJoin(text string, end, start int) bool {
	if start < end {
		return true
	}
	if start != end || start >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[start:])
	return r > utf8.RuneSelf && !isSpaceRune(r)
}

func isSpaceRune(r rune) bool { return r == ' ' || r == '\u3000' }
