package knowledge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// entrySet is n entries about parcels whose ids all start with prefix.
func entrySet(prefix string, n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{ID: fmt.Sprintf("%s-%03d", prefix, i), Locale: "en",
			Question: fmt.Sprintf("Where is parcel number %d of the shipment?", i), Answer: "On its way."}
	}
	return out
}

// TestRebuildSwapsAtomically searches without pause while the index is
// rebuilt from one set of entries to another: every search sees exactly
// one of the two sets, never a mix and never an empty index.
func TestRebuildSwapsAtomically(t *testing.T) {
	for _, mem := range []bool{false, true} {
		t.Run(fmt.Sprintf("memory=%v", mem), func(t *testing.T) {
			ctx := context.Background()
			var ix *Index
			if mem {
				var err error
				if ix, err = OpenMemIndex(nil); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ix.Close() })
			} else {
				ix = mustOpen(t, filepath.Join(t.TempDir(), "index"))
			}
			sets := [][]Entry{entrySet("old", 300), entrySet("new", 300)}
			if err := ix.Rebuild(ctx, sets[0], 1); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var searches, bad atomic.Int64
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						res, err := ix.Search(ctx, "where is parcel number 7 of the shipment", SearchOptions{Limit: 50})
						searches.Add(1)
						if err != nil || len(res.Hits) == 0 {
							bad.Add(1)
							t.Errorf("search during rebuild: %d hits, %v", len(res.Hits), err)
							return
						}
						prefix := strings.SplitN(res.Hits[0].ID, "-", 2)[0]
						for _, h := range res.Hits {
							if !strings.HasPrefix(h.ID, prefix+"-") {
								bad.Add(1)
								t.Errorf("a search saw both sets: %v", ids(res.Hits))
								return
							}
						}
					}
				}()
			}
			for i := range 4 {
				if err := ix.Rebuild(ctx, sets[(i+1)%2], int64(i+2)); err != nil {
					t.Fatal(err)
				}
			}
			close(stop)
			wg.Wait()
			if searches.Load() == 0 {
				t.Fatal("no search ran during the rebuilds")
			}
			if rev, _ := ix.Revision(); rev != 5 {
				t.Errorf("revision after the rebuilds = %d, want 5", rev)
			}
			res, _ := ix.Search(ctx, "parcel number 7", SearchOptions{})
			if len(res.Hits) == 0 || !strings.HasPrefix(res.Hits[0].ID, "old-") {
				t.Errorf("after the last rebuild the index holds %v, want the old set", ids(res.Hits))
			}
		})
	}
}

// TestOpenRecoversFromACutRebuild: a crash between moving the live index
// aside and moving the new one in leaves DIR.old and DIR.next; opening
// brings the old index back and drops the half-finished one.
func TestOpenRecoversFromACutRebuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := OpenIndex(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Rebuild(context.Background(), entrySet("kept", 5), 7); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir+".next", "junk"), 0o700); err != nil {
		t.Fatal(err)
	}
	ix = mustOpen(t, dir)
	if rev, _ := ix.Revision(); rev != 7 {
		t.Errorf("revision after recovery = %d, want 7 (the old index back)", rev)
	}
	if n, _ := ix.DocCount(); n != 5 {
		t.Errorf("entries after recovery = %d, want 5", n)
	}
	if _, err := os.Stat(dir + ".next"); !os.IsNotExist(err) {
		t.Errorf("the half-built index is still there: %v", err)
	}
}
