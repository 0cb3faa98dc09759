package sqlite

import (
	"context"
	"fmt"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// RegressionCases returns the saved regression set in the order it was made.
func (s *Store) RegressionCases(ctx context.Context) ([]knowledge.RegressionCase, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, query, expected_id, locale, note, created_by, created_at
		FROM kb_regression ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: regression cases: %w", err)
	}
	defer rows.Close()
	out := []knowledge.RegressionCase{}
	for rows.Next() {
		var (
			c  knowledge.RegressionCase
			at string
		)
		if err := rows.Scan(&c.ID, &c.Query, &c.ExpectedID, &c.Locale, &c.Note, &c.CreatedBy, &at); err != nil {
			return nil, fmt.Errorf("sqlite: regression cases: %w", err)
		}
		if c.CreatedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: regression cases: %w", err)
	}
	return out, nil
}

// AddRegressionCase saves a case and returns it with its id.
func (s *Store) AddRegressionCase(ctx context.Context, c knowledge.RegressionCase) (knowledge.RegressionCase, error) {
	res, err := s.write.ExecContext(ctx, `INSERT INTO kb_regression (query, expected_id, locale, note, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, c.Query, c.ExpectedID, c.Locale, c.Note, c.CreatedBy, formatTime(c.CreatedAt))
	if err != nil {
		return c, fmt.Errorf("sqlite: add regression case: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return c, fmt.Errorf("sqlite: add regression case: %w", err)
	}
	return c, nil
}

// DeleteRegressionCase removes a case.
func (s *Store) DeleteRegressionCase(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM kb_regression WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete regression case %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: regression case %d: %w", id, knowledge.ErrNotFound)
	}
	return nil
}
