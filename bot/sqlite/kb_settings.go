package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Setting returns a knowledge-base setting (a JSON document) with who saved
// it when; found is false when it was never saved.
func (s *Store) Setting(ctx context.Context, key string) (value []byte, by string, at time.Time, found bool, err error) {
	var v, when string
	err = s.read.QueryRowContext(ctx, `SELECT value, updated_by, updated_at FROM kb_settings WHERE key = ?`, key).Scan(&v, &by, &when)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", time.Time{}, false, nil
	}
	if err != nil {
		return nil, "", time.Time{}, false, fmt.Errorf("sqlite: setting %s: %w", key, err)
	}
	at, err = parseTime(when)
	return []byte(v), by, at, true, err
}

// SaveSetting stores a knowledge-base setting, recording who saved it.
func (s *Store) SaveSetting(ctx context.Context, key string, value []byte, by string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO kb_settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		key, string(value), by, s.stamp())
	if err != nil {
		return fmt.Errorf("sqlite: save setting %s: %w", key, err)
	}
	return nil
}
