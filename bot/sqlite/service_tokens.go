package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// ServiceToken is a service token's record; the token itself is never stored.
type ServiceToken struct {
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when never used
	RevokedAt  time.Time // zero while live
}

// CreateServiceToken stores a new token's hash under name. A name already
// taken (even by a revoked token) gives bot.ErrConflict.
func (s *Store) CreateServiceToken(ctx context.Context, name, hash string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO service_tokens (name, hash, created_at) VALUES (?, ?, ?)`, name, hash, s.stamp())
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("sqlite: service token %q: %w", name, bot.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create service token %q: %w", name, err)
	}
	return nil
}

// RevokeServiceToken revokes the named token at once; revoking a revoked
// token again is no error. An unknown name gives bot.ErrNotFound.
func (s *Store) RevokeServiceToken(ctx context.Context, name string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE service_tokens SET revoked_at = CASE WHEN revoked_at = '' THEN ? ELSE revoked_at END
		WHERE name = ?`, s.stamp(), name)
	if err != nil {
		return fmt.Errorf("sqlite: revoke service token %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: service token %q: %w", name, bot.ErrNotFound)
	}
	return nil
}

// ServiceTokens lists the tokens by name, revoked ones included.
func (s *Store) ServiceTokens(ctx context.Context) ([]ServiceToken, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, created_at, last_used_at, revoked_at FROM service_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: service tokens: %w", err)
	}
	defer rows.Close()
	var out []ServiceToken
	for rows.Next() {
		var t ServiceToken
		var created, used, revoked string
		if err := rows.Scan(&t.Name, &created, &used, &revoked); err != nil {
			return nil, fmt.Errorf("sqlite: service tokens: %w", err)
		}
		for _, p := range []struct {
			dst *time.Time
			v   string
		}{{&t.CreatedAt, created}, {&t.LastUsedAt, used}, {&t.RevokedAt, revoked}} {
			if *p.dst, err = parseTime(p.v); err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// tokenUseEvery is how often a token's last_used_at is written at most:
// a backend posting many requests a second must not cost a write each.
const tokenUseEvery = time.Minute

// UseServiceToken returns the name of the live token with this hash and
// records that it was used, or returns bot.ErrNotFound (ingest.TokenStore).
// The token is looked up on a reader, so a wrong token never waits for or
// takes the single writer connection; last_used_at is written only when
// it is more than tokenUseEvery old.
func (s *Store) UseServiceToken(ctx context.Context, hash string) (string, error) {
	var name, used string
	err := s.read.QueryRowContext(ctx, `SELECT name, last_used_at FROM service_tokens WHERE hash = ? AND revoked_at = ''`,
		hash).Scan(&name, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return "", bot.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: use service token: %w", err)
	}
	now := s.now()
	if last, err := parseTime(used); err == nil && !last.IsZero() && !now.Before(last) && now.Sub(last) < tokenUseEvery {
		return name, nil
	}
	// revoked_at again: a revocation committed since the read wins.
	res, err := s.write.ExecContext(ctx, `UPDATE service_tokens SET last_used_at = ? WHERE hash = ? AND revoked_at = ''`,
		formatTime(now), hash)
	if err != nil {
		return "", fmt.Errorf("sqlite: use service token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", bot.ErrNotFound
	}
	return name, nil
}
