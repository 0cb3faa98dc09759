package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/ingest"
)

// TestReviewIngestOrderIDDiffersOnlyInCase: the docs promise "an order id
// belongs to one shopper: re-posting it with another shopper_id is
// refused, so a typo cannot show one shopper's order to another". But
// IngestOrder looks the id up exactly, while OrderOf (what the chat uses)
// matches ids COLLATE NOCASE. So the shop posting "xe100200300" for s2
// after "XE100200300" for s1 is accepted as a second order, and from then
// on the two shoppers share one order number in the chat: the shopper
// whose row the case-insensitive lookup does not find first is told their
// own order does not exist (OrderOf returns ErrOtherShopper for it).
//
// What a user notices: a shopper asks about their order number and the
// bot says it is not theirs / cannot be found, although the shop just
// sent it.
func TestReviewIngestOrderIDDiffersOnlyInCase(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindShopper, strings.Replace(ingShopper, `"s1"`, `"s2"`, 1))
	mustPut(t, svc, ingest.KindOrder, ingOrder)

	other := strings.NewReplacer(`"shopper_id":"s1"`, `"shopper_id":"s2"`, `"id":"XE100200300"`, `"id":"xe100200300"`).Replace(ingOrder)
	_, err := svc.Put(ctx, ingest.KindOrder, []byte(other))
	if err == nil {
		// Accepted: both shoppers must still see their own order.
		for _, c := range []struct{ shopper, id string }{{"s1", "XE100200300"}, {"s2", "xe100200300"}} {
			if o, err := s.OrderOf(ctx, c.shopper, c.id); err != nil || o.ShopperID != c.shopper {
				t.Errorf("order ids differing only in case were both accepted; shopper %s asking for their own %s: %v (want their order)", c.shopper, c.id, err)
			}
		}
		return
	}
	if !strings.Contains(err.Error(), "another shopper") {
		t.Errorf("order id differing only in case for another shopper: %v", err)
	}
}

// TestReviewLateShipmentDoesNotUndeliver: docs/ingest.md says a backend
// may retry anything that failed or timed out. A "shipped" shipment that
// is retried after the "delivered" one went through (the common case of a
// retry queue) turns a delivered order back into "shipped", and every
// further retry of the delivered shipment adds another "delivered" step
// to the history: IngestShipment (bot/sqlite/ingest.go:132) compares the
// status with the current one only, never with the order's progress.
//
// What a user notices: the bot tells a shopper who received their parcel
// that it is still on its way, and the status history shows
// delivered → shipped → delivered.
func TestReviewLateShipmentDoesNotUndeliver(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, ingOrder)
	delivered := `{"order_id":"XE100200300","status":"delivered","delivered_at":"2026-05-03T15:00:00+08:00",
		"events":[{"at":"2026-05-03T15:00:00+08:00","text_zh":"已签收","text_en":"Delivered"}]}`
	mustPut(t, svc, ingest.KindShipment, delivered)
	mustPut(t, svc, ingest.KindShipment, ingShipment) // the earlier "shipped" shipment, retried late
	o, err := s.OrderOf(ctx, "s1", "XE100200300")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != bot.StatusDelivered {
		t.Errorf("a late 'shipped' shipment turned a delivered order back to %q (history %+v)", o.Status, o.History)
	}
	mustPut(t, svc, ingest.KindShipment, delivered) // and the delivered one retried again
	o, _ = s.OrderOf(ctx, "s1", "XE100200300")
	n := 0
	for _, h := range o.History {
		if h.Status == bot.StatusDelivered {
			n++
		}
	}
	if n != 1 {
		t.Errorf("history has %d 'delivered' steps after retries, want 1: %+v", n, o.History)
	}
}

// TestReviewProductAfterOrderReachesFeatures: over the API nothing orders
// the kinds across requests, and a catalog sync commonly runs after the
// order feed. An order whose SKU is not yet in the catalog counts with no
// category; when the product then arrives, IngestProduct
// (bot/sqlite/ingest.go:65) writes only the product and does not
// recompute the features of the shoppers who bought it, so their
// favourite categories stay empty until the daily RefreshFeatures.
//
// What a user notices: for up to a day the bot's personalised
// recommendations ignore what the shopper just bought, although the shop
// sent both the order and the catalog item.
func TestReviewProductAfterOrderReachesFeatures(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, ingOrder)     // SKU-1 not in the catalog yet
	mustPut(t, svc, ingest.KindProduct, ingProduct) // SKU-1, category "shoes"
	sh, err := s.Profile(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if sh.Features == nil || !slices.Contains(sh.Features.FavCategories, "shoes") {
		t.Errorf("after the order and then its product were ingested, features %+v lack the category \"shoes\"", sh.Features)
	}
}

// TestReviewShipmentDeliveredBeforePlaced: an order record with
// delivered_at before placed_at is refused (records.go:268), but a
// shipment is checked without its order (records.go:319) and
// IngestShipment writes its delivered_at as is. A carrier feed that sends
// local time marked "Z", or the wrong year, records a delivery before the
// order was placed, and the 7-day no-reason window (counted from
// delivered_at) is already over, or shorter than the law's seven days.
//
// What a user notices: a shopper who got the parcel today is told the
// return period has ended.
func TestReviewShipmentDeliveredBeforePlaced(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, ingOrder) // placed 2026-05-01T10:00:00+08:00
	_, err := svc.Put(ctx, ingest.KindShipment, []byte(`{"order_id":"XE100200300","status":"delivered","delivered_at":"2025-05-03T15:00:00+08:00"}`))
	if err == nil {
		o, _ := s.OrderOf(ctx, "s1", "XE100200300")
		t.Errorf("a shipment delivered a year before the order was placed was accepted: placed %v, delivered %v", o.PlacedAt, o.DeliveredAt)
	}
}
