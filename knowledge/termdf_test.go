package knowledge

import (
	"context"
	"math"
	"reflect"
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

// TestStoredTermsScoreLikeAnalysis: a hit's features, built from the
// terms stored at index time, are those analysing its phrasings gives.
func TestStoredTermsScoreLikeAnalysis(t *testing.T) {
	f := newSynthFAQ(300)
	entries := append(f.entries, Entry{ID: "q-only-stop", Question: "the", Alternates: []string{"how to return shoes", "退货 怎么 办"}, Answer: "a"})
	ix := openEvalIndex(t, defaultConfig(), entries)
	stats, err := ix.termStats(ix.idx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		got, err := ix.hitFeatures(ix.idx, e.ID, stats)
		if err != nil {
			t.Fatal(err)
		}
		want := ix.features(e, stats)
		if !reflect.DeepEqual(got.phrasings, want.phrasings) {
			t.Fatalf("%s: phrasings from stored terms differ from analysis:\n got %+v\nwant %+v", e.ID, got.phrasings, want.phrasings)
		}
		// (the centroid norm is summed in map order: equal to rounding)
		if len(got.centroid) != len(want.centroid) || math.Abs(got.cnorm-want.cnorm) > 1e-9 {
			t.Fatalf("%s: centroid from stored terms differs: %v (norm %v), want %v (norm %v)", e.ID, got.centroid, got.cnorm, want.centroid, want.cnorm)
		}
		for term, v := range want.centroid {
			if math.Abs(got.centroid[term]-v) > 1e-9 {
				t.Fatalf("%s: centroid[%q] = %v, want %v", e.ID, term, got.centroid[term], v)
			}
		}
	}
}
