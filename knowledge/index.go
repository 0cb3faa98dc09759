package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"go.etcd.io/bbolt"
)

// Keys in bleve's internal storage.
var (
	keyRevision = []byte("xiaoer:revision")
	keySchema   = []byte("xiaoer:schema")
)

// lockTimeout bounds how long OpenIndex waits for the index lock held by
// another process (bleve waits forever by default). A locked index is
// reported, never treated as corrupt.
const lockTimeout = "2s"

// Index is the FAQ index on disk (a bleve scorch index). Its methods are
// safe for concurrent use; writes (Rebuild, Apply) are serialised.
type Index struct {
	dir    string
	mem    bool // held in memory, not on disk
	logger *slog.Logger
	cfg    indexConfig

	analyzer analysis.Analyzer // the index analyzer, for query terms and phrasings
	function map[string]bool   // terms of the kept stop words (functionTerms)

	writeMu sync.Mutex // serialises Rebuild and Apply

	mu     sync.RWMutex // guards idx against Close; held for reading by every operation
	idx    bleve.Index
	closed bool

	statsMu  sync.Mutex
	stats    *termStats // document frequencies for Confidence; nil when stale
	statsGen uint64     // bumped by every write, so a stale build is not cached

	synonyms atomic.Pointer[synonymSet] // applied to queries; swapped whole by SetSynonyms

	// gen counts changes that can change a search result: every write
	// (after it is applied) and every synonym change. See generation.
	gen atomic.Uint64
}

// ErrClosed is returned by Index methods called after Close.
var ErrClosed = errors.New("knowledge: index is closed")

// OpenIndex opens the index in dir, creating it (and dir) when missing. If
// the index there is corrupt, unreadable or was built with another mapping,
// dir is removed and an empty index created (and logged): its Revision is
// then 0, so Base.Sync rebuilds it from the store. An index locked by
// another process is an error.
func OpenIndex(dir string, logger *slog.Logger) (*Index, error) {
	return openIndex(dir, logger, defaultConfig())
}

func openIndex(dir string, logger *slog.Logger, cfg indexConfig) (*Index, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("index", dir)
	m, err := newMapping(cfg)
	if err != nil {
		return nil, fmt.Errorf("knowledge: open index %s: mapping: %w", dir, err)
	}
	a := m.AnalyzerNamed(cfg.Analyzer)
	ix := &Index{dir: dir, logger: logger, cfg: cfg, analyzer: a, function: functionTerms(a)}
	if err := ix.SetSynonyms(cfg.Synonyms); err != nil {
		return nil, fmt.Errorf("knowledge: open index %s: %w", dir, err)
	}
	if err := cleanRebuildLeftovers(dir); err != nil {
		return nil, fmt.Errorf("knowledge: open index: %w", err)
	}

	if empty, err := dirEmpty(dir); err != nil {
		return nil, fmt.Errorf("knowledge: open index: %w", err)
	} else if empty {
		if err := os.RemoveAll(dir); err != nil { // bleve.New wants to create dir itself
			return nil, fmt.Errorf("knowledge: open index: %w", err)
		}
		return ix.create()
	}

	idx, err := bleve.OpenUsing(dir, map[string]any{"bolt_timeout": lockTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("knowledge: open index %s: locked by another process: %w", dir, err)
	}
	if err == nil {
		schema, gerr := idx.GetInternal(keySchema)
		if gerr == nil && string(schema) == cfg.schema() {
			ix.idx = idx
			return ix, nil
		}
		if cerr := idx.Close(); cerr != nil {
			logger.Warn("knowledge: close index before recreating it", "err", cerr)
		}
		if gerr != nil {
			err = gerr
		} else {
			logger.Info("knowledge: index was built with another mapping; recreating it empty",
				"have", string(schema), "want", cfg.schema())
			return ix.recreate()
		}
	}
	logger.Warn("knowledge: index is corrupt or unreadable; removing it and creating it empty (rebuild from the store follows)",
		"err", err)
	return ix.recreate()
}

// OpenMemIndex returns an empty index held in memory, configured like the
// indexes OpenIndex opens: for measuring (xiaoer kb eval) without touching
// the index on disk.
func OpenMemIndex(logger *slog.Logger) (*Index, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return (&Index{logger: logger, cfg: defaultConfig()}).newMemIndex()
}

// newMemIndex returns an empty index held in memory with the same mapping
// and configuration as ix, for trying out a change (an import against the
// regression set) without touching the index on disk.
func (ix *Index) newMemIndex() (*Index, error) {
	m, err := newMapping(ix.cfg)
	if err != nil {
		return nil, fmt.Errorf("knowledge: memory index: mapping: %w", err)
	}
	idx, err := bleve.NewMemOnly(m)
	if err != nil {
		return nil, fmt.Errorf("knowledge: memory index: %w", err)
	}
	a := m.AnalyzerNamed(ix.cfg.Analyzer)
	mem := &Index{dir: "(memory)", mem: true, logger: ix.logger, cfg: ix.cfg, analyzer: a, function: functionTerms(a), idx: idx}
	if set := ix.synonyms.Load(); set != nil {
		mem.synonyms.Store(set) // compiled sets are immutable: share it
	} else if err := mem.SetSynonyms(ix.cfg.Synonyms); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("knowledge: memory index: %w", err)
	}
	return mem, nil
}

