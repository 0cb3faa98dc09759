package knowledge

import (
	"context"
	"testing"
)

// TestPhrasingDFAfterMerge checks the document frequencies search weighs
// terms by against a count made from the entries themselves, on an index
// built in several batches and merged into one segment by Rebuild: the
// merged layout is where bleve's FieldDict reports a count of 1 for most
// terms (see fieldDF).
func TestPhrasingDFAfterMerge(t *testing.T) {
	f := newSynthFAQ(2*rebuildBatch + 500) // three batches, merged
	ix := openEvalIndex(t, defaultConfig(), f.entries)

	adv, err := ix.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	if n := rootSegments(adv.(interface{ StatsMap() map[string]any }).StatsMap()); n != 1 {
		t.Errorf("after Rebuild the index has %d segments, want 1", n)
	}

	want := map[string]float64{}
	for _, e := range f.entries {
		seen := map[string]bool{}
		for _, p := range append([]string{e.Question}, e.Alternates...) {
			for _, term := range ix.terms(p) {
				if !seen[term] {
					seen[term] = true
					want[term]++
				}
			}
		}
	}
	stats, err := ix.termStats(ix.idx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats.df) != len(want) {
		t.Errorf("%d terms, want %d", len(stats.df), len(want))
	}
	bad := 0
	for term, n := range want {
		if got := stats.df[term]; got != n {
			if bad < 5 {
				t.Errorf("df[%q] = %v, want %v", term, got, n)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d document frequencies are wrong", bad, len(want))
	}

	// An edit after the merge is counted too.
	e := f.entries[0]
	e.ID = "new"
	if err := ix.Apply(context.Background(), []Entry{e}, nil, 2); err != nil {
		t.Fatal(err)
	}
	stats, err = ix.termStats(ix.idx)
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range ix.terms(e.Question) {
		if got := stats.df[term]; got != want[term]+1 {
			t.Errorf("after adding an entry df[%q] = %v, want %v", term, got, want[term]+1)
		}
	}
}
