package knowledge

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// Store is what knowledge needs from storage. The store is the source of
// truth; the index follows it by revision.
type Store interface {
	// Entries returns every entry and the store's current revision.
	Entries(ctx context.Context) (entries []Entry, rev int64, err error)
	// SaveEntries upserts entries in one transaction, first deleting every
	// existing entry when replace is true, and returns the new revision.
	SaveEntries(ctx context.Context, entries []Entry, replace bool) (rev int64, err error)
}

// Base keeps the index following the store: writes go to the store first,
// then to the index; Sync repairs the index when it fell behind (a crash
// between the two, a corrupt index recreated empty).
type Base struct {
	store  Store
	ix     *Index
	logger *slog.Logger

	mu sync.Mutex // serialises Sync and Import, so the index applies store revisions in order
}

// NewBase returns a Base over store and ix. A nil logger discards logs.
func NewBase(store Store, ix *Index, logger *slog.Logger) *Base {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Base{store: store, ix: ix, logger: logger}
}

// Sync rebuilds the index from the store when the index's revision differs
// from the store's, or the index is empty while the store is not. Call it
// at start-up.
func (b *Base) Sync(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	entries, rev, err := b.store.Entries(ctx)
	if err != nil {
		return fmt.Errorf("knowledge: sync: store entries: %w", err)
	}
	ixRev, err := b.ix.Revision()
	if err != nil {
		return fmt.Errorf("knowledge: sync: %w", err)
	}
	n, err := b.ix.DocCount()
	if err != nil {
		return fmt.Errorf("knowledge: sync: %w", err)
	}
	if ixRev == rev && (n > 0 || len(entries) == 0) {
		b.logger.Debug("knowledge: index is up to date", "revision", rev, "entries", n)
		return nil
	}
	b.logger.Info("knowledge: rebuilding index from store",
		"index_revision", ixRev, "store_revision", rev, "index_entries", n, "store_entries", len(entries))
	if err := b.ix.Rebuild(ctx, Normalize(entries), rev); err != nil {
		return fmt.Errorf("knowledge: sync: %w", err)
	}
	return nil
}

// Import normalises and validates entries (all-or-nothing; a *FileError
// lists every problem), saves them to the store (replacing every existing
// entry when replace is true) and then updates the index. If the index
// update fails the store still has the entries; the next Sync repairs the
// index.
func (b *Base) Import(ctx context.Context, entries []Entry, replace bool) error {
	entries = Normalize(entries)
	if err := Validate(entries); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	rev, err := b.store.SaveEntries(ctx, entries, replace)
	if err != nil {
		return fmt.Errorf("knowledge: import: save: %w", err)
	}
	// The store has committed: finish the index update even if the caller
	// goes away, or the index stays behind until the next Sync.
	ictx := context.WithoutCancel(ctx)
	if replace {
		err = b.ix.Rebuild(ictx, entries, rev)
	} else {
		err = b.ix.Apply(ictx, entries, nil, rev)
	}
	if err != nil {
		return fmt.Errorf("knowledge: import: saved revision %d but the index update failed (Sync repairs it): %w", rev, err)
	}
	b.logger.Info("knowledge: imported entries", "entries", len(entries), "replace", replace, "revision", rev)
	return nil
}

// Entries returns every entry, from the store.
func (b *Base) Entries(ctx context.Context) ([]Entry, error) {
	entries, _, err := b.store.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("knowledge: entries: %w", err)
	}
	return entries, nil
}

// Search searches the index (see Index.Search).
func (b *Base) Search(ctx context.Context, q string, opts SearchOptions) (Result, error) {
	return b.ix.Search(ctx, q, opts)
}
