package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

var _ knowledge.Store = (*Store)(nil)

const kbRevisionKey = "kb_revision"

// entryColumns are the columns scanEntry reads, in order.
const entryColumns = `id, locale, question, alternates, answer, category, tags, disabled, version, updated_by, updated_at, created_at, deleted_at`

func scanEntry(row rowScanner) (knowledge.Record, error) {
	var (
		r                             knowledge.Record
		alts, tags, upd, crt, deleted string
	)
	if err := row.Scan(&r.ID, &r.Locale, &r.Question, &alts, &r.Answer, &r.Category, &tags, &r.Disabled,
		&r.Version, &r.UpdatedBy, &upd, &crt, &deleted); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(alts), &r.Alternates); err != nil {
		return r, fmt.Errorf("entry %s alternates: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
		return r, fmt.Errorf("entry %s tags: %w", r.ID, err)
	}
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	var err error
	if r.UpdatedAt, err = parseTime(upd); err != nil {
		return r, err
	}
	if r.CreatedAt, err = parseTime(crt); err != nil {
		return r, err
	}
	r.Deleted = deleted != ""
	return r, nil
}

// Entries returns every entry that is not deleted, ordered by id, and the
// knowledge-base revision: a counter bumped by every change, which the
// search index records so it knows when it is stale.
func (s *Store) Entries(ctx context.Context) ([]knowledge.Entry, int64, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: entries: %w", err)
	}
	defer tx.Rollback()
	rev, err := revision(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+entryColumns+` FROM faq_entries WHERE deleted_at = '' ORDER BY id`)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: entries: %w", err)
	}
	defer rows.Close()
	var out []knowledge.Entry
	for rows.Next() {
		r, err := scanEntry(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: entries: %w", err)
		}
		out = append(out, r.Entry)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: entries: %w", err)
	}
	return out, rev, nil
}

