package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// gapColumns are the columns scanGap reads, from kb_gaps joined with the
// best candidate's entry (which may be gone).
const gapColumns = `kb_gaps.id, text, kb_gaps.locale, example, count, unanswered, thumbs_down, handoff, first_seen, last_seen,
	best_id, COALESCE(faq_entries.question, ''), best_confidence, status, resolved_to, resolved_by, resolved_at`

const gapFrom = ` FROM kb_gaps LEFT JOIN faq_entries ON faq_entries.id = kb_gaps.best_id AND faq_entries.deleted_at = ''`

func scanGap(row rowScanner) (knowledge.Gap, error) {
	var (
		g                     knowledge.Gap
		first, last, resolved string
	)
	if err := row.Scan(&g.ID, &g.Text, &g.Locale, &g.Example, &g.Count, &g.Unanswered, &g.ThumbsDown, &g.Handoff,
		&first, &last, &g.BestID, &g.BestQuestion, &g.BestConfidence, &g.Status, &g.ResolvedTo, &g.ResolvedBy, &resolved); err != nil {
		return g, err
	}
	var err error
	if g.FirstSeen, err = parseTime(first); err != nil {
		return g, err
	}
	if g.LastSeen, err = parseTime(last); err != nil {
		return g, err
	}
	if g.ResolvedAt, err = parseTime(resolved); err != nil {
		return g, err
	}
	return g, nil
}

// RecordGap counts one more occurrence of a normalised question: a new row
// the first time, else the counts, the latest wording, the last seen time
// and the best candidate are updated, and a resolved or dismissed gap is
// reopened (it was asked again, so it is not answered yet).
func (s *Store) RecordGap(ctx context.Context, text, example string, ev knowledge.GapEvent) error {
	var un, td, ho int
	switch ev.Reason {
	case knowledge.GapUnanswered:
		un = 1
	case knowledge.GapThumbsDown:
		td = 1
	case knowledge.GapHandoff:
		ho = 1
	}
	at := formatTime(ev.At)
	_, err := s.write.ExecContext(ctx, `INSERT INTO kb_gaps
		(text, locale, example, count, unanswered, thumbs_down, handoff, first_seen, last_seen, best_id, best_confidence)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (text, locale) DO UPDATE SET
		  example = excluded.example, count = count + 1,
		  unanswered = unanswered + excluded.unanswered, thumbs_down = thumbs_down + excluded.thumbs_down,
		  handoff = handoff + excluded.handoff, last_seen = excluded.last_seen,
		  best_id = CASE WHEN excluded.best_id <> '' THEN excluded.best_id ELSE best_id END,
		  best_confidence = CASE WHEN excluded.best_id <> '' THEN excluded.best_confidence ELSE best_confidence END,
		  status = 'open'`,
		text, ev.Locale, example, un, td, ho, at, at, ev.BestID, ev.BestConfidence)
	if err != nil {
		return fmt.Errorf("sqlite: record gap: %w", err)
	}
	return nil
}

// Gaps lists gaps with the filter's status, most asked first.
func (s *Store) Gaps(ctx context.Context, f knowledge.GapFilter) ([]knowledge.Gap, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != knowledge.StatusAll {
		where = append(where, "kb_gaps.status = ?")
		args = append(args, f.Status)
	}
	if f.Locale != "" {
		where = append(where, "kb_gaps.locale = ?")
		args = append(args, f.Locale)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+gapColumns+gapFrom+cond+
		` ORDER BY count DESC, last_seen DESC, kb_gaps.id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: gaps: %w", err)
	}
	defer rows.Close()
	out := []knowledge.Gap{}
	for rows.Next() {
		g, err := scanGap(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: gaps: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: gaps: %w", err)
	}
	return out, nil
}

// Gap returns one gap.
func (s *Store) Gap(ctx context.Context, id int64) (knowledge.Gap, error) {
	g, err := scanGap(s.read.QueryRowContext(ctx, `SELECT `+gapColumns+gapFrom+` WHERE kb_gaps.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("sqlite: gap %d: %w", id, knowledge.ErrNotFound)
	}
	if err != nil {
		return g, fmt.Errorf("sqlite: gap %d: %w", id, err)
	}
	return g, nil
}

// SetGapStatus sets a gap's status, with the entry it was resolved to.
func (s *Store) SetGapStatus(ctx context.Context, id int64, status, entryID, by string) (knowledge.Gap, error) {
	at := ""
	if status != knowledge.GapOpen {
		at = s.stamp()
	} else {
		by = ""
	}
	res, err := s.write.ExecContext(ctx, `UPDATE kb_gaps SET status = ?, resolved_to = ?, resolved_by = ?, resolved_at = ? WHERE id = ?`,
		status, entryID, by, at, id)
	if err != nil {
		return knowledge.Gap{}, fmt.Errorf("sqlite: set gap %d status: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return knowledge.Gap{}, fmt.Errorf("sqlite: gap %d: %w", id, knowledge.ErrNotFound)
	}
	return s.Gap(ctx, id)
}
