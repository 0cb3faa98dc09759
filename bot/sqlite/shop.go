package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// Shop is a batch of shop data written in one transaction.
type Shop struct {
	Products []bot.Product
	Shoppers []bot.Shopper
	Orders   []bot.Order
}

// PutShop creates or replaces products, shoppers (with profiles) and orders
// in one transaction: all of them are written, or none.
func (s *Store) PutShop(ctx context.Context, shop Shop) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, p := range shop.Products {
			if err := s.putProduct(ctx, tx, p); err != nil {
				return err
			}
		}
		for _, sh := range shop.Shoppers {
			if err := s.putShopper(ctx, tx, sh); err != nil {
				return err
			}
		}
		for _, o := range shop.Orders {
			if err := s.putOrder(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutShopper creates or replaces a shopper and their profile.
func (s *Store) PutShopper(ctx context.Context, sh bot.Shopper) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.putShopper(ctx, tx, sh) })
}

// PutProduct creates or replaces a catalog item.
func (s *Store) PutProduct(ctx context.Context, p bot.Product) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.putProduct(ctx, tx, p) })
}

// PutOrder creates or replaces an order with its items, status history and
// tracking events, in one transaction.
func (s *Store) PutOrder(ctx context.Context, o bot.Order) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.putOrder(ctx, tx, o) })
}

