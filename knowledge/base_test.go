package knowledge

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// fakeStore is a Store with function fields; nil fields use the in-memory
// behaviour below.
type fakeStore struct {
	entries []Entry
	rev     int64

	EntriesFn     func(ctx context.Context) ([]Entry, int64, error)
	SaveEntriesFn func(ctx context.Context, entries []Entry, replace bool) (int64, error)
}

func (s *fakeStore) Entries(ctx context.Context) ([]Entry, int64, error) {
	if s.EntriesFn != nil {
		return s.EntriesFn(ctx)
	}
	return append([]Entry(nil), s.entries...), s.rev, nil
}

func (s *fakeStore) SaveEntries(ctx context.Context, entries []Entry, replace bool) (int64, error) {
	if s.SaveEntriesFn != nil {
		return s.SaveEntriesFn(ctx, entries, replace)
	}
	if replace {
		s.entries = nil
	}
	for _, e := range entries {
		found := false
		for i := range s.entries {
			if s.entries[i].ID == e.ID {
				s.entries[i], found = e, true
			}
		}
		if !found {
			s.entries = append(s.entries, e)
		}
	}
	s.rev++
	return s.rev, nil
}

func TestBaseSync(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		storeRev    int64
		store       []Entry
		indexRev    int64 // 0: leave the index new and empty
		index       []Entry
		wantRebuilt bool
	}{
		{name: "new index, store has entries", storeRev: 3, store: testEntries, wantRebuilt: true},
		{name: "revisions differ", storeRev: 4, store: testEntries, indexRev: 3, index: testEntries[:2], wantRebuilt: true},
		{name: "same revision", storeRev: 3, store: testEntries, indexRev: 3, index: testEntries[:2], wantRebuilt: false},
		{name: "same revision but index empty", storeRev: 3, store: testEntries, indexRev: 3, index: nil, wantRebuilt: true},
		{name: "both empty", storeRev: 0, store: nil, wantRebuilt: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := mustOpen(t, filepath.Join(t.TempDir(), "index"))
			if tt.indexRev != 0 {
				if err := ix.Rebuild(ctx, Normalize(tt.index), tt.indexRev); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := ix.DocCount()
			b := NewBase(&fakeStore{entries: tt.store, rev: tt.storeRev}, ix, nil)
			if err := b.Sync(ctx); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			n, err := ix.DocCount()
			if err != nil {
				t.Fatal(err)
			}
			rev, err := ix.Revision()
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantRebuilt {
				if n != len(tt.store) || rev != tt.storeRev {
					t.Errorf("after Sync: %d entries at revision %d, want %d at %d", n, rev, len(tt.store), tt.storeRev)
				}
			} else if n != before || rev != tt.indexRev {
				t.Errorf("after Sync: %d entries at revision %d, want it untouched (%d at %d)", n, rev, before, tt.indexRev)
			}
		})
	}
}

func TestBaseSyncStoreError(t *testing.T) {
	ix := mustOpen(t, filepath.Join(t.TempDir(), "index"))
	boom := errors.New("boom")
	b := NewBase(&fakeStore{EntriesFn: func(context.Context) ([]Entry, int64, error) { return nil, 0, boom }}, ix, nil)
	if err := b.Sync(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Sync = %v, want it to wrap %v", err, boom)
	}
}

func TestBaseImport(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{}
	ix := mustOpen(t, filepath.Join(t.TempDir(), "index"))
	b := NewBase(store, ix, nil)

	// Invalid input stores nothing.
	err := b.Import(ctx, []Entry{{ID: "x", Question: ""}}, false)
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("Import invalid = %v, want *FileError", err)
	}
	if store.rev != 0 {
		t.Fatalf("invalid import reached the store")
	}

	steps := []struct {
		name      string
		entries   []Entry
		replace   bool
		wantCount int
		q         string
		wantTop   string
	}{
		{"first import", testEntries, false, len(testEntries), "如何申请七天无理由退货", "ret-7day"},
		{"upsert", []Entry{{ID: "new", Locale: "en", Question: "Do you sell gift cards?", Answer: "Yes"}}, false, len(testEntries) + 1, "gift cards", "new"},
		{"replace", []Entry{{ID: "solo", Locale: " EN ", Question: "  Where is my parcel? "}}, true, 1, "parcel", "solo"},
	}
	for _, s := range steps {
		if err := b.Import(ctx, s.entries, s.replace); err != nil {
			t.Fatalf("%s: Import: %v", s.name, err)
		}
		got, err := b.Entries(ctx)
		if err != nil || len(got) != s.wantCount {
			t.Fatalf("%s: Entries = %d, %v; want %d", s.name, len(got), err, s.wantCount)
		}
		if n, _ := ix.DocCount(); n != s.wantCount {
			t.Errorf("%s: index has %d entries, want %d", s.name, n, s.wantCount)
		}
		if rev, _ := ix.Revision(); rev != store.rev {
			t.Errorf("%s: index revision %d, store %d", s.name, rev, store.rev)
		}
		res, err := b.Search(ctx, s.q, SearchOptions{})
		if err != nil || len(res.Hits) == 0 || res.Hits[0].ID != s.wantTop {
			t.Errorf("%s: Search(%q) = %v, %v; want %q first", s.name, s.q, ids(res.Hits), err, s.wantTop)
		}
	}
	// Import stores normalised entries.
	got, _ := b.Entries(ctx)
	if got[0].Locale != "en" || got[0].Question != "Where is my parcel?" {
		t.Errorf("stored entry = %#v, want it normalised", got[0])
	}
}
