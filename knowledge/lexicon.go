package knowledge

import (
	"strings"
	"unicode"
)

// lexicon maps a lower-case English word to words of the same meaning
// (from WordNet's most common senses; see wordnet.go). It bridges a query
// word the FAQ never uses to one it does: a synonym is only tried for a
// query word, and only kept when all its terms are in the FAQ vocabulary.
type lexicon map[string][]string

// expandLexicon adds, to each Latin query term, the synonyms of the word it
// came from that the vocabulary holds, with credit.
func (ix *Index) expandLexicon(aq *analysedQuery, lex lexicon, stats *termStats, credit float64) {
	for i := range aq.terms {
		qt := &aq.terms[i]
		if len(qt.spans) == 0 {
			continue
		}
		word := strings.ToLower(aq.text[qt.spans[0][0]:qt.spans[0][1]])
		if !isLatinWord(word) {
			continue
		}
		for _, syn := range lex[word] {
			terms := ix.terms(syn)
			if len(terms) == 0 {
				continue
			}
			ok := true
			for _, t := range terms {
				if _, in := stats.df[t]; !in {
					ok = false
					break
				}
			}
			if ok && !(len(terms) == 1 && terms[0] == qt.term) {
				qt.alts = appendAlt(qt.alts, alt{terms: terms, credit: credit})
			}
		}
	}
}

func isLatinWord(s string) bool {
	for _, r := range s {
		if r > unicode.MaxLatin1 || !(unicode.IsLetter(r) || r == '\'' || r == '-') {
			return false
		}
	}
	return s != ""
}