// inTx runs fn in a write transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// ShopperIDs returns the ids of every shopper, ordered.
func (s *Store) ShopperIDs(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM shoppers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: shopper ids: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: shopper ids: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *Store) putShopper(ctx context.Context, tx *sql.Tx, sh bot.Shopper) error {
	if sh.ID == "" {
		return fmt.Errorf("sqlite: put shopper: empty id")
	}
	interests, err := json.Marshal(nonNil(sh.Interests))
	if err != nil {
		return fmt.Errorf("sqlite: put shopper %s: %w", sh.ID, err)
	}
	preferred, err := json.Marshal(nonNil(sh.PreferredCategories))
	if err != nil {
		return fmt.Errorf("sqlite: put shopper %s: %w", sh.ID, err)
	}
	now := s.stamp()
	if _, err := tx.ExecContext(ctx, `INSERT INTO shoppers (id, name, lang, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, lang = excluded.lang, updated_at = excluded.updated_at`,
		sh.ID, sh.Name, sh.Lang, now, now); err != nil {
		return fmt.Errorf("sqlite: put shopper %s: %w", sh.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO profiles
		(shopper_id, tier, points, age_band, occupation, interests, phone, email, address, personalize, gender,
		preferred_categories, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shopper_id) DO UPDATE SET tier = excluded.tier, points = excluded.points, age_band = excluded.age_band,
		occupation = excluded.occupation, interests = excluded.interests, phone = excluded.phone, email = excluded.email,
		address = excluded.address, personalize = excluded.personalize, gender = excluded.gender,
		preferred_categories = excluded.preferred_categories, updated_at = excluded.updated_at`,
		sh.ID, sh.Tier, sh.Points, sh.AgeBand, sh.Occupation, string(interests), sh.Phone, sh.Email, sh.Address, sh.Personalize,
		sh.Gender, string(preferred), now); err != nil {
		return fmt.Errorf("sqlite: put profile %s: %w", sh.ID, err)
	}
	return nil
}

// Shopper returns a shopper with their profile, and their features as
// last stored (nil before any order was written), or bot.ErrNotFound.
func (s *Store) Shopper(ctx context.Context, id string) (bot.Shopper, error) {
	var sh bot.Shopper
	var interests, preferred string
	err := s.read.QueryRowContext(ctx, `SELECT s.id, s.name, s.lang, COALESCE(p.tier, ''), COALESCE(p.points, 0),
		COALESCE(p.age_band, ''), COALESCE(p.occupation, ''), COALESCE(p.interests, '[]'), COALESCE(p.phone, ''),
		COALESCE(p.email, ''), COALESCE(p.address, ''), COALESCE(p.personalize, 0), COALESCE(p.gender, ''),
		COALESCE(p.preferred_categories, '[]')
		FROM shoppers s LEFT JOIN profiles p ON p.shopper_id = s.id WHERE s.id = ?`, id).Scan(
		&sh.ID, &sh.Name, &sh.Lang, &sh.Tier, &sh.Points, &sh.AgeBand, &sh.Occupation, &interests, &sh.Phone, &sh.Email,
		&sh.Address, &sh.Personalize, &sh.Gender, &preferred)
	if errors.Is(err, sql.ErrNoRows) {
		return sh, bot.ErrNotFound
	}
	if err != nil {
		return sh, fmt.Errorf("sqlite: shopper %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(interests), &sh.Interests); err != nil {
		return sh, fmt.Errorf("sqlite: shopper %s interests: %w", id, err)
	}
	if err := json.Unmarshal([]byte(preferred), &sh.PreferredCategories); err != nil {
		return sh, fmt.Errorf("sqlite: shopper %s preferred categories: %w", id, err)
	}
	if sh.Features, err = s.features(ctx, id); err != nil {
		return sh, err
	}
	return sh, nil
}

func (s *Store) putProduct(ctx context.Context, tx *sql.Tx, p bot.Product) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO products (sku, name_zh, name_en, category, price_cents, statutory_exclusion)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sku) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, category = excluded.category,
		price_cents = excluded.price_cents, statutory_exclusion = excluded.statutory_exclusion`,
		p.SKU, p.NameZH, p.NameEN, p.Category, p.PriceCents, p.StatutoryExclusion)
	if err != nil {
		return fmt.Errorf("sqlite: put product %s: %w", p.SKU, err)
	}
	return nil
}

// Products returns the catalog ordered by sku.
func (s *Store) Products(ctx context.Context) ([]bot.Product, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT sku, name_zh, name_en, category, price_cents, statutory_exclusion FROM products ORDER BY sku`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: products: %w", err)
	}
	defer rows.Close()
	var out []bot.Product
	for rows.Next() {
		var p bot.Product
		if err := rows.Scan(&p.SKU, &p.NameZH, &p.NameEN, &p.Category, &p.PriceCents, &p.StatutoryExclusion); err != nil {
			return nil, fmt.Errorf("sqlite: products: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// putOrder writes an order and recomputes its shopper's features in tx,
// so the features commit with the order (and those of a previous owner,
// should the order have moved).
func (s *Store) putOrder(ctx context.Context, tx *sql.Tx, o bot.Order) error {
	var before string
	err := tx.QueryRowContext(ctx, `DELETE FROM orders WHERE id = ? RETURNING shopper_id`, o.ID).Scan(&before)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: put order %s: %w", o.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id, shopper_id, status, currency, total_cents, shipping_cents,
		payment, carrier, tracking_no, placed_at, delivered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.ShopperID, o.Status, o.Currency, o.TotalCents, o.ShippingCents, o.Payment, o.Carrier, o.TrackingNo,
		formatTime(o.PlacedAt), formatTime(o.DeliveredAt), s.stamp()); err != nil {
		return fmt.Errorf("sqlite: put order %s: %w", o.ID, err)
	}
	for i, it := range o.Items {
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_items (order_id, line, sku, name_zh, name_en, qty, price_cents,
			statutory_exclusion, non_returnable_confirmed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, i+1, it.SKU, it.NameZH, it.NameEN, it.Qty, it.PriceCents, it.StatutoryExclusion, it.NonReturnableConfirmed); err != nil {
			return fmt.Errorf("sqlite: put order %s item %d: %w", o.ID, i+1, err)
		}
	}
	for i, h := range o.History {
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_status_history (order_id, step, status, at) VALUES (?, ?, ?, ?)`,
			o.ID, i+1, h.Status, formatTime(h.At)); err != nil {
			return fmt.Errorf("sqlite: put order %s history: %w", o.ID, err)
		}
	}
	for i, e := range o.Tracking {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_events (order_id, step, at, location_zh, location_en, text_zh, text_en)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, o.ID, i+1, formatTime(e.At), e.LocationZH, e.LocationEN, e.TextZH, e.TextEN); err != nil {
			return fmt.Errorf("sqlite: put order %s tracking: %w", o.ID, err)
		}
	}
	now := s.now()
	if before != "" && before != o.ShopperID {
		if err := s.recomputeFeatures(ctx, tx, before, now); err != nil {
			return err
		}
	}
	return s.recomputeFeatures(ctx, tx, o.ShopperID, now)
}

