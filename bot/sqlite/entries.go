package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

var _ knowledge.Store = (*Store)(nil)

const kbRevisionKey = "kb_revision"

// Entries returns every FAQ entry ordered by id, and the knowledge-base
// revision: a counter bumped by every change, which the search index records
// so it knows when it is stale.
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
	rows, err := tx.QueryContext(ctx, `SELECT id, locale, question, alternates, answer, category FROM faq_entries ORDER BY id`)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: entries: %w", err)
	}
	defer rows.Close()
	var out []knowledge.Entry
	for rows.Next() {
		var e knowledge.Entry
		var alts string
		if err := rows.Scan(&e.ID, &e.Locale, &e.Question, &alts, &e.Answer, &e.Category); err != nil {
			return nil, 0, fmt.Errorf("sqlite: entries: %w", err)
		}
		if err := json.Unmarshal([]byte(alts), &e.Alternates); err != nil {
			return nil, 0, fmt.Errorf("sqlite: entry %s alternates: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: entries: %w", err)
	}
	return out, rev, nil
}

// SaveEntries creates or replaces entries in one transaction; with replace,
// every existing entry is deleted first. It returns the new revision.
func (s *Store) SaveEntries(ctx context.Context, entries []knowledge.Entry, replace bool) (int64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: save entries: %w", err)
	}
	defer tx.Rollback()
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM faq_entries`); err != nil {
			return 0, fmt.Errorf("sqlite: save entries: clear: %w", err)
		}
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO faq_entries (id, locale, question, alternates, answer, category, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET locale = excluded.locale, question = excluded.question, alternates = excluded.alternates,
		answer = excluded.answer, category = excluded.category, updated_at = excluded.updated_at`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: save entries: %w", err)
	}
	defer stmt.Close()
	now := s.stamp()
	for _, e := range entries {
		alts, err := json.Marshal(nonNil(e.Alternates))
		if err != nil {
			return 0, fmt.Errorf("sqlite: save entry %s: %w", e.ID, err)
		}
		if _, err := stmt.ExecContext(ctx, e.ID, e.Locale, e.Question, string(alts), e.Answer, e.Category, now); err != nil {
			return 0, fmt.Errorf("sqlite: save entry %s: %w", e.ID, err)
		}
	}
	rev, err := revision(ctx, tx)
	if err != nil {
		return 0, err
	}
	rev++
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, kbRevisionKey, strconv.FormatInt(rev, 10)); err != nil {
		return 0, fmt.Errorf("sqlite: save entries: revision: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: save entries: commit: %w", err)
	}
	return rev, nil
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
