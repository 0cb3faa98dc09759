package knowledge

import (
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// fieldDF returns the document frequency of every term of field.
//
// bleve's FieldDict cannot be trusted for this on a scorch index whose
// segments have been merged (zapx v17.2.5, blevesearch/zapx#445, unfixed
// in a release): a merged segment stores a term held by one document in
// the "1-hit" encoding, and the segment's dictionary iterator, which
// reuses one postings list for every term, keeps that state, so every
// later term of the segment reports a count of 1. Merges happen after a
// Rebuild (compact) and in the background as edits add segments; the
// counts then came out as 1 for most terms (at 10k synthetic entries the
// counts summed to 56,470 where they should sum to 433,270), every term
// looked rare, and Confidence and the common-term cut were wrong.
//
// The stale state makes a term report exactly 1 (or 0), so a count of 2
// or more is right; a count of at most 1 is checked by looking the term's
// postings up afresh. So the dictionary is read segment by segment (the
// per-segment lookups need the segment), counting, as FieldDict did,
// documents deleted or replaced but not yet merged away. A non-scorch
// index (the in-memory upsidedown one) has no such
// encoding and is read through FieldDict.
func fieldDF(idx bleve.Index, field string) (map[string]float64, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return fieldDictDF(idx, field)
	}
	df := make(map[string]float64)
	var term []byte
	for _, ss := range snap.Segments() {
		dict, err := ss.Segment().Dictionary(field)
		if err != nil {
			return nil, fmt.Errorf("dictionary of %s: %w", field, err)
		}
		pl, err := dict.PostingsList(nil, nil, nil) // a postings list to reuse for the checks
		if err != nil {
			return nil, fmt.Errorf("dictionary of %s: %w", field, err)
		}
		it := dict.AutomatonIterator(nil, nil, nil)
		for {
			de, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("dictionary of %s: %w", field, err)
			}
			if de == nil {
				break
			}
			n := de.Count
			if n <= 1 {
				term = append(term[:0], de.Term...)
				if pl, err = dict.PostingsList(term, nil, pl); err != nil {
					return nil, fmt.Errorf("postings of %q in %s: %w", de.Term, field, err)
				}
				n = pl.Count()
			}
			df[de.Term] += float64(n)
		}
	}
	return df, nil
}

// fieldDictDF reads document frequencies through bleve's FieldDict.
func fieldDictDF(idx bleve.Index, field string) (map[string]float64, error) {
	d, err := idx.FieldDict(field)
	if err != nil {
		return nil, err
	}
	df := make(map[string]float64)
	for {
		de, err := d.Next()
		if err != nil {
			_ = d.Close()
			return nil, err
		}
		if de == nil {
			break
		}
		df[de.Term] += float64(de.Count)
	}
	return df, d.Close()
}

// Separators of the stored phrasing terms: the analyzer never leaves
// control characters in a term.
const (
	termSep     = "\x1f"
	phrasingSep = "\x1e"
)

// phrasingTerms is what fieldTerms stores for e: each phrasing's distinct
// analysed terms (Index.terms), the question's first.
func (ix *Index) phrasingTerms(e Entry) string {
	var b strings.Builder
	for i := 0; i <= len(e.Alternates); i++ {
		p := e.Question
		if i > 0 {
			p = e.Alternates[i-1]
			b.WriteString(phrasingSep)
		}
		b.WriteString(strings.Join(ix.terms(p), termSep))
	}
	return b.String()
}

// splitPhrasingTerms undoes phrasingTerms.
func splitPhrasingTerms(s string) [][]string {
	if s == "" {
		return nil
	}
	ps := strings.Split(s, phrasingSep)
	out := make([][]string, len(ps))
	for i, p := range ps {
		if p != "" {
			out[i] = strings.Split(p, termSep)
		}
	}
	return out
}
