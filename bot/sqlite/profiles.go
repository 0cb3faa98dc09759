package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

var _ bot.Profiles = (*Store)(nil)

// Profile returns the shopper with their profile and Features, or
// bot.ErrNotFound. The stored features were computed when an order was
// last written (or by the daily RefreshFeatures); recency and the segment
// are brought up to now here, the 365-day sums are at most a day old.
// A shopper without orders gets zero features in segment prospect.
func (s *Store) Profile(ctx context.Context, id string) (bot.Shopper, error) {
	sh, err := s.Shopper(ctx, id)
	if err != nil {
		return sh, err
	}
	now := s.now()
	if sh.Features == nil {
		sh.Features = &bot.Features{FavCategories: []string{}}
	}
	sh.Features.Refresh(now)
	return sh, nil
}

// features reads a shopper's stored features; nil when none were computed.
func (s *Store) features(ctx context.Context, id string) (*bot.Features, error) {
	var f bot.Features
	var first, last, favs, computed string
	err := s.read.QueryRowContext(ctx, `SELECT orders, first_order_at, last_order_at, frequency_365d, monetary_cents,
		aov_cents, fav_categories, preferred_payment, preferred_carrier, segment, computed_at
		FROM shopper_features WHERE shopper_id = ?`, id).Scan(&f.Orders, &first, &last, &f.Frequency365d,
		&f.MonetaryCents, &f.AOVCents, &favs, &f.PreferredPayment, &f.PreferredCarrier, &f.Segment, &computed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: features of %s: %w", id, err)
	}
	for _, p := range []struct {
		dst *time.Time
		v   string
	}{{&f.FirstOrderAt, first}, {&f.LastOrderAt, last}, {&f.ComputedAt, computed}} {
		if *p.dst, err = parseTime(p.v); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal([]byte(favs), &f.FavCategories); err != nil {
		return nil, fmt.Errorf("sqlite: features of %s: %w", id, err)
	}
	if !f.LastOrderAt.IsZero() {
		f.RecencyDays = max(0, int(f.ComputedAt.Sub(f.LastOrderAt)/(24*time.Hour)))
	}
	return &f, nil
}

// recomputeFeatures recomputes a shopper's row in shopper_features from
// their orders as tx sees them, so it commits (or not) with the order
// write that called it. putOrder calls it for every order it writes.
// Storage-only orders (kept for the law after an erasure) never count.
// An erased shopper has no features.
func (s *Store) recomputeFeatures(ctx context.Context, tx *sql.Tx, shopperID string, now time.Time) error {
	var erased string
	if err := tx.QueryRowContext(ctx, `SELECT erased_at FROM shoppers WHERE id = ?`, shopperID).Scan(&erased); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
	}
	if erased != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM shopper_features WHERE shopper_id = ?`, shopperID); err != nil {
			return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
		}
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, status, total_cents, payment, carrier, placed_at
		FROM orders WHERE shopper_id = ? AND storage_only = 0`, shopperID)
	if err != nil {
		return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
	}
	var orders []bot.Order
	index := map[string]int{}
	for rows.Next() {
		var o bot.Order
		var placed string
		if err := rows.Scan(&o.ID, &o.Status, &o.TotalCents, &o.Payment, &o.Carrier, &placed); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
		}
		if o.PlacedAt, err = parseTime(placed); err != nil {
			rows.Close()
			return err
		}
		index[o.ID] = len(orders)
		orders = append(orders, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
	}
	categories := map[string]string{}
	rows, err = tx.QueryContext(ctx, `SELECT i.order_id, i.sku, i.qty, COALESCE(p.category, '')
		FROM order_items i JOIN orders o ON o.id = i.order_id LEFT JOIN products p ON p.sku = i.sku
		WHERE o.shopper_id = ? AND o.storage_only = 0`, shopperID)
	if err != nil {
		return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
	}
	for rows.Next() {
		var orderID, category string
		var it bot.OrderItem
		if err := rows.Scan(&orderID, &it.SKU, &it.Qty, &category); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
		}
		categories[it.SKU] = category
		if i, ok := index[orderID]; ok {
			orders[i].Items = append(orders[i].Items, it)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
	}

	f := bot.ComputeFeatures(orders, func(sku string) string { return categories[sku] }, now)
	favs, err := json.Marshal(f.FavCategories)
	if err != nil {
		return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO shopper_features (shopper_id, orders, first_order_at, last_order_at,
		frequency_365d, monetary_cents, aov_cents, fav_categories, preferred_payment, preferred_carrier, segment, computed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shopper_id) DO UPDATE SET orders = excluded.orders, first_order_at = excluded.first_order_at,
		last_order_at = excluded.last_order_at, frequency_365d = excluded.frequency_365d,
		monetary_cents = excluded.monetary_cents, aov_cents = excluded.aov_cents, fav_categories = excluded.fav_categories,
		preferred_payment = excluded.preferred_payment, preferred_carrier = excluded.preferred_carrier,
		segment = excluded.segment, computed_at = excluded.computed_at`,
		shopperID, f.Orders, formatTime(f.FirstOrderAt), formatTime(f.LastOrderAt), f.Frequency365d, f.MonetaryCents,
		f.AOVCents, string(favs), f.PreferredPayment, f.PreferredCarrier, f.Segment, formatTime(f.ComputedAt)); err != nil {
		return fmt.Errorf("sqlite: features of %s: %w", shopperID, err)
	}
	return nil
}

// RefreshFeatures recomputes the features of every shopper at now, since
// recency, the 365-day sums and so the segments move with time; a daily
// job calls it. Each shopper is recomputed in its own short transaction,
// so chat writes are never held up for long. It returns how many shoppers
// were refreshed.
func (s *Store) RefreshFeatures(ctx context.Context, now time.Time) (int, error) {
	ids, err := s.ShopperIDs(ctx)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.inTx(ctx, func(tx *sql.Tx) error { return s.recomputeFeatures(ctx, tx, id, now) }); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}