func (ix *Index) recreate() (*Index, error) {
	if err := os.RemoveAll(ix.dir); err != nil {
		return nil, fmt.Errorf("knowledge: remove corrupt index %s: %w", ix.dir, err)
	}
	return ix.create()
}

func (ix *Index) create() (*Index, error) {
	im, err := newMapping(ix.cfg)
	if err != nil {
		return nil, fmt.Errorf("knowledge: create index %s: mapping: %w", ix.dir, err)
	}
	idx, err := bleve.New(ix.dir, im)
	if err != nil {
		return nil, fmt.Errorf("knowledge: create index %s: %w", ix.dir, err)
	}
	if err := idx.SetInternal(keySchema, []byte(ix.cfg.schema())); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("knowledge: create index %s: %w", ix.dir, err)
	}
	ix.idx = idx
	return ix, nil
}

// cleanRebuildLeftovers tidies up after a Rebuild that a crash cut short:
// if the index was moved aside and the new one not yet into place, the old
// one goes back (Base.Sync then brings it up to date); a half-built new one
// is removed.
func cleanRebuildLeftovers(dir string) error {
	prev := dir + ".old"
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(prev); err == nil {
			if err := os.Rename(prev, dir); err != nil {
				return err
			}
		}
	}
	if err := os.RemoveAll(prev); err != nil {
		return err
	}
	return os.RemoveAll(dir + ".next")
}

// dirEmpty reports whether dir is missing or has no entries.
func dirEmpty(dir string) (bool, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return len(des) == 0, nil
}

// Close closes the index. It is idempotent; other methods return ErrClosed
// afterwards.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	if err := ix.idx.Close(); err != nil {
		return fmt.Errorf("knowledge: close index %s: %w", ix.dir, err)
	}
	return nil
}

// open returns the bleve index for an operation, with ix.mu read-locked;
// the caller must call ix.mu.RUnlock when it gets no error.
func (ix *Index) open() (bleve.Index, error) {
	ix.mu.RLock()
	if ix.closed {
		ix.mu.RUnlock()
		return nil, ErrClosed
	}
	return ix.idx, nil
}

// Revision returns the store revision the index was last synced to, or 0
// for a new index.
func (ix *Index) Revision() (int64, error) {
	idx, err := ix.open()
	if err != nil {
		return 0, err
	}
	defer ix.mu.RUnlock()
	b, err := idx.GetInternal(keyRevision)
	if err != nil {
		return 0, fmt.Errorf("knowledge: index revision: %w", err)
	}
	if len(b) == 0 {
		return 0, nil
	}
	rev, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("knowledge: index revision %q: %w", b, err)
	}
	return rev, nil
}

