package sqlite

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot/webhook"
)

var _ webhook.Outbox = (*Store)(nil)

// AddWebhookEvent stores a new event in the outbox, due at once (webhook.Outbox).
func (s *Store) AddWebhookEvent(ctx context.Context, e webhook.Event) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO webhook_outbox (id, type, data, created_at, next_at) VALUES (?, ?, ?, ?, ?)`,
		e.ID, e.Type, string(e.Data), formatTime(e.CreatedAt), formatTime(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: add webhook event: %w", err)
	}
	return nil
}

// DueWebhookEvents returns up to limit undelivered events due at now,
// oldest first (webhook.Outbox).
func (s *Store) DueWebhookEvents(ctx context.Context, now time.Time, limit int) ([]webhook.Pending, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, type, data, created_at, attempts FROM webhook_outbox
		WHERE delivered_at = '' AND failed_at = '' AND next_at <= ? ORDER BY next_at, created_at, id LIMIT ?`, formatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due webhook events: %w", err)
	}
	defer rows.Close()
	var out []webhook.Pending
	for rows.Next() {
		var p webhook.Pending
		var data, created string
		if err := rows.Scan(&p.ID, &p.Type, &data, &created, &p.Attempts); err != nil {
			return nil, fmt.Errorf("sqlite: due webhook events: %w", err)
		}
		p.Data = []byte(data)
		if p.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// WebhookDelivered marks an event delivered (webhook.Outbox).
func (s *Store) WebhookDelivered(ctx context.Context, id string, attempts int, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE webhook_outbox SET attempts = ?, delivered_at = ?, last_error = '' WHERE id = ?`,
		attempts, formatTime(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: webhook delivered: %w", err)
	}
	return nil
}

// WebhookRetry records a failed attempt and when to try again (webhook.Outbox).
func (s *Store) WebhookRetry(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE webhook_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?`,
		attempts, formatTime(next), truncate(lastErr, 500), id)
	if err != nil {
		return fmt.Errorf("sqlite: webhook retry: %w", err)
	}
	return nil
}

// WebhookGaveUp marks an event failed for good (webhook.Outbox); it stays
// in the outbox for an operator to see.
func (s *Store) WebhookGaveUp(ctx context.Context, id string, attempts int, at time.Time, lastErr string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE webhook_outbox SET attempts = ?, failed_at = ?, last_error = ? WHERE id = ?`,
		attempts, formatTime(at), truncate(lastErr, 500), id)
	if err != nil {
		return fmt.Errorf("sqlite: webhook gave up: %w", err)
	}
	return nil
}

// truncate returns s cut to at most n bytes, on a UTF-8 boundary so that
// a receiver's answer in Chinese is not stored as invalid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
