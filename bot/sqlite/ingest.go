package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/ingest"
)

var _ ingest.Store = (*Store)(nil)

// IngestShopper creates or replaces a shopper and every profile field the
// shop knows (ingest.Store). It never writes profiles.personalize: a new
// profile starts without the consent, an existing one keeps the shopper's
// choice. A shopper whose data was erased (docs/privacy.md) gives
// bot.ErrConflict: the shop's copy does not come back.
func (s *Store) IngestShopper(ctx context.Context, sh bot.Shopper) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var erased string
		err := tx.QueryRowContext(ctx, `SELECT erased_at FROM shoppers WHERE id = ?`, sh.ID).Scan(&erased)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: ingest shopper %s: %w", sh.ID, err)
		}
		if erased != "" {
			// The shopper had their data erased: a sync from the shop must
			// not bring it back.
			return fmt.Errorf("sqlite: ingest shopper %s: erased: %w", sh.ID, bot.ErrConflict)
		}
		// putShopper never writes the consent either.
		return s.putShopper(ctx, tx, sh)
	})
}

// maxBuyersRecomputed bounds how many shoppers' features a product write
// recomputes (the latest buyers first), so that one catalog record cannot
// hold the single writer for long; the others catch up at the daily
// RefreshFeatures.
const maxBuyersRecomputed = 500

