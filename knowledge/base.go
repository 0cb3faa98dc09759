package knowledge

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// EntryStore keeps entries and their versions. It is the source of truth;
// the index follows it by revision: a counter bumped by every change.
type EntryStore interface {
	// Entries returns every entry that is not deleted (enabled or not) and
	// the store's current revision.
	Entries(ctx context.Context) (entries []Entry, rev int64, err error)
	// SaveEntries saves an import in one transaction: each entry is
	// created, or updated when its content differs (a new version with
	// ActionImport, restoring it if it was deleted); with replace, every
	// other entry is deleted (softly).
	SaveEntries(ctx context.Context, entries []Entry, replace bool, by string) (SaveResult, error)
	// PutEntry applies one change (see Change) and returns the entry as
	// stored and the revision after it. A change that alters nothing makes
	// no version and returns changed false.
	PutEntry(ctx context.Context, c Change) (rec Record, rev int64, changed bool, err error)
	// Record returns one entry, deleted or not, or ErrNotFound.
	Record(ctx context.Context, id string) (Record, error)
	// Records lists entries matching f, and how many match in all.
	Records(ctx context.Context, f EntryFilter) (recs []Record, total int, err error)
	// Versions returns an entry's versions, newest first, or ErrNotFound.
	Versions(ctx context.Context, id string) ([]Version, error)
	// Facets returns the categories and tags in use by entries that are not
	// deleted, each with its count.
	Facets(ctx context.Context) (Facets, error)
}

// Change is one write to one entry.
type Change struct {
	Entry   Entry // normalised and validated
	Deleted bool
	Action  string // one of the Action constants
	By      string // who made it
	// BaseVersion is the version the change was made from: the write fails
	// with ErrConflict when the stored entry is at another version. Zero
	// means the entry must not exist yet (deleted ones count); AnyVersion
	// skips the check.
	BaseVersion int
	From        int // for ActionRollback: the version restored
}

// AnyVersion as Change.BaseVersion writes over whatever version is stored.
const AnyVersion = -1

// SaveResult counts what an import did.
type SaveResult struct {
	Revision   int64    `json:"revision"`
	Created    int      `json:"created"`
	Updated    int      `json:"updated"`
	Unchanged  int      `json:"unchanged"`
	Deleted    int      `json:"deleted"`
	DeletedIDs []string `json:"-"`
}

// Facets are the categories and tags in use, with how many entries use each.
type Facets struct {
	Categories []Facet `json:"categories"`
	Tags       []Facet `json:"tags"`
	Locales    []Facet `json:"locales"`
}

// Facet is one value in use and its count.
type Facet struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// GapStore counts the questions the bot did not answer well.
type GapStore interface {
	// RecordGap adds one occurrence of a normalised question (text, locale),
	// reopening it if it was resolved or dismissed.
	RecordGap(ctx context.Context, text, example string, ev GapEvent) error
	Gaps(ctx context.Context, f GapFilter) ([]Gap, error)
	Gap(ctx context.Context, id int64) (Gap, error)
	// SetGapStatus marks a gap resolved (to an entry) or dismissed, or
	// reopens it.
	SetGapStatus(ctx context.Context, id int64, status, entryID, by string) (Gap, error)
}

// RegressionStore keeps the saved regression set.
type RegressionStore interface {
	RegressionCases(ctx context.Context) ([]RegressionCase, error)
	AddRegressionCase(ctx context.Context, c RegressionCase) (RegressionCase, error)
	DeleteRegressionCase(ctx context.Context, id int64) error
}

// Store is everything the knowledge base keeps in storage.
type Store interface {
	EntryStore
	GapStore
	RegressionStore
	SettingStore
}

// Base is the knowledge base: entries with their versions in the store, the
// index that follows them, the saved regression set and the gaps report.
// Writes go to the store first, then to the index, so a search sees a
// change as soon as the write returns; Sync repairs an index that fell
// behind (a crash between the two, a corrupt index recreated empty).
type Base struct {
	store  Store
	ix     *Index
	logger *slog.Logger
	now    func() time.Time
	dense  *dense // nil: keyword search only (see UseEmbeddings)
	// answers caches keyword search results for repeated questions; an
	// index write makes every cached result stale (Index.generation).
	answers *answerCache

	mu sync.Mutex // serialises writes, so the index applies store revisions in order
}

// NewBase returns a Base over store and ix. A nil logger discards logs.
func NewBase(store Store, ix *Index, logger *slog.Logger) *Base {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Base{store: store, ix: ix, logger: logger, now: time.Now, answers: newAnswerCache(answerCacheSize)}
}

