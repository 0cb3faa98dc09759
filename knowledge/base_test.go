package knowledge

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// fakeStore is a Store whose Entries answers from memory (or EntriesFn);
// its other methods are not used by the tests that take it.
type fakeStore struct {
	Store
	entries []Entry
	rev     int64

	EntriesFn func(ctx context.Context) ([]Entry, int64, error)
}

func (s *fakeStore) Setting(context.Context, string) ([]byte, string, time.Time, bool, error) {
	return nil, "", time.Time{}, false, nil
}

func (s *fakeStore) Entries(ctx context.Context) ([]Entry, int64, error) {
	if s.EntriesFn != nil {
		return s.EntriesFn(ctx)
	}
	return append([]Entry(nil), s.entries...), s.rev, nil
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