// IngestProduct creates or replaces a catalog item (ingest.Store). When
// its category changed (or it is new), it recomputes in the same
// transaction the features of the shoppers who bought that SKU, the
// latest maxBuyersRecomputed of them: a catalog sync commonly arrives
// after the orders, and their favourite categories must not wait for the
// daily RefreshFeatures. A product re-sent unchanged costs one read.
func (s *Store) IngestProduct(ctx context.Context, p bot.Product) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var before string
		err := tx.QueryRowContext(ctx, `SELECT category FROM products WHERE sku = ?`, p.SKU).Scan(&before)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: ingest product %s: %w", p.SKU, err)
		}
		known := err == nil
		if err := s.putProduct(ctx, tx, p); err != nil {
			return err
		}
		if known && before == p.Category {
			return nil
		}
		var shoppers []string
		if err := scanRows(ctx, tx, `SELECT o.shopper_id FROM order_items i JOIN orders o ON o.id = i.order_id
			WHERE i.sku = ? AND o.storage_only = 0 GROUP BY o.shopper_id ORDER BY MAX(o.placed_at) DESC LIMIT `+
			strconv.Itoa(maxBuyersRecomputed), p.SKU, func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			shoppers = append(shoppers, id)
			return nil
		}); err != nil {
			return fmt.Errorf("sqlite: ingest product %s: buyers: %w", p.SKU, err)
		}
		now := s.now()
		for _, id := range shoppers {
			if err := s.recomputeFeatures(ctx, tx, id, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// IngestOrder creates or replaces an order through putOrder, so that
// whatever putOrder keeps in step with orders (the shopper's features) is
// kept in the same transaction (ingest.Store). What shipments brought
// (tracking events, carrier, tracking number, delivery time) survives an
// order record that leaves it out.
//
// Order ids are matched without regard to case, as OrderOf matches them:
// an id stored for one shopper cannot be taken by another in another case
// (bot.ErrConflict), and the same shopper's order re-posted in another
// case replaces the stored order, which keeps the id as first stored.
func (s *Store) IngestOrder(ctx context.Context, o bot.Order) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM shoppers WHERE id = ?`, o.ShopperID).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: ingest order %s: %w", o.ID, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: ingest order %s: shopper %s: %w", o.ID, o.ShopperID, bot.ErrNotFound)
		}
		old, found, err := orderInTx(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		if found {
			if old.ShopperID != o.ShopperID {
				return fmt.Errorf("sqlite: ingest order %s: stored as %s of another shopper: %w", o.ID, old.ID, bot.ErrConflict)
			}
			o.ID = old.ID
			if o.Tracking == nil {
				o.Tracking = old.Tracking
			}
			if o.Carrier == "" {
				o.Carrier = old.Carrier
			}
			if o.TrackingNo == "" {
				o.TrackingNo = old.TrackingNo
			}
			if o.DeliveredAt.IsZero() {
				o.DeliveredAt = old.DeliveredAt
			}
		}
		return s.putOrder(ctx, tx, o)
	})
}

// IngestShipment updates an order from a shipment (ingest.Store): carrier,
// tracking number, status, delivery time, and the events merged into the
// order's tracking, ordered by time. Events already there are not added
// twice.
//
// The status only moves forward (statusRank): a shipment that is retried
// or arrives late ("shipped" after "delivered", or after the order was
// refunded or cancelled) leaves the status and history as they are and
// only merges its events. A step is added to the history when the status
// moves, dated by the shipment (its delivered_at, else its latest event).
//
// A shipment whose delivered_at or events are before the order's
// placed_at is refused with an *ingest.InvalidError: a carrier feed with
// a wrong zone or year would otherwise end the return window early.
func (s *Store) IngestShipment(ctx context.Context, sh ingest.Shipment) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		o, found, err := orderInTx(ctx, tx, sh.OrderID)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("sqlite: ingest shipment of %s: %w", sh.OrderID, bot.ErrNotFound)
		}
		if err := shipmentAfterPlaced(sh, o.PlacedAt); err != nil {
			return err
		}
		if sh.Carrier != "" {
			o.Carrier = sh.Carrier
		}
		if sh.TrackingNo != "" {
			o.TrackingNo = sh.TrackingNo
		}
		if !sh.DeliveredAt.IsZero() {
			o.DeliveredAt = sh.DeliveredAt
		}
		if sh.Status != "" && statusRank(sh.Status) > statusRank(o.Status) {
			// The step is dated by the shipment itself, never by the clock,
			// so that replaying the same records gives the same history.
			at := sh.DeliveredAt
			if at.IsZero() {
				at = latestEvent(sh.Events)
			}
			o.Status = sh.Status
			if !at.IsZero() {
				o.History = append(o.History, bot.StatusChange{Status: sh.Status, At: at})
			}
		}
		o.Tracking = mergeEvents(o.Tracking, sh.Events)
		return s.putOrder(ctx, tx, o)
	})
}

// statusRank is how far an order has gone: unpaid, paid, shipped,
// delivered, then refunded or cancelled, which end it. A shipment moves
// an order only to a higher rank. An unknown status ranks lowest.
func statusRank(status string) int {
	switch status {
	case bot.StatusPaid:
		return 1
	case bot.StatusShipped:
		return 2
	case bot.StatusDelivered:
		return 3
	case bot.StatusRefunded, bot.StatusCancelled:
		return 4
	}
	return 0
}

// shipmentAfterPlaced refuses a shipment dated before its order was placed.
func shipmentAfterPlaced(sh ingest.Shipment, placed time.Time) error {
	if !sh.DeliveredAt.IsZero() && sh.DeliveredAt.Before(placed) {
		return &ingest.InvalidError{Msg: fmt.Sprintf("delivered_at %s is before the order's placed_at %s",
			sh.DeliveredAt.Format(time.RFC3339), placed.Format(time.RFC3339))}
	}
	for i, e := range sh.Events {
		if e.At.Before(placed) {
			return &ingest.InvalidError{Msg: fmt.Sprintf("events[%d].at %s is before the order's placed_at %s",
				i, e.At.Format(time.RFC3339), placed.Format(time.RFC3339))}
		}
	}
	return nil
}

// latestEvent is the time of the latest event, zero without events.
func latestEvent(evs []bot.TrackingEvent) time.Time {
	var at time.Time
	for _, e := range evs {
		if e.At.After(at) {
			at = e.At
		}
	}
	return at
}

// mergeEvents adds the events of add that old lacks (same instant and
// texts), and orders the whole by time.
func mergeEvents(old, add []bot.TrackingEvent) []bot.TrackingEvent {
	type key struct {
		at             int64
		textZH, textEN string
	}
	seen := map[key]bool{}
	out := make([]bot.TrackingEvent, 0, len(old)+len(add))
	for _, e := range append(append([]bot.TrackingEvent(nil), old...), add...) {
		k := key{e.At.UnixMicro(), e.TextZH, e.TextEN}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// orderInTx reads an order with its items, history and tracking inside
// the write transaction, so that a concurrent write cannot slip between
// the read and the write that builds on it. The id is matched without
// regard to case, as OrderOf matches it (an exact match first, should
// older data hold ids differing only in case); the order returned has
// the id as stored.
func orderInTx(ctx context.Context, tx *sql.Tx, id string) (bot.Order, bool, error) {
	var o bot.Order
	var placed, delivered string
	err := tx.QueryRowContext(ctx, `SELECT id, shopper_id, status, currency, total_cents, shipping_cents, payment,
		carrier, tracking_no, placed_at, delivered_at FROM orders WHERE id = ? COLLATE NOCASE
		ORDER BY id = ? DESC LIMIT 1`, id, id).Scan(&o.ID, &o.ShopperID, &o.Status,
		&o.Currency, &o.TotalCents, &o.ShippingCents, &o.Payment, &o.Carrier, &o.TrackingNo, &placed, &delivered)
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("sqlite: read order %s: %w", id, err)
	}
	if o.PlacedAt, err = parseTime(placed); err != nil {
		return o, false, err
	}
	if o.DeliveredAt, err = parseTime(delivered); err != nil {
		return o, false, err
	}
	if err := scanRows(ctx, tx, `SELECT sku, name_zh, name_en, qty, price_cents, statutory_exclusion, non_returnable_confirmed
		FROM order_items WHERE order_id = ? ORDER BY line`, o.ID, func(rows *sql.Rows) error {
		var it bot.OrderItem
		if err := rows.Scan(&it.SKU, &it.NameZH, &it.NameEN, &it.Qty, &it.PriceCents, &it.StatutoryExclusion, &it.NonReturnableConfirmed); err != nil {
			return err
		}
		o.Items = append(o.Items, it)
		return nil
	}); err != nil {
		return o, false, fmt.Errorf("sqlite: read order %s items: %w", id, err)
	}
	if err := scanRows(ctx, tx, `SELECT status, at FROM order_status_history WHERE order_id = ? ORDER BY step`, o.ID, func(rows *sql.Rows) error {
		var h bot.StatusChange
		var at string
		if err := rows.Scan(&h.Status, &at); err != nil {
			return err
		}
		var err error
		h.At, err = parseTime(at)
		o.History = append(o.History, h)
		return err
	}); err != nil {
		return o, false, fmt.Errorf("sqlite: read order %s history: %w", id, err)
	}
	if err := scanRows(ctx, tx, `SELECT at, location_zh, location_en, text_zh, text_en FROM tracking_events
		WHERE order_id = ? ORDER BY step`, o.ID, func(rows *sql.Rows) error {
		var e bot.TrackingEvent
		var at string
		if err := rows.Scan(&at, &e.LocationZH, &e.LocationEN, &e.TextZH, &e.TextEN); err != nil {
			return err
		}
		var err error
		e.At, err = parseTime(at)
		o.Tracking = append(o.Tracking, e)
		return err
	}); err != nil {
		return o, false, fmt.Errorf("sqlite: read order %s tracking: %w", id, err)
	}
	return o, true, nil
}

func scanRows(ctx context.Context, tx *sql.Tx, query string, arg any, each func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
