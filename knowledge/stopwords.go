package knowledge

import (
	"sort"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
)

// Stop words. bleve's English stop list (Snowball's) is written for
// documents, where "how", "not" and "up" say little; in a support question
// they say what is being asked: "why was my card declined" is not "how do
// I use my card", "my refund did not arrive" is not "my refund arrived",
// "log in" is not "log out" and "top up" is not "top". The index keeps
// them; the rest of the list is still dropped. Kept, they have a low IDF
// (many phrasings hold them), so they tell apart entries that share the
// content words without outweighing those. The list is general English
// grammar, not drawn from any FAQ or dev set (docs/retrieval.md has the
// measurements).

// stopWordsKept returns the words of bleve's English stop list that the
// index analyzer keeps: question words, negations and the particles of
// phrasal verbs.
func stopWordsKept() []string {
	return []string{
		// question words
		"what", "which", "who", "whom", "when", "where", "why", "how",
		// negations
		"no", "nor", "not", "cannot", "can't", "don't", "doesn't", "didn't",
		"isn't", "aren't", "wasn't", "weren't", "won't", "wouldn't",
		"shouldn't", "couldn't", "haven't", "hasn't", "hadn't", "mustn't", "shan't",
		// particles of phrasal verbs (top up, log in, sign out, turn off)
		"up", "down", "in", "out", "on", "off", "over",
	}
}

// stopWords returns bleve's English stop list less stopWordsKept, sorted,
// as the token list of a custom token map.
func stopWords() []any {
	tm := analysis.NewTokenMap()
	_ = tm.LoadBytes(en.EnglishStopWords) // cannot fail: it reads lines from memory
	for _, w := range stopWordsKept() {
		delete(tm, w)
	}
	words := make([]string, 0, len(tm))
	for w := range tm {
		words = append(words, w)
	}
	sort.Strings(words)
	out := make([]any, len(words))
	for i, w := range words {
		out[i] = w
	}
	return out
}

// functionTerms returns the terms analyzer a makes of stopWordsKept (none
// when a drops them). They are searched and scored like any term, but a
// query of nothing else finds nothing ("how?", "why not" ask nothing about
// the FAQ), and Hit.Matched leaves them out. A word that stems to one of
// them counts too ("one" → on).
func functionTerms(a analysis.Analyzer) map[string]bool {
	out := map[string]bool{}
	for _, w := range stopWordsKept() {
		for _, t := range a.Analyze([]byte(w)) {
			out[string(t.Term)] = true
		}
	}
	return out
}

// searchable reports whether q has a term that is not a function term.
func (ix *Index) searchable(q string) bool {
	for _, t := range ix.terms(q) {
		if !ix.function[t] {
			return true
		}
	}
	return false
}