// DocCount returns how many entries the index holds.
func (ix *Index) DocCount() (int, error) {
	idx, err := ix.open()
	if err != nil {
		return 0, err
	}
	defer ix.mu.RUnlock()
	n, err := idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("knowledge: index doc count: %w", err)
	}
	return int(n), nil
}

// rebuildBatch is how many entries Rebuild indexes per bleve batch, which
// bounds the memory a rebuild of a large knowledge base takes.
const rebuildBatch = 2000

// Rebuild replaces every entry in the index with entries and records rev.
// The new index is built beside the live one (in memory for a memory
// index, in DIR.next on disk) while searches go on against the old one,
// then swapped in at once: a search sees either the old entries or the
// new ones, never a half-built index.
func (ix *Index) Rebuild(ctx context.Context, entries []Entry, rev int64) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("knowledge: rebuild: %w", err)
	}
	m, err := newMapping(ix.cfg)
	if err != nil {
		return fmt.Errorf("knowledge: rebuild: mapping: %w", err)
	}
	next := ix.dir + ".next"
	var idx bleve.Index
	if ix.mem {
		idx, err = bleve.NewMemOnly(m)
	} else {
		if err := os.RemoveAll(next); err != nil {
			return fmt.Errorf("knowledge: rebuild: %w", err)
		}
		idx, err = bleve.New(next, m)
	}
	if err != nil {
		return fmt.Errorf("knowledge: rebuild: %w", err)
	}
	fail := func(err error) error {
		_ = idx.Close()
		if !ix.mem {
			_ = os.RemoveAll(next)
		}
		return fmt.Errorf("knowledge: rebuild: %w", err)
	}
	for start := 0; start < len(entries); start += rebuildBatch {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		b := idx.NewBatch()
		for _, e := range entries[start:min(start+rebuildBatch, len(entries))] {
			if err := b.Index(e.ID, ix.toDoc(e)); err != nil {
				return fail(fmt.Errorf("index %q: %w", e.ID, err))
			}
		}
		if err := idx.Batch(b); err != nil {
			return fail(err)
		}
	}
	if err := compact(ctx, idx); err != nil {
		return fail(err)
	}
	b := idx.NewBatch()
	b.SetInternal(keySchema, []byte(ix.cfg.schema()))
	b.SetInternal(keyRevision, []byte(strconv.FormatInt(rev, 10)))
	if err := idx.Batch(b); err != nil {
		return fail(err)
	}
	if err := ix.swap(idx, next); err != nil {
		return fmt.Errorf("knowledge: rebuild: %w", err)
	}
	ix.logger.Info("knowledge: index rebuilt", "entries", len(entries), "revision", rev)
	return nil
}

// swap makes idx, built in dir next (ignored for a memory index), the live
// index, and closes and removes the old one. Searches wait during the swap.
func (ix *Index) swap(idx bleve.Index, next string) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	defer ix.invalidate()
	if ix.closed {
		_ = idx.Close()
		return ErrClosed
	}
	old := ix.idx
	if ix.mem {
		ix.idx = idx
		return old.Close()
	}
	// bleve keeps its path open, so the new index is closed, moved into
	// place and opened again.
	if err := idx.Close(); err != nil {
		return err
	}
	if err := old.Close(); err != nil {
		ix.logger.Warn("knowledge: close the old index", "err", err)
	}
	prev := ix.dir + ".old"
	if err := os.RemoveAll(prev); err != nil {
		return err
	}
	if err := os.Rename(ix.dir, prev); err != nil {
		return err
	}
	if err := os.Rename(next, ix.dir); err != nil {
		_ = os.Rename(prev, ix.dir)
		return err
	}
	opened, err := bleve.OpenUsing(ix.dir, map[string]any{"bolt_timeout": lockTimeout})
	if err != nil {
		// Fall back to the old index rather than leave none.
		_ = os.RemoveAll(ix.dir)
		if rerr := os.Rename(prev, ix.dir); rerr == nil {
			if back, berr := bleve.OpenUsing(ix.dir, map[string]any{"bolt_timeout": lockTimeout}); berr == nil {
				ix.idx = back
			}
		}
		return fmt.Errorf("open the new index: %w", err)
	}
	ix.idx = opened
	if err := os.RemoveAll(prev); err != nil {
		ix.logger.Warn("knowledge: remove the old index", "dir", prev, "err", err)
	}
	return nil
}

