package knowledge

import (
	"math"

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
	matched []bool // per query term: matched by the best phrasing
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

// scoreEntry scores e against aq.
func (ix *Index) scoreEntry(aq *analysedQuery, e Entry, stats *termStats) entryScore {
	s := entryScore{best: -1}
	if aq.sum <= 0 {
		return s
	}
	exp := ix.cfg.QueryExponent
	n := 1 + len(e.Alternates)
	centroid := make(map[string]float64, 16)
	for i := 0; i < n; i++ {
		p := e.Question
		if i > 0 {
			p = e.Alternates[i-1]
		}
		pw := ix.phrasingWeights(p, stats)
		if pw.sum <= 0 {
			continue
		}
		for t, w := range pw.w {
			centroid[t] += w / pw.norm
		}
		has := func(t string) bool { _, ok := pw.w[t]; return ok }
		qCovered, pCovered := 0.0, 0.0
		var pCredit map[string]float64
		for j := range aq.terms {
			qt := &aq.terms[j]
			c := altIn(qt, has)
			if c == 0 {
				continue
			}
			if qt.content {
				qCovered += qt.weight * c
			}
			if pCredit == nil {
				pCredit = make(map[string]float64, 8)
			}
			for _, a := range qt.alts {
				if !allIn(a.terms, has) {
					continue
				}
				for _, t := range a.terms {
					pCredit[t] = max(pCredit[t], a.credit)
				}
			}
		}
		for t, c := range pCredit {
			pCovered += pw.w[t] * c
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

	cnorm := 0.0
	for _, v := range centroid {
		cnorm += v * v
	}
	cnorm = math.Sqrt(cnorm)
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

	p := e.Question
	if s.best > 0 {
		p = e.Alternates[s.best-1]
	}
	pw := ix.phrasingWeights(p, stats)
	has := func(t string) bool { _, ok := pw.w[t]; return ok }
	s.matched = make([]bool, len(aq.terms))
	for j := range aq.terms {
		s.matched[j] = altIn(&aq.terms[j], has) > 0
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

// fieldQuery is a disjunction of term queries on field: every query term
// and the terms of its alternatives, boosted by boost times the credit.
func fieldQuery(aq *analysedQuery, field string, boost float64) query.Query {
	dq := bleve.NewDisjunctionQuery()
	seen := map[string]bool{}
	for _, qt := range aq.terms {
		for _, a := range qt.alts {
			for _, t := range a.terms {
				if seen[t] {
					continue
				}
				seen[t] = true
				tq := bleve.NewTermQuery(t)
				tq.SetField(field)
				tq.SetBoost(boost * a.credit)
				dq.AddQuery(tq)
			}
		}
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