// Sync rebuilds the index from the store when the index's revision differs
// from the store's, or the index is empty while the store is not. Call it
// at start-up.
func (b *Base) Sync(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.loadSynonyms(ctx); err != nil {
		return fmt.Errorf("knowledge: sync: %w", err)
	}
	entries, rev, err := b.store.Entries(ctx)
	if err != nil {
		return fmt.Errorf("knowledge: sync: store entries: %w", err)
	}
	entries = searchable(entries)
	ixRev, err := b.ix.Revision()
	if err != nil {
		return fmt.Errorf("knowledge: sync: %w", err)
	}
	n, err := b.ix.DocCount()
	if err != nil {
		return fmt.Errorf("knowledge: sync: %w", err)
	}
	entries = Normalize(entries)
	if b.dense != nil {
		if err := b.dense.load(ctx, entries); err != nil {
			return fmt.Errorf("knowledge: sync: cached vectors: %w", err)
		}
	}
	if ixRev == rev && (n > 0 || len(entries) == 0) {
		b.logger.Debug("knowledge: index is up to date", "revision", rev, "entries", n)
		return nil
	}
	b.logger.Info("knowledge: rebuilding index from store",
		"index_revision", ixRev, "store_revision", rev, "index_entries", n, "store_entries", len(entries))
	if err := b.ix.Rebuild(ctx, entries, rev); err != nil {
		return fmt.Errorf("knowledge: sync: %w", err)
	}
	return nil
}

// Reindex rebuilds the whole index from the store (see Index.Rebuild).
func (b *Base) Reindex(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	entries, rev, err := b.store.Entries(ctx)
	if err != nil {
		return fmt.Errorf("knowledge: reindex: store entries: %w", err)
	}
	entries = Normalize(searchable(entries))
	if err := b.ix.Rebuild(ctx, entries, rev); err != nil {
		return fmt.Errorf("knowledge: reindex: %w", err)
	}
	if b.dense != nil {
		if err := b.dense.load(ctx, entries); err != nil {
			return fmt.Errorf("knowledge: reindex: cached vectors: %w", err)
		}
	}
	return nil
}

// searchable returns the entries search may answer with: the enabled ones.
func searchable(entries []Entry) []Entry {
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if !e.Disabled {
			out = append(out, e)
		}
	}
	return out
}

// Entries returns every entry that is not deleted, enabled or not, from
// the store.
func (b *Base) Entries(ctx context.Context) ([]Entry, error) {
	entries, _, err := b.store.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("knowledge: entries: %w", err)
	}
	return entries, nil
}

// Search searches the index (see Index.Search). With embeddings in use
// (UseEmbeddings), the keyword ranking is fused with the ranking by
// embedding similarity; if the question cannot be embedded in time, the
// keyword result stands alone.
func (b *Base) Search(ctx context.Context, q string, opts SearchOptions) (Result, error) {
	if b.dense == nil {
		return b.searchCached(ctx, q, opts)
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	wide := opts
	wide.Limit = max(limit, b.dense.cfg.Depth)
	lex, err := b.ix.Search(ctx, q, wide)
	if err != nil {
		return lex, err
	}
	locale, _ := NormalizeLocale(opts.Locale)
	qv, ok := b.dense.query(ctx, q)
	if !ok || len(lex.Hits) == 0 && !b.ix.searchable(q) {
		lex.Hits = lex.Hits[:min(limit, len(lex.Hits))]
		return lex, nil
	}
	return b.dense.fuse(b.ix, q, locale, lex, b.dense.top(qv, locale, opts), limit), nil
}

// searchCached is Index.Search through the answer cache: a question asked
// again with the same options, while the index is unchanged, gets the
// result computed the first time. A write to the index (an edit, import,
// delete, rebuild or synonym change) is seen by the next search.
func (b *Base) searchCached(ctx context.Context, q string, opts SearchOptions) (Result, error) {
	k, ok := answerKeyOf(q, opts)
	if !ok || b.answers == nil {
		return b.ix.Search(ctx, q, opts)
	}
	// The generation is read before searching, so a result computed from
	// an index a write has changed since is stored under the older
	// generation, which no later search asks for.
	gen := b.ix.generation()
	if res, hit := b.answers.get(gen, k); hit {
		return res, nil
	}
	res, err := b.ix.Search(ctx, q, opts)
	if err != nil {
		return res, err
	}
	b.answers.put(gen, k, res)
	return res, nil
}

// Facets returns the categories, tags and locales in use.
func (b *Base) Facets(ctx context.Context) (Facets, error) {
	f, err := b.store.Facets(ctx)
	if err != nil {
		return Facets{}, fmt.Errorf("knowledge: facets: %w", err)
	}
	return f, nil
}