// OrderOf returns the order with the given id if it belongs to shopperID.
// An order of another shopper gives bot.ErrOtherShopper, which errors.Is
// bot.ErrNotFound: callers answer both the same way.
func (s *Store) OrderOf(ctx context.Context, shopperID, orderID string) (bot.Order, error) {
	// Order numbers are matched without regard to case: shoppers type them
	// as they like. Storage-only orders (kept after an erasure) are never read.
	var id, owner string
	err := s.read.QueryRowContext(ctx, `SELECT id, shopper_id FROM orders WHERE id = ? COLLATE NOCASE AND storage_only = 0`, orderID).Scan(&id, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Order{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Order{}, fmt.Errorf("sqlite: find order: %w", err)
	}
	if shopperID == "" || owner != shopperID {
		return bot.Order{}, bot.ErrOtherShopper
	}
	orders, err := s.orders(ctx, `WHERE id = ? AND shopper_id = ?`, id, shopperID)
	if err != nil {
		return bot.Order{}, err
	}
	if len(orders) == 0 {
		return bot.Order{}, bot.ErrNotFound
	}
	return orders[0], nil
}

// RecentOrders returns up to limit of a shopper's orders, newest first,
// without the storage-only ones.
func (s *Store) RecentOrders(ctx context.Context, shopperID string, limit int) ([]bot.Order, error) {
	if shopperID == "" {
		return nil, nil
	}
	return s.orders(ctx, `WHERE shopper_id = ? AND storage_only = 0 ORDER BY placed_at DESC LIMIT ?`, shopperID, limit)
}

func (s *Store) orders(ctx context.Context, where string, args ...any) ([]bot.Order, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, shopper_id, status, currency, total_cents, shipping_cents, payment,
		carrier, tracking_no, placed_at, delivered_at FROM orders `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: orders: %w", err)
	}
	var out []bot.Order
	for rows.Next() {
		var o bot.Order
		var placed, delivered string
		if err := rows.Scan(&o.ID, &o.ShopperID, &o.Status, &o.Currency, &o.TotalCents, &o.ShippingCents, &o.Payment,
			&o.Carrier, &o.TrackingNo, &placed, &delivered); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: orders: %w", err)
		}
		if o.PlacedAt, err = parseTime(placed); err != nil {
			rows.Close()
			return nil, err
		}
		if o.DeliveredAt, err = parseTime(delivered); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: orders: %w", err)
	}
	for i := range out {
		if err := s.fillOrder(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fillOrder loads an order's items, history and tracking events.
func (s *Store) fillOrder(ctx context.Context, o *bot.Order) error {
	rows, err := s.read.QueryContext(ctx, `SELECT sku, name_zh, name_en, qty, price_cents, statutory_exclusion,
		non_returnable_confirmed FROM order_items WHERE order_id = ? ORDER BY line`, o.ID)
	if err != nil {
		return fmt.Errorf("sqlite: order %s items: %w", o.ID, err)
	}
	for rows.Next() {
		var it bot.OrderItem
		if err := rows.Scan(&it.SKU, &it.NameZH, &it.NameEN, &it.Qty, &it.PriceCents, &it.StatutoryExclusion, &it.NonReturnableConfirmed); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: order %s items: %w", o.ID, err)
		}
		o.Items = append(o.Items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: order %s items: %w", o.ID, err)
	}

	rows, err = s.read.QueryContext(ctx, `SELECT status, at FROM order_status_history WHERE order_id = ? ORDER BY step`, o.ID)
	if err != nil {
		return fmt.Errorf("sqlite: order %s history: %w", o.ID, err)
	}
	for rows.Next() {
		var h bot.StatusChange
		var at string
		if err := rows.Scan(&h.Status, &at); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: order %s history: %w", o.ID, err)
		}
		if h.At, err = parseTime(at); err != nil {
			rows.Close()
			return err
		}
		o.History = append(o.History, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: order %s history: %w", o.ID, err)
	}

	rows, err = s.read.QueryContext(ctx, `SELECT at, location_zh, location_en, text_zh, text_en FROM tracking_events
		WHERE order_id = ? ORDER BY step`, o.ID)
	if err != nil {
		return fmt.Errorf("sqlite: order %s tracking: %w", o.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e bot.TrackingEvent
		var at string
		if err := rows.Scan(&at, &e.LocationZH, &e.LocationEN, &e.TextZH, &e.TextEN); err != nil {
			return fmt.Errorf("sqlite: order %s tracking: %w", o.ID, err)
		}
		if e.At, err = parseTime(at); err != nil {
			return err
		}
		o.Tracking = append(o.Tracking, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: order %s tracking: %w", o.ID, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
