package knowledge

// Spelling tolerance: a query term that no phrasing contains is matched to
// the FAQ's vocabulary at edit distance 1 (one letter inserted, deleted,
// replaced, or two neighbours swapped: "ofder" → order, "hepl" → help,
// "recieve" → receive). The candidates are generated and looked up in the
// term dictionary (Norvig's method), so no structure beyond the document
// frequencies is kept.

// minCorrectLen is the shortest analysed term that is corrected: shorter
// words have too many neighbours to guess from.
const minCorrectLen = 4

// correct returns the vocabulary term one edit away from t with the highest
// document frequency (ties: the first in alphabetical order), when t is an
// unknown lower-case ASCII word of at least minCorrectLen letters.
func (s *termStats) correct(t string) (string, bool) {
	if len(t) < minCorrectLen {
		return "", false
	}
	if _, ok := s.df[t]; ok {
		return "", false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 'a' || t[i] > 'z' {
			return "", false
		}
	}
	best, bestDF := "", 0.0
	consider := func(c string) {
		df, ok := s.df[c]
		if !ok {
			return
		}
		if df > bestDF || (df == bestDF && c < best) {
			best, bestDF = c, df
		}
	}
	buf := make([]byte, 0, len(t)+1)
	for i := 0; i <= len(t); i++ {
		if i < len(t) { // deletion
			consider(string(append(append(buf[:0], t[:i]...), t[i+1:]...)))
		}
		if i+1 < len(t) { // transposition
			b := append(buf[:0], t...)
			b[i], b[i+1] = b[i+1], b[i]
			consider(string(b))
		}
		for c := byte('a'); c <= 'z'; c++ {
			if i < len(t) && c != t[i] { // replacement
				b := append(buf[:0], t...)
				b[i] = c
				consider(string(b))
			}
			// insertion
			consider(string(append(append(append(buf[:0], t[:i]...), c), t[i:]...)))
		}
	}
	return best, best != ""
}
