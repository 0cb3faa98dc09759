package knowledge

import (
	"math"
	"sort"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// rerankConfig weighs the signals that re-rank bleve's candidates and make
// up Confidence. Every signal is in 0..1 (see entryScore).
type rerankConfig struct {
	// Ranking: score = Score·bleve/top + Phrasing·phrasing + Centroid·centroid
	// + Cover·cover (indexConfig.ScoreWeight is the bleve weight).
	Phrasing, Centroid, Cover float64
	// Confidence is the weighted mean of the same signals (without the
	// bleve score, which is relative to the query's top hit) with these
	// weights, then calibrated for Chinese (indexConfig.CJKGamma).
	ConfPhrasing, ConfCentroid, ConfCover float64
	// Spelling matches unknown query words to the FAQ vocabulary at edit
	// distance 1 (see spelling.go).
	Spelling bool
	// SynonymCredit is the credit of a synonym for a query word that no
	// phrasing uses; SynonymCreditKnown for one that some phrasing uses
	// (0 turns those expansions off).
	SynonymCredit, SynonymCreditKnown float64
}

// entryScore holds how well one entry matches a query.
type entryScore struct {
	// phrasing is the best, over the entry's phrasings (question and
	// alternates), of the geometric mean of the share of the query's IDF
	// weight the phrasing covers and the share of the phrasing's weight the
	// query covers.
	phrasing float64
	// centroid is the cosine between the query and the mean of the entry's
	// phrasings (each an L2-normalised IDF vector): it favours the words
	// an entry's phrasings share, learning from all of them at once.
	centroid float64
	// cover is the share of the query's weight found anywhere in the
	// entry's phrasings.
	cover   float64
	best    int    // index of the best phrasing: 0 the question, i the alternate i-1
	matched []bool // per query term: matched by the best phrasing (function terms never)
}

// altIn returns the highest credit among qt's alternatives whose terms are
// all in has.
func altIn(qt *queryTerm, has func(string) bool) float64 {
	best := 0.0
	for _, a := range qt.alts {
		if a.credit <= best {
			continue
		}
		if allIn(a.terms, has) {
			best = a.credit
		}
	}
	return best
}

func allIn(terms []string, has func(string) bool) bool {
	for _, t := range terms {
		if !has(t) {
			return false
		}
	}
	return true
}

// entryFeatures is what scoring needs of an entry that does not depend on
// the query: its phrasings' weighted terms and their centroid. It is
// computed once per term-statistics generation (see termStats.entries).
type entryFeatures struct {
	e         Entry
	phrasings []weighted // the question, then each alternate
	centroid  map[string]float64
	cnorm     float64
}

// features computes e's entryFeatures.
func (ix *Index) features(e Entry, stats *termStats) *entryFeatures {
	pws := make([]weighted, 0, 1+len(e.Alternates))
	for i := 0; i <= len(e.Alternates); i++ {
		p := e.Question
		if i > 0 {
			p = e.Alternates[i-1]
		}
		pws = append(pws, ix.phrasingWeights(p, stats))
	}
	return newEntryFeatures(e, pws)
}

// newEntryFeatures builds e's entryFeatures from its phrasings' weighted
// terms (the question, then each alternate).
func newEntryFeatures(e Entry, pws []weighted) *entryFeatures {
	f := &entryFeatures{e: e, phrasings: pws, centroid: make(map[string]float64, 16)}
	for _, pw := range pws {
		if pw.sum <= 0 {
			continue
		}
		for t, w := range pw.w {
			f.centroid[t] += w / pw.norm
		}
	}
	for _, v := range f.centroid {
		f.cnorm += v * v
	}
	f.cnorm = math.Sqrt(f.cnorm)
	return f
}

// scoreEntry scores e against aq.
func (ix *Index) scoreEntry(aq *analysedQuery, e Entry, stats *termStats) entryScore {
	return ix.scoreFeatures(aq, ix.features(e, stats))
}

// scoreFeatures scores an entry, by its features, against aq.
func (ix *Index) scoreFeatures(aq *analysedQuery, f *entryFeatures) entryScore {
	s := entryScore{best: -1}
	if aq.sum <= 0 {
		return s
	}
	exp := ix.cfg.QueryExponent
	centroid, cnorm := f.centroid, f.cnorm
	// pCredit is the best credit each phrasing term earned, as a list: a
	// phrasing has a handful of terms, and a map per phrasing per hit was
	// most of a search's garbage.
	type credit struct {
		term string
		c    float64
	}
	var pCredit []credit
	for i, pw := range f.phrasings {
		if pw.sum <= 0 {
			continue
		}
		has := func(t string) bool { _, ok := pw.w[t]; return ok }
		qCovered, pCovered := 0.0, 0.0
		pCredit = pCredit[:0]
		for j := range aq.terms {
			qt := &aq.terms[j]
			c := altIn(qt, has)
			if c == 0 {
				continue
			}
			if qt.content {
				qCovered += qt.weight * c
			}
			for _, a := range qt.alts {
				if !allIn(a.terms, has) {
					continue
				}
			terms:
				for _, t := range a.terms {
					for k := range pCredit {
						if pCredit[k].term == t {
							pCredit[k].c = max(pCredit[k].c, a.credit)
							continue terms
						}
					}
					pCredit = append(pCredit, credit{t, a.credit})
				}
			}
		}
		for _, pc := range pCredit {
			pCovered += pw.w[pc.term] * pc.c
		}
		conf := math.Pow(qCovered/aq.sum, exp) * math.Pow(min(pCovered/pw.sum, 1), 1-exp)
		if conf > s.phrasing || s.best < 0 {
			s.phrasing, s.best = conf, i
		}
	}
	if s.best < 0 {
		return s
	}
	s.phrasing = min(s.phrasing, 1)

	inEntry := func(t string) bool { _, ok := centroid[t]; return ok }
	qnorm, dot, covered := 0.0, 0.0, 0.0
	for j := range aq.terms {
		qt := &aq.terms[j]
		if !qt.content {
			continue
		}
		qnorm += qt.weight * qt.weight
		best := 0.0
		for _, a := range qt.alts {
			v := 0.0
			for _, t := range a.terms {
				v += centroid[t]
			}
			best = max(best, a.credit*v/float64(len(a.terms)))
		}
		dot += qt.weight * best
		covered += qt.weight * altIn(qt, inEntry)
	}
	if cnorm > 0 && qnorm > 0 {
		s.centroid = min(dot/(cnorm*math.Sqrt(qnorm)), 1)
	}
	s.cover = min(covered/aq.sum, 1)

	pw := f.phrasings[s.best]
	has := func(t string) bool { _, ok := pw.w[t]; return ok }
	s.matched = make([]bool, len(aq.terms))
	for j := range aq.terms {
		s.matched[j] = altIn(&aq.terms[j], has) > 0 && !ix.function[aq.terms[j].term]
	}
	return s
}

// rank is the re-ranking score of an entry whose bleve score is norm times
// the top hit's.
func (c rerankConfig) rank(scoreWeight, norm float64, s entryScore) float64 {
	return scoreWeight*norm + c.Phrasing*s.phrasing + c.Centroid*s.centroid + c.Cover*s.cover
}

// confidence is the weighted mean of s's signals, at least the square of
// the phrasing signal, raised to gamma.
func (c rerankConfig) confidence(s entryScore, gamma float64) float64 {
	sum := c.ConfPhrasing + c.ConfCentroid + c.ConfCover
	if sum <= 0 {
		return 0
	}
	v := (c.ConfPhrasing*s.phrasing + c.ConfCentroid*s.centroid + c.ConfCover*s.cover) / sum
	// A strong phrasing match stands on its own: asking an entry's exact
	// question is confidence 1 however varied its other phrasings are.
	// Squared, the floor is under any useful threshold for weak matches.
	v = max(v, s.phrasing*s.phrasing)
	return math.Pow(min(max(v, 0), 1), gamma)
}

// Candidate search cost. bleve's disjunction walks the whole posting list
// of every query term, so a term that half of 100k entries hold costs
// milliseconds while telling them apart hardly at all. Terms held by more
// than commonShare of the entries, and by more than commonMin, are left out
// of the candidate search (never out of re-ranking or Confidence), unless
// fewer than minSearchTerms terms would be left: then the rarest are kept.
// commonMin keeps every term of FAQs under about 200 entries (and terms
// held by fewer than 200 entries of any FAQ). At 10k synthetic entries,
// 2%/200 against 5%/500: warm p99 1.9 against 2.7 ms, hit@1 0.920
// against 0.924 (TestSearchScale). At 100k (measured with correct
// document frequencies, on a contended machine) the share trades hit@1
// for speed: 2% 0.856 at warm p50 0.68 ms, 5% 0.869 at 0.97 ms, 20% 0.894
// at 2.8 ms. Before fieldDF, merged segments reported most terms as held
// by one entry, which switched the cut off unnoticed (0.903 at p50 2.3 ms).
const (
	commonShare    = 0.02
	commonMin      = 200
	minSearchTerms = 2
)

// searchTerms returns the terms to search for and their credit: every
// query term and the terms of its alternatives, less the common ones.
func searchTerms(aq *analysedQuery, stats *termStats) map[string]float64 {
	out := map[string]float64{}
	for _, qt := range aq.terms {
		for _, a := range qt.alts {
			for _, t := range a.terms {
				out[t] = max(out[t], a.credit)
			}
		}
	}
	limit := max(commonShare*stats.n, commonMin)
	var common []string
	for t := range out {
		if stats.df[t] > limit {
			common = append(common, t)
		}
	}
	if len(common) == 0 {
		return out
	}
	sort.Slice(common, func(i, j int) bool {
		if stats.df[common[i]] != stats.df[common[j]] {
			return stats.df[common[i]] < stats.df[common[j]]
		}
		return common[i] < common[j]
	})
	keep := max(0, minSearchTerms-(len(out)-len(common)))
	for _, t := range common[min(keep, len(common)):] {
		delete(out, t)
	}
	return out
}

// fieldQuery is a disjunction of term queries on field, one per search
// term, boosted by boost times the term's credit.
func fieldQuery(terms map[string]float64, field string, boost float64) query.Query {
	dq := bleve.NewDisjunctionQuery()
	keys := make([]string, 0, len(terms))
	for t := range terms {
		keys = append(keys, t)
	}
	sort.Strings(keys) // a stable query, so equal scores tie the same way
	for _, t := range keys {
		tq := bleve.NewTermQuery(t)
		tq.SetField(field)
		tq.SetBoost(boost * terms[t])
		dq.AddQuery(tq)
	}
	return dq
}

// explain fills h's Matched and Phrasing from s.
func explain(h Hit, aq *analysedQuery, s entryScore) Hit {
	if s.best < 0 {
		return h
	}
	h.Phrasing = h.Question
	if s.best > 0 {
		h.Phrasing = h.Alternates[s.best-1]
	}
	h.Matched = aq.matchedText(s.matched)
	return h
}

func defaultRerank() rerankConfig {
	return rerankConfig{
		Phrasing: 1, Centroid: 2, Cover: 2,
		ConfPhrasing: 1, ConfCentroid: 1, ConfCover: 0,
		Spelling:      true,
		SynonymCredit: 0.9, SynonymCreditKnown: 0.5,
	}
}
