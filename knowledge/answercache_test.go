package knowledge_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// TestRepeatedQuestionSeesEveryEdit asks the same question again after
// each kind of change: the answer cache must never serve a result from
// before the change.
func TestRepeatedQuestionSeesEveryEdit(t *testing.T) {
	ctx := context.Background()
	b, _ := newBase(t)
	q := "How long does shipping take?"
	search := func() knowledge.Result {
		t.Helper()
		res, err := b.Search(ctx, q, knowledge.SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	answer := func() string {
		t.Helper()
		res := search()
		if len(res.Hits) == 0 || res.Hits[0].ID != "ship-time" {
			return ""
		}
		return res.Hits[0].Answer
	}
	if got := answer(); got != "Most orders arrive in 2-4 days." {
		t.Fatalf("before: %q", got)
	}
	first := search() // from the cache now
	if again := search(); !reflect.DeepEqual(first, again) {
		t.Errorf("the same question gave %+v, then %+v", first, again)
	}
	// A caller changing its hits does not change the next caller's.
	first.Hits[0].Answer = "changed by a caller"
	if got := answer(); got != "Most orders arrive in 2-4 days." {
		t.Errorf("after a caller changed its copy: %q", got)
	}

	rec, err := b.Get(ctx, "ship-time")
	if err != nil {
		t.Fatal(err)
	}
	e := rec.Entry
	e.Answer = "Most orders arrive in 1-2 days."
	if _, err := b.Update(ctx, e, rec.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := answer(); got != e.Answer {
		t.Errorf("after an update: %q, want %q", got, e.Answer)
	}

	e.Answer = "Next-day delivery in big cities."
	if _, err := b.Import(ctx, []knowledge.Entry{e}, knowledge.ImportOptions{By: "bob"}); err != nil {
		t.Fatal(err)
	}
	if got := answer(); got != e.Answer {
		t.Errorf("after an import: %q, want %q", got, e.Answer)
	}

	if _, err := b.Delete(ctx, "ship-time", "carol"); err != nil {
		t.Fatal(err)
	}
	if got := answer(); got != "" {
		t.Errorf("after a delete the top hit is still ship-time: %q", got)
	}
	if _, err := b.Restore(ctx, "ship-time", "carol"); err != nil {
		t.Fatal(err)
	}
	if got := answer(); got != e.Answer {
		t.Errorf("after a restore: %q, want %q", got, e.Answer)
	}

	// A rebuild from the store (here after a replacing import).
	e.Answer = "Two days at most."
	if _, err := b.Import(ctx, []knowledge.Entry{e}, knowledge.ImportOptions{By: "dan", Replace: true}); err != nil {
		t.Fatal(err)
	}
	if got := answer(); got != e.Answer {
		t.Errorf("after a replacing import: %q, want %q", got, e.Answer)
	}
	if err := b.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	if got := answer(); got != e.Answer {
		t.Errorf("after a reindex: %q, want %q", got, e.Answer)
	}
}

// TestSpacingDoesNotChangeResults: questions that differ only in ASCII
// white space share a cache entry, so they must give the same result as
// when each is searched first.
func TestSpacingDoesNotChangeResults(t *testing.T) {
	ctx := context.Background()
	for _, qs := range [][]string{
		{"when will my parcel arrive", "  when   will my\tparcel arrive \n"},
		{"七天无理由 怎么退", "七天无理由   怎么退 "},
	} {
		var want knowledge.Result
		for i, q := range qs {
			b, _ := newBase(t) // a fresh cache: each is searched first
			got, err := b.Search(ctx, q, knowledge.SearchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				want = got
				if len(want.Hits) == 0 {
					t.Fatalf("%q found nothing", q)
				}
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%q gave %+v, %q gave %+v", qs[0], want, q, got)
			}
		}
	}
}
