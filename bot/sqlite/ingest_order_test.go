package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/ingest"
)

// TestIngestOrderIDInAnotherCaseIsTheSameOrder: the same shopper's order
// re-posted (or shipped) with its id in another case updates the stored
// order, which keeps the id as first stored, instead of adding a second
// order the chat could not tell apart.
func TestIngestOrderIDInAnotherCaseIsTheSameOrder(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, ingOrder)
	mustPut(t, svc, ingest.KindOrder, strings.NewReplacer(`"id":"XE100200300"`, `"id":"xe100200300"`,
		`"total_cents":39900`, `"total_cents":29900`).Replace(ingOrder))
	mustPut(t, svc, ingest.KindShipment, strings.Replace(ingShipment, `"XE100200300"`, `"Xe100200300"`, 1))
	if got, want := dump(t, s, `SELECT id, total_cents, status, carrier FROM orders`), "XE100200300 29900 shipped SF\n"; got != want {
		t.Errorf("orders after re-posts in other cases:\n%s want\n%s", got, want)
	}
	if _, err := s.OrderOf(ctx, "s1", "xe100200300"); err != nil {
		t.Errorf("OrderOf: %v", err)
	}
}

// TestIngestShipmentOnlyMovesStatusForward: a shipment never takes a
// refunded order back to delivered, nor adds a step for a status the
// order is already past; its events are still merged.
func TestIngestShipmentOnlyMovesStatusForward(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, strings.Replace(ingOrder, `"status":"paid","total`, `"status":"refunded","total`, 1))
	mustPut(t, svc, ingest.KindShipment, `{"order_id":"XE100200300","status":"delivered","delivered_at":"2026-05-03T15:00:00+08:00",
		"events":[{"at":"2026-05-03T15:00:00+08:00","text_en":"Delivered"}]}`)
	o, err := s.OrderOf(ctx, "s1", "XE100200300")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != bot.StatusRefunded || len(o.History) != 1 {
		t.Errorf("a delivered shipment after the refund: status %q, history %+v; want refunded with its one step", o.Status, o.History)
	}
	if len(o.Tracking) != 1 {
		t.Errorf("tracking %+v, want the shipment's event merged", o.Tracking)
	}
}

// TestIngestShipmentEventBeforePlacedIsRefused: an event dated before the
// order was placed is refused like a delivery before it, and nothing of
// the shipment is written.
func TestIngestShipmentEventBeforePlacedIsRefused(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, ingOrder)
	before := state(t, s)
	for _, rec := range []string{
		strings.Replace(ingShipment, "2026-05-02T09:00:00+08:00", "2026-04-30T09:00:00+08:00", 1),
		`{"order_id":"XE100200300","status":"delivered","delivered_at":"2025-05-03T15:00:00+08:00"}`,
	} {
		res, err := svc.PutAll(ctx, ingest.KindShipment, []json.RawMessage{json.RawMessage(rec)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed != 1 || !strings.Contains(res.Errors[0].Error, "before the order's placed_at") {
			t.Errorf("shipment %s: %+v, want one record error naming placed_at", rec, res)
		}
	}
	if after := state(t, s); after != before {
		t.Errorf("a refused shipment changed the order:\n%s\nwas\n%s", after, before)
	}
}

// TestIngestProductCategoryChangeReachesFeatures: a product whose category
// changes recomputes its buyers' favourite categories.
func TestIngestProductCategoryChangeReachesFeatures(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindProduct, ingProduct)
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, ingOrder)
	mustPut(t, svc, ingest.KindProduct, strings.Replace(ingProduct, `"category":"shoes"`, `"category":"running"`, 1))
	sh, err := s.Profile(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if sh.Features == nil || !slices.Equal(sh.Features.FavCategories, []string{"running"}) {
		t.Errorf("features %+v, want favourite category running", sh.Features)
	}
}

// TestServiceTokenCheckNeedsNoWriter: a wrong token, and a good one used
// again within the minute, are answered without the writer connection
// (held here by an open transaction); last_used_at moves once a minute.
func TestServiceTokenCheckNeedsNoWriter(t *testing.T) {
	ctx := context.Background()
	clk := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	s.now = func() time.Time { return clk }
	tok, hash := ingest.NewToken()
	if err := s.CreateServiceToken(ctx, "backend", hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseServiceToken(ctx, hash); err != nil {
		t.Fatal(err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := s.UseServiceToken(short, ingest.HashToken(tok+"x")); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a wrong token while the writer is busy: %v, want not found at once", err)
	}
	clk = clk.Add(30 * time.Second)
	if name, err := s.UseServiceToken(short, hash); err != nil || name != "backend" {
		t.Errorf("the token again within the minute while the writer is busy: %q %v", name, err)
	}
	tx.Rollback()
	clk = clk.Add(31 * time.Second)
	if _, err := s.UseServiceToken(ctx, hash); err != nil {
		t.Fatal(err)
	}
	list, _ := s.ServiceTokens(ctx)
	if len(list) != 1 || !list[0].LastUsedAt.Equal(clk) {
		t.Errorf("tokens %+v, want last used at %v", list, clk)
	}
}