// Record returns one entry, deleted or not.
func (s *Store) Record(ctx context.Context, id string) (knowledge.Record, error) {
	r, err := scanEntry(s.read.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM faq_entries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("sqlite: entry %q: %w", id, knowledge.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: entry %q: %w", id, err)
	}
	return r, nil
}

// Records lists entries matching f, newest change first, and counts all
// that match.
func (s *Store) Records(ctx context.Context, f knowledge.EntryFilter) ([]knowledge.Record, int, error) {
	var (
		where []string
		args  []any
	)
	switch f.Status {
	case knowledge.StatusEnabled:
		where = append(where, "deleted_at = '' AND disabled = 0")
	case knowledge.StatusDisabled:
		where = append(where, "deleted_at = '' AND disabled = 1")
	case knowledge.StatusDeleted:
		where = append(where, "deleted_at <> ''")
	case knowledge.StatusAll:
	default:
		where = append(where, "deleted_at = ''")
	}
	if f.Text != "" {
		like := "%" + escapeLike(strings.ToLower(f.Text)) + "%"
		where = append(where, `(lower(id) LIKE ? ESCAPE '\' OR lower(question) LIKE ? ESCAPE '\' OR lower(alternates) LIKE ? ESCAPE '\' OR lower(answer) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like, like)
	}
	switch f.Locale {
	case "":
	case "any": // entries for both locales
		where = append(where, "locale = ''")
	default:
		where = append(where, "locale = ?")
		args = append(args, f.Locale)
	}
	if f.Category != "" {
		where = append(where, "category = ?")
		args = append(args, f.Category)
	}
	if f.Tag != "" {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(faq_entries.tags) WHERE json_each.value = ?)")
		args = append(args, f.Tag)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list entries: %w", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM faq_entries`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list entries: count: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+entryColumns+` FROM faq_entries`+cond+` ORDER BY updated_at DESC, id LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list entries: %w", err)
	}
	defer rows.Close()
	var out []knowledge.Record
	for rows.Next() {
		r, err := scanEntry(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: list entries: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list entries: %w", err)
	}
	return out, total, nil
}

// escapeLike escapes the LIKE wildcards in s (with \ as the escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Versions returns an entry's versions, newest first.
func (s *Store) Versions(ctx context.Context, id string) ([]knowledge.Version, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT entry_id, version, action, from_version, locale, question, alternates, answer,
		category, tags, disabled, deleted, by, at FROM faq_versions WHERE entry_id = ? ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: versions of %q: %w", id, err)
	}
	defer rows.Close()
	var out []knowledge.Version
	for rows.Next() {
		var (
			v               knowledge.Version
			alts, tags, at  string
			disabled, isDel bool
		)
		if err := rows.Scan(&v.EntryID, &v.Version, &v.Action, &v.From, &v.Entry.Locale, &v.Entry.Question, &alts, &v.Entry.Answer,
			&v.Entry.Category, &tags, &disabled, &isDel, &v.By, &at); err != nil {
			return nil, fmt.Errorf("sqlite: versions of %q: %w", id, err)
		}
		v.Entry.ID, v.Entry.Disabled, v.Deleted = v.EntryID, disabled, isDel
		if err := json.Unmarshal([]byte(alts), &v.Entry.Alternates); err != nil {
			return nil, fmt.Errorf("sqlite: version %d of %q: alternates: %w", v.Version, id, err)
		}
		if err := json.Unmarshal([]byte(tags), &v.Entry.Tags); err != nil {
			return nil, fmt.Errorf("sqlite: version %d of %q: tags: %w", v.Version, id, err)
		}
		if len(v.Entry.Tags) == 0 {
			v.Entry.Tags = nil
		}
		if v.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: versions of %q: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sqlite: versions of %q: %w", id, knowledge.ErrNotFound)
	}
	return out, nil
}

// PutEntry applies one change to one entry in a transaction: the entry row
// and a new version row, and the revision bumped.
func (s *Store) PutEntry(ctx context.Context, c knowledge.Change) (knowledge.Record, int64, bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return knowledge.Record{}, 0, false, fmt.Errorf("sqlite: put entry: %w", err)
	}
	defer tx.Rollback()
	cur, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM faq_entries WHERE id = ?`, c.Entry.ID))
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return knowledge.Record{}, 0, false, fmt.Errorf("sqlite: put entry %q: %w", c.Entry.ID, err)
	}
	switch {
	case c.BaseVersion == 0 && exists:
		return knowledge.Record{}, 0, false, fmt.Errorf("sqlite: entry %q already exists: %w", c.Entry.ID, knowledge.ErrExists)
	case c.BaseVersion > 0 && !exists:
		return knowledge.Record{}, 0, false, fmt.Errorf("sqlite: entry %q: %w", c.Entry.ID, knowledge.ErrNotFound)
	case c.BaseVersion > 0 && cur.Version != c.BaseVersion:
		return knowledge.Record{}, 0, false, fmt.Errorf("sqlite: entry %q is at version %d, not %d: %w", c.Entry.ID, cur.Version, c.BaseVersion, knowledge.ErrConflict)
	}
	rev, err := revision(ctx, tx)
	if err != nil {
		return knowledge.Record{}, 0, false, err
	}
	if exists && cur.Deleted == c.Deleted && knowledge.SameContent(cur.Entry, c.Entry) {
		return cur, rev, false, nil
	}
	now := s.stamp()
	version := 1
	if exists {
		version = cur.Version + 1
	}
	if err := writeEntry(ctx, tx, c.Entry, c.Deleted, version, c.Action, c.From, c.By, now); err != nil {
		return knowledge.Record{}, 0, false, err
	}
	rev, err = bumpRevision(ctx, tx, rev)
	if err != nil {
		return knowledge.Record{}, 0, false, err
	}
	rec, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM faq_entries WHERE id = ?`, c.Entry.ID))
	if err != nil {
		return knowledge.Record{}, 0, false, fmt.Errorf("sqlite: put entry %q: read back: %w", c.Entry.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return knowledge.Record{}, 0, false, fmt.Errorf("sqlite: put entry %q: commit: %w", c.Entry.ID, err)
	}
	return rec, rev, true, nil
}

// writeEntry upserts the entry row at version and adds its version row.
func writeEntry(ctx context.Context, tx *sql.Tx, e knowledge.Entry, deleted bool, version int, action string, from int, by, now string) error {
	alts, err := json.Marshal(nonNil(e.Alternates))
	if err != nil {
		return fmt.Errorf("sqlite: save entry %s: %w", e.ID, err)
	}
	tags, err := json.Marshal(nonNil(e.Tags))
	if err != nil {
		return fmt.Errorf("sqlite: save entry %s: %w", e.ID, err)
	}
	deletedAt := ""
	if deleted {
		deletedAt = now
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO faq_entries
		(id, locale, question, alternates, answer, category, tags, disabled, version, updated_by, updated_at, created_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET locale = excluded.locale, question = excluded.question, alternates = excluded.alternates,
		answer = excluded.answer, category = excluded.category, tags = excluded.tags, disabled = excluded.disabled,
		version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at,
		deleted_at = excluded.deleted_at`,
		e.ID, e.Locale, e.Question, string(alts), e.Answer, e.Category, string(tags), e.Disabled, version, by, now, now, deletedAt); err != nil {
		return fmt.Errorf("sqlite: save entry %s: %w", e.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO faq_versions
		(entry_id, version, action, from_version, locale, question, alternates, answer, category, tags, disabled, deleted, by, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, version, action, from, e.Locale, e.Question, string(alts), e.Answer, e.Category, string(tags), e.Disabled, deleted, by, now); err != nil {
		return fmt.Errorf("sqlite: save entry %s: version %d: %w", e.ID, version, err)
	}
	return nil
}

// SaveEntries saves an import in one transaction: new entries are created,
// changed ones get a new version (deleted ones are restored), unchanged
// ones are left alone; with replace, every other entry is deleted softly.
func (s *Store) SaveEntries(ctx context.Context, entries []knowledge.Entry, replace bool, by string) (knowledge.SaveResult, error) {
	var res knowledge.SaveResult
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("sqlite: save entries: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+entryColumns+` FROM faq_entries`)
	if err != nil {
		return res, fmt.Errorf("sqlite: save entries: %w", err)
	}
	have := map[string]knowledge.Record{}
	for rows.Next() {
		r, err := scanEntry(rows)
		if err != nil {
			rows.Close()
			return res, fmt.Errorf("sqlite: save entries: %w", err)
		}
		have[r.ID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("sqlite: save entries: %w", err)
	}
	now := s.stamp()
	incoming := make(map[string]bool, len(entries))
	for _, e := range entries {
		incoming[e.ID] = true
		cur, ok := have[e.ID]
		version := 1
		switch {
		case !ok:
			res.Created++
		case !cur.Deleted && knowledge.SameContent(cur.Entry, e):
			res.Unchanged++
			continue
		case cur.Deleted:
			res.Created++
			version = cur.Version + 1
		default:
			res.Updated++
			version = cur.Version + 1
		}
		if err := writeEntry(ctx, tx, e, false, version, knowledge.ActionImport, 0, by, now); err != nil {
			return res, err
		}
	}
	if replace {
		ids := make([]string, 0, len(have))
		for id, r := range have {
			if !incoming[id] && !r.Deleted {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			r := have[id]
			if err := writeEntry(ctx, tx, r.Entry, true, r.Version+1, knowledge.ActionDelete, 0, by, now); err != nil {
				return res, err
			}
		}
		res.Deleted, res.DeletedIDs = len(ids), ids
	}
	rev, err := revision(ctx, tx)
	if err != nil {
		return res, err
	}
	if res.Created+res.Updated+res.Deleted > 0 {
		if rev, err = bumpRevision(ctx, tx, rev); err != nil {
			return res, err
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("sqlite: save entries: commit: %w", err)
	}
	res.Revision = rev
	return res, nil
}

// Facets counts the categories, tags and locales of entries not deleted.
func (s *Store) Facets(ctx context.Context) (knowledge.Facets, error) {
	var f knowledge.Facets
	for _, q := range []struct {
		dst   *[]knowledge.Facet
		query string
	}{
		{&f.Categories, `SELECT category, COUNT(*) FROM faq_entries WHERE deleted_at = '' AND category <> '' GROUP BY category ORDER BY category`},
		{&f.Tags, `SELECT json_each.value, COUNT(*) FROM faq_entries, json_each(faq_entries.tags)
			WHERE deleted_at = '' GROUP BY json_each.value ORDER BY json_each.value`},
		{&f.Locales, `SELECT locale, COUNT(*) FROM faq_entries WHERE deleted_at = '' GROUP BY locale ORDER BY locale`},
	} {
		rows, err := s.read.QueryContext(ctx, q.query)
		if err != nil {
			return f, fmt.Errorf("sqlite: facets: %w", err)
		}
		*q.dst = []knowledge.Facet{}
		for rows.Next() {
			var v knowledge.Facet
			if err := rows.Scan(&v.Value, &v.Count); err != nil {
				rows.Close()
				return f, fmt.Errorf("sqlite: facets: %w", err)
			}
			*q.dst = append(*q.dst, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return f, fmt.Errorf("sqlite: facets: %w", err)
		}
	}
	return f, nil
}

func revision(ctx context.Context, tx *sql.Tx) (int64, error) {
	var v string
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, kbRevisionKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: kb revision: %w", err)
	}
	rev, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sqlite: kb revision %q: %w", v, err)
	}
	return rev, nil
}

// bumpRevision stores rev+1 as the knowledge-base revision and returns it.
func bumpRevision(ctx context.Context, tx *sql.Tx, rev int64) (int64, error) {
	rev++
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, kbRevisionKey, strconv.FormatInt(rev, 10)); err != nil {
		return 0, fmt.Errorf("sqlite: kb revision: %w", err)
	}
	return rev, nil
}