// Apply upserts and deletes entries and records rev, in one batch.
// Deleting an id that is not indexed is not an error.
func (ix *Index) Apply(ctx context.Context, upsert []Entry, deleteIDs []string, rev int64) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	idx, err := ix.open()
	if err != nil {
		return err
	}
	defer ix.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("knowledge: apply: %w", err)
	}
	b := idx.NewBatch()
	for _, id := range deleteIDs {
		b.Delete(id)
	}
	for _, e := range upsert {
		if err := b.Index(e.ID, ix.toDoc(e)); err != nil {
			return fmt.Errorf("knowledge: apply: index %q: %w", e.ID, err)
		}
	}
	b.SetInternal(keyRevision, []byte(strconv.FormatInt(rev, 10)))
	err = idx.Batch(b)
	ix.invalidate()
	if err != nil {
		return fmt.Errorf("knowledge: apply: %w", err)
	}
	return nil
}

// toDoc is the bleve document for e.
func (ix *Index) toDoc(e Entry) map[string]any {
	js, _ := json.Marshal(e) // cannot fail: strings only
	loc := e.Locale
	if loc == "" {
		loc = localeAnyKey
	}
	alts := e.Alternates
	if alts == nil {
		alts = []string{}
	}
	return map[string]any{
		fieldAnswer:    e.Answer,
		fieldPhrasings: append([]string{e.Question}, alts...),
		fieldCategory:  e.Category,
		fieldLocale:    loc,
		fieldTags:      nonNilStrings(e.Tags),
		fieldEntry:     string(js),
		fieldTerms:     ix.phrasingTerms(e),
	}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// fromStored decodes the entry JSON stored with a hit.
func fromStored(v any) (Entry, error) {
	s, ok := v.(string)
	if !ok {
		return Entry{}, fmt.Errorf("stored entry is %T, want string", v)
	}
	var e Entry
	err := json.NewDecoder(strings.NewReader(s)).Decode(&e)
	return e, err
}

// compact merges a freshly built scorch index into one segment. Rebuild
// indexes in batches of rebuildBatch entries, each a segment of its own
// (50 at 100k entries); every search term is then looked up in every
// segment, and scorch would go on merging them in the background, taking
// CPU from searches, for a while after the swap. Merging once, before the
// index goes live, avoids both. The merged layout is persisted by the next
// batch (which waits for persistence). Memory indexes (upsidedown) have no
// segments and are left alone.
func compact(ctx context.Context, idx bleve.Index) error {
	adv, err := idx.Advanced()
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	s, ok := adv.(interface {
		ForceMerge(context.Context, *mergeplan.MergePlanOptions) error
		StatsMap() map[string]any
	})
	if !ok {
		return nil
	}
	// One merge task takes every segment: merging 50 segments at once
	// writes the postings once, where the default of 10 per task writes
	// them twice.
	opts := mergeplan.SingleSegmentMergePlanOptions
	opts.SegmentsPerMergeTask = 1 << 20
	for range 4 { // one pass merges all; a second catches a segment a merge was racing with
		if rootSegments(s.StatsMap()) <= 1 {
			return nil
		}
		if err := s.ForceMerge(ctx, &opts); err != nil {
			return fmt.Errorf("compact: %w", err)
		}
	}
	return nil
}

// rootSegments reads the number of segments a scorch index's live snapshot
// has from its stats.
func rootSegments(stats map[string]any) uint64 {
	var n uint64
	for _, k := range []string{"TotFileSegmentsAtRoot", "TotMemorySegmentsAtRoot"} {
		if v, ok := stats[k].(uint64); ok {
			n += v
		}
	}
	return n
}
