package knowledge

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Get returns one entry, deleted or not, or an error wrapping ErrNotFound.
func (b *Base) Get(ctx context.Context, id string) (Record, error) {
	r, err := b.store.Record(ctx, id)
	if err != nil {
		return Record{}, fmt.Errorf("knowledge: get %q: %w", id, err)
	}
	_, r.Flags = Sanitize(r.Entry)
	return r, nil
}

// List lists entries matching f and says how many match in all.
func (b *Base) List(ctx context.Context, f EntryFilter) ([]Record, int, error) {
	if f.Status == "" {
		f.Status = StatusActive
	}
	switch f.Status {
	case StatusActive, StatusEnabled, StatusDisabled, StatusDeleted, StatusAll:
	default:
		return nil, 0, invalid("status %q is not one of active, enabled, disabled, deleted, all", f.Status)
	}
	if f.Locale != "" {
		l, ok := NormalizeLocale(f.Locale)
		if !ok {
			return nil, 0, invalid("locale %q is not supported", f.Locale)
		}
		f.Locale = l
		if l == LocaleAny {
			f.Locale = localeAnyKey // entries for both locales
		}
	}
	if f.Limit <= 0 {
		f.Limit = DefaultPage
	}
	f.Limit = min(f.Limit, MaxPage)
	f.Offset = max(f.Offset, 0)
	recs, total, err := b.store.Records(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("knowledge: list: %w", err)
	}
	for i := range recs {
		_, recs[i].Flags = Sanitize(recs[i].Entry)
	}
	return recs, total, nil
}

// History returns an entry's versions, newest first.
func (b *Base) History(ctx context.Context, id string) ([]Version, error) {
	vs, err := b.store.Versions(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("knowledge: history of %q: %w", id, err)
	}
	return vs, nil
}

// Create adds a new entry as user by. It fails with a *FileError when the
// entry is not valid and with ErrExists when the id is taken (by a
// deleted entry too: restore that one instead).
func (b *Base) Create(ctx context.Context, e Entry, by string) (Record, error) {
	return b.put(ctx, "create", Change{Entry: e, Action: ActionCreate, By: by, BaseVersion: 0})
}

// Update replaces an entry's content as user by. baseVersion is the
// version the user edited; when the entry has changed since, Update fails
// with ErrConflict and changes nothing (AnyVersion skips the check).
// Saving unchanged content makes no version.
func (b *Base) Update(ctx context.Context, e Entry, baseVersion int, by string) (Record, error) {
	cur, err := b.Get(ctx, e.ID)
	if err != nil {
		return Record{}, err
	}
	action := ActionUpdate
	if cur.Disabled != e.Disabled && sameContent(withDisabled(cur.Entry, e.Disabled), e.Normalize()) {
		action = ActionEnable
		if e.Disabled {
			action = ActionDisable
		}
	}
	return b.put(ctx, "update", Change{Entry: e, Deleted: cur.Deleted, Action: action, By: by, BaseVersion: baseVersion})
}

func withDisabled(e Entry, d bool) Entry { e.Disabled = d; return e }

// SetDisabled disables or enables an entry: a disabled entry stays in the
// knowledge base but the bot no longer answers with it.
func (b *Base) SetDisabled(ctx context.Context, id string, disabled bool, by string) (Record, error) {
	cur, err := b.Get(ctx, id)
	if err != nil {
		return Record{}, err
	}
	action := ActionEnable
	if disabled {
		action = ActionDisable
	}
	return b.put(ctx, action, Change{Entry: withDisabled(cur.Entry, disabled), Deleted: cur.Deleted, Action: action,
		By: by, BaseVersion: cur.Version})
}

// Delete deletes an entry softly: it leaves search at once and can be
// restored with its whole history.
func (b *Base) Delete(ctx context.Context, id string, by string) (Record, error) {
	cur, err := b.Get(ctx, id)
	if err != nil {
		return Record{}, err
	}
	return b.put(ctx, "delete", Change{Entry: cur.Entry, Deleted: true, Action: ActionDelete, By: by, BaseVersion: cur.Version})
}

// Restore brings a deleted entry back as it was when deleted.
func (b *Base) Restore(ctx context.Context, id string, by string) (Record, error) {
	cur, err := b.Get(ctx, id)
	if err != nil {
		return Record{}, err
	}
	return b.put(ctx, "restore", Change{Entry: cur.Entry, Deleted: false, Action: ActionRestore, By: by, BaseVersion: cur.Version})
}

// Rollback makes the content of an earlier version the entry's current
// content, as a new version (history is never rewritten). A deleted entry
// is restored by it.
func (b *Base) Rollback(ctx context.Context, id string, version int, by string) (Record, error) {
	vs, err := b.History(ctx, id)
	if err != nil {
		return Record{}, err
	}
	i := slices.IndexFunc(vs, func(v Version) bool { return v.Version == version })
	if i < 0 {
		return Record{}, fmt.Errorf("knowledge: rollback %q: version %d: %w", id, version, ErrNotFound)
	}
	return b.put(ctx, "rollback", Change{Entry: vs[i].Entry, Action: ActionRollback, By: by,
		BaseVersion: vs[0].Version, From: version})
}

// put makes the entry safe content (Sanitize), validates and stores one
// change, then brings the index in step. The record returned carries the
// flags of the safe-content check.
func (b *Base) put(ctx context.Context, op string, c Change) (Record, error) {
	var flags []Flag
	c.Entry, flags = Sanitize(c.Entry)
	if err := Validate([]Entry{c.Entry}); err != nil {
		return Record{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	rec, rev, changed, err := b.store.PutEntry(ctx, c)
	if err != nil {
		return Record{}, fmt.Errorf("knowledge: %s %q: %w", op, c.Entry.ID, err)
	}
	rec.Flags = flags
	if !changed {
		return rec, nil
	}
	// The store has committed: finish the index update even if the caller
	// goes away, or the index stays behind until the next Sync.
	ictx := context.WithoutCancel(ctx)
	if rec.Searchable() {
		err = b.ix.Apply(ictx, []Entry{rec.Entry}, nil, rev)
	} else {
		err = b.ix.Apply(ictx, nil, []string{rec.ID}, rev)
	}
	if err != nil {
		return rec, fmt.Errorf("knowledge: %s %q: saved revision %d but the index update failed (Sync repairs it): %w", op, rec.ID, rev, err)
	}
	if b.dense != nil {
		if rec.Searchable() {
			b.dense.update([]Entry{rec.Entry}, nil)
		} else {
			b.dense.update(nil, []string{rec.ID})
		}
	}
	b.logger.Info("knowledge: entry changed", "id", rec.ID, "action", c.Action, "version", rec.Version, "by", c.By, "revision", rev)
	return rec, nil
}

// invalid is a *FileError with one problem, for bad arguments.
func invalid(format string, args ...any) error {
	return &FileError{Problems: []Problem{fileProblem(format, args...)}}
}

// IsInvalid reports whether err says the input was not valid (a
// *FileError): the caller's mistake, not the server's.
func IsInvalid(err error) bool {
	var fe *FileError
	return errors.As(err, &fe)
}
