package knowledge

import (
	"context"
	"errors"
	"fmt"
)

// ImportOptions says how to import.
type ImportOptions struct {
	// Replace deletes (softly) every entry the import does not contain.
	Replace bool
	// By is who imports, recorded on each version made.
	By string
	// DryRun checks the import against the saved regression set and
	// counts what it would change, without writing anything.
	DryRun bool
	// SkipRegression imports even if the saved regression set gets worse
	// (the CLI's --force). The admin API never sets it.
	SkipRegression bool
}

// ImportReport says what an import did, or would do on a dry run.
type ImportReport struct {
	Entries   int  `json:"entries"` // in the file
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	Deleted   int  `json:"deleted"`
	DryRun    bool `json:"dry_run"`
	Revision  int64
	// Before and After are the saved regression set run against the
	// current entries and against the entries as the import leaves them;
	// nil when the set is empty or was skipped.
	Before *RegressionReport `json:"regression_before,omitempty"`
	After  *RegressionReport `json:"regression_after,omitempty"`
}

// Import saves entries all or nothing: they are normalised and validated
// (a *FileError lists every problem), the saved regression set is run
// against the entries as the import would leave them, in an index held in
// memory, and the import is refused with a *RegressionError when that set
// gets worse. Then the entries are saved to the store (a new version for
// each one that changed) and the index follows.
func (b *Base) Import(ctx context.Context, entries []Entry, opts ImportOptions) (ImportReport, error) {
	entries = Normalize(entries)
	rep := ImportReport{Entries: len(entries), DryRun: opts.DryRun}
	if err := Validate(entries); err != nil {
		return rep, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	current, rev, err := b.store.Entries(ctx)
	if err != nil {
		return rep, fmt.Errorf("knowledge: import: %w", err)
	}
	after := planImport(&rep, current, entries, opts.Replace)

	if !opts.SkipRegression {
		if err := b.checkRegression(ctx, &rep, searchable(after)); err != nil {
			return rep, err
		}
	}
	if opts.DryRun {
		rep.Revision = rev
		return rep, nil
	}
	res, err := b.store.SaveEntries(ctx, entries, opts.Replace, opts.By)
	if err != nil {
		return rep, fmt.Errorf("knowledge: import: save: %w", err)
	}
	rep.Created, rep.Updated, rep.Unchanged, rep.Deleted, rep.Revision = res.Created, res.Updated, res.Unchanged, res.Deleted, res.Revision
	// The store has committed: finish the index update even if the caller
	// goes away, or the index stays behind until the next Sync.
	ictx := context.WithoutCancel(ctx)
	if opts.Replace {
		live := searchable(after)
		err = b.ix.Rebuild(ictx, live, res.Revision)
		if err == nil && b.dense != nil {
			err = b.dense.load(ictx, live)
		}
	} else {
		var upsert []Entry
		var drop []string
		for _, e := range entries {
			if e.Disabled {
				drop = append(drop, e.ID)
			} else {
				upsert = append(upsert, e)
			}
		}
		err = b.ix.Apply(ictx, upsert, drop, res.Revision)
		if b.dense != nil {
			b.dense.update(upsert, drop)
		}
	}
	if err != nil {
		return rep, fmt.Errorf("knowledge: import: saved revision %d but the index update failed (Sync repairs it): %w", res.Revision, err)
	}
	b.logger.Info("knowledge: imported entries", "entries", len(entries), "created", res.Created, "updated", res.Updated,
		"deleted", res.Deleted, "replace", opts.Replace, "by", opts.By, "revision", res.Revision)
	return rep, nil
}

// planImport counts what importing entries over current would do, and
// returns the entries that would then exist (not deleted).
func planImport(rep *ImportReport, current, entries []Entry, replace bool) []Entry {
	have := make(map[string]Entry, len(current))
	for _, e := range current {
		have[e.ID] = e.Normalize()
	}
	incoming := make(map[string]bool, len(entries))
	for _, e := range entries {
		incoming[e.ID] = true
		old, ok := have[e.ID]
		switch {
		case !ok:
			rep.Created++
		case sameContent(old, e):
			rep.Unchanged++
		default:
			rep.Updated++
		}
	}
	after := make([]Entry, 0, len(current)+rep.Created)
	for _, e := range current {
		switch {
		case incoming[e.ID]:
		case replace:
			rep.Deleted++
		default:
			after = append(after, e)
		}
	}
	return append(after, entries...)
}

// checkRegression runs the saved set against the live index and against
// an in-memory index of candidate, recording both in rep; it returns a
// *RegressionError when the candidate does worse.
func (b *Base) checkRegression(ctx context.Context, rep *ImportReport, candidate []Entry) error {
	cases, err := b.store.RegressionCases(ctx)
	if err != nil {
		return fmt.Errorf("knowledge: import: regression set: %w", err)
	}
	if len(cases) == 0 {
		return nil
	}
	before, err := runCases(ctx, b.ix, cases)
	if err != nil {
		return fmt.Errorf("knowledge: import: %w", err)
	}
	mem, err := b.ix.newMemIndex()
	if err != nil {
		return fmt.Errorf("knowledge: import: %w", err)
	}
	defer mem.Close()
	if err := mem.Rebuild(ctx, candidate, 0); err != nil {
		return fmt.Errorf("knowledge: import: trial index: %w", err)
	}
	after, err := runCases(ctx, mem, cases)
	if err != nil {
		return fmt.Errorf("knowledge: import: %w", err)
	}
	rep.Before, rep.After = &before, &after
	return compareRuns(before, after)
}

// IsRegression reports whether err refused a change for making the saved
// regression set worse, and returns the details.
func IsRegression(err error) (*RegressionError, bool) {
	var re *RegressionError
	ok := errors.As(err, &re)
	return re, ok
}
