package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/ingest"
)

// dump renders every row of a query, for comparing states.
func dump(t *testing.T, s *Store, query string) string {
	t.Helper()
	rows, err := s.read.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	return b.String()
}

// state is everything ingestion writes, without the updated_at stamps.
func state(t *testing.T, s *Store) string {
	t.Helper()
	return strings.Join([]string{
		dump(t, s, `SELECT id, name, lang FROM shoppers ORDER BY id`),
		dump(t, s, `SELECT shopper_id, tier, points, age_band, gender, occupation, interests, preferred_categories, phone, email, address, personalize FROM profiles ORDER BY shopper_id`),
		dump(t, s, `SELECT * FROM products ORDER BY sku`),
		dump(t, s, `SELECT id, shopper_id, status, currency, total_cents, shipping_cents, payment, carrier, tracking_no, placed_at, delivered_at FROM orders ORDER BY id`),
		dump(t, s, `SELECT * FROM order_items ORDER BY order_id, line`),
		dump(t, s, `SELECT * FROM order_status_history ORDER BY order_id, step`),
		dump(t, s, `SELECT * FROM tracking_events ORDER BY order_id, step`),
	}, "--\n")
}

func mustPut(t *testing.T, svc *ingest.Service, kind, rec string) {
	t.Helper()
	if _, err := svc.Put(context.Background(), kind, []byte(rec)); err != nil {
		t.Fatalf("put %s %s: %v", kind, rec, err)
	}
}

const (
	ingShopper  = `{"id":"s1","name":"王芳","lang":"zh","tier":"gold","points":120,"gender":"female","interests":["跑步"],"preferred_categories":["shoes"],"phone":"13800138000"}`
	ingProduct  = `{"sku":"SKU-1","name_zh":"跑鞋","name_en":"Running shoes","category":"shoes","price_cents":39900}`
	ingOrder    = `{"id":"XE100200300","shopper_id":"s1","status":"paid","total_cents":39900,"placed_at":"2026-05-01T10:00:00+08:00","items":[{"sku":"SKU-1","name_zh":"跑鞋","qty":1,"price_cents":39900}],"history":[{"status":"paid","at":"2026-05-01T10:00:05+08:00"}]}`
	ingShipment = `{"order_id":"XE100200300","carrier":"SF","tracking_no":"SF123456","status":"shipped","events":[{"at":"2026-05-02T09:00:00+08:00","text_zh":"已揽收","text_en":"Picked up"}]}`
)

func TestIngestIsIdempotent(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	all := func() {
		mustPut(t, svc, ingest.KindProduct, ingProduct)
		mustPut(t, svc, ingest.KindShopper, ingShopper)
		mustPut(t, svc, ingest.KindOrder, ingOrder)
		mustPut(t, svc, ingest.KindShipment, ingShipment)
	}
	all()
	first := state(t, s)
	all()
	if again := state(t, s); again != first {
		t.Errorf("posting the same records twice changed the state:\nfirst:\n%s\nagain:\n%s", first, again)
	}
	for _, want := range []string{"SF123456", "已揽收", "shipped", "female", `["shoes"]`} {
		if !strings.Contains(first, want) {
			t.Errorf("state lacks %q:\n%s", want, first)
		}
	}
}

func TestIngestOrderKeepsEarlierTracking(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, ingOrder)
	mustPut(t, svc, ingest.KindShipment, ingShipment)
	// The shop's order system posts the order again (now shipped), without
	// tracking: the carrier's scans stay.
	shipped := strings.Replace(ingOrder, `"status":"paid"`, `"status":"shipped"`, 1)
	mustPut(t, svc, ingest.KindOrder, shipped)
	o, err := s.OrderOf(ctx, "s1", "XE100200300")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != "shipped" || len(o.Tracking) != 1 || o.Tracking[0].TextZH != "已揽收" || o.TrackingNo != "SF123456" || o.Carrier != "SF" {
		t.Errorf("after re-posting the order: %+v, want shipped with the shipment's carrier, number and scan", o)
	}
	// An explicit empty list does clear the tracking.
	var rec map[string]any
	json.Unmarshal([]byte(shipped), &rec)
	rec["tracking"] = []any{}
	b, _ := json.Marshal(rec)
	mustPut(t, svc, ingest.KindOrder, string(b))
	if o, _ = s.OrderOf(ctx, "s1", "XE100200300"); len(o.Tracking) != 0 {
		t.Errorf("tracking [] kept %d events, want none", len(o.Tracking))
	}

	// A second shipment adds its new scans only and delivers the order.
	mustPut(t, svc, ingest.KindShipment, ingShipment)
	mustPut(t, svc, ingest.KindShipment, `{"order_id":"XE100200300","status":"delivered","delivered_at":"2026-05-03T15:00:00+08:00",
		"events":[{"at":"2026-05-02T09:00:00+08:00","text_zh":"已揽收","text_en":"Picked up"},{"at":"2026-05-03T15:00:00+08:00","text_zh":"已签收","text_en":"Delivered"}]}`)
	o, _ = s.OrderOf(ctx, "s1", "XE100200300")
	if o.Status != "delivered" || o.DeliveredAt.IsZero() || len(o.Tracking) != 2 || o.History[len(o.History)-1].Status != "delivered" {
		t.Errorf("after delivery: status %s, delivered %v, %d scans, history %+v", o.Status, o.DeliveredAt, len(o.Tracking), o.History)
	}
}

func TestIngestNeverChangesConsent(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, nil)
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	personalize := func() (on int) {
		s.read.QueryRow(`SELECT personalize FROM profiles WHERE shopper_id = 's1'`).Scan(&on)
		return on
	}
	if personalize() != 0 {
		t.Fatal("a new shopper from the shop has personalisation on: it is off until the shopper turns it on")
	}
	// The shopper turns it on in the chat; the shop then updates the profile.
	if _, err := s.write.Exec(`UPDATE profiles SET personalize = 1 WHERE shopper_id = 's1'`); err != nil {
		t.Fatal(err)
	}
	mustPut(t, svc, ingest.KindShopper, strings.Replace(ingShopper, `"gold"`, `"platinum"`, 1))
	if personalize() != 1 {
		t.Error("ingesting a shopper reset their consent to personalisation")
	}
	_, err := svc.Put(ctx, ingest.KindShopper, []byte(`{"id":"s1","name":"x","lang":"zh","personalize":false}`))
	if err == nil || !strings.Contains(err.Error(), "personalize cannot be set") {
		t.Errorf("a shopper record with personalize: %v, want refused", err)
	}
	if personalize() != 1 {
		t.Error("a refused record changed the consent")
	}
}

func TestIngestRefusesUnknownReferences(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	if _, err := svc.Put(ctx, ingest.KindOrder, []byte(ingOrder)); err == nil || !strings.Contains(err.Error(), `unknown shopper "s1"`) {
		t.Errorf("order of an unknown shopper: %v", err)
	}
	if _, err := svc.Put(ctx, ingest.KindShipment, []byte(ingShipment)); err == nil || !strings.Contains(err.Error(), `unknown order "XE100200300"`) {
		t.Errorf("shipment of an unknown order: %v", err)
	}
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindShopper, strings.Replace(ingShopper, `"s1"`, `"s2"`, 1))
	mustPut(t, svc, ingest.KindOrder, ingOrder)
	moved := strings.Replace(ingOrder, `"shopper_id":"s1"`, `"shopper_id":"s2"`, 1)
	if _, err := svc.Put(ctx, ingest.KindOrder, []byte(moved)); err == nil || !strings.Contains(err.Error(), "belongs to another shopper") {
		t.Errorf("an order re-posted for another shopper: %v, want refused (a typo must not show it to someone else)", err)
	}
}

func TestServiceTokens(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	tok, hash := ingest.NewToken()
	if err := s.CreateServiceToken(ctx, "backend", hash); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateServiceToken(ctx, "backend", "other"); err == nil {
		t.Error("a second token named backend was created")
	}
	v := ingest.NewTokens(s, "")
	if name, err := v.Verify(ctx, tok); err != nil || name != "backend" {
		t.Fatalf("verify: %q %v", name, err)
	}
	if _, err := v.Verify(ctx, tok+"x"); err != ingest.ErrBadToken {
		t.Errorf("a wrong token: %v", err)
	}
	if err := s.RevokeServiceToken(ctx, "backend"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); err != ingest.ErrBadToken {
		t.Errorf("a revoked token: %v", err)
	}
	list, _ := s.ServiceTokens(ctx)
	if len(list) != 1 || list[0].RevokedAt.IsZero() || list[0].LastUsedAt.IsZero() {
		t.Errorf("list %+v", list)
	}
	if dump(t, s, `SELECT * FROM service_tokens`) == "" || strings.Contains(dump(t, s, `SELECT * FROM service_tokens`), tok) {
		t.Error("the token itself is stored")
	}
}

// TestIngestedOrderUpdatesFeatures: an ingested order goes through
// putOrder, so the shopper's features count it in the same transaction,
// and the profile fields the shop sent are what the bot reads.
func TestIngestedOrderUpdatesFeatures(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	mustPut(t, svc, ingest.KindOrder, ingOrder)
	sh, err := s.Shopper(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if sh.Gender != "female" || len(sh.PreferredCategories) != 1 || sh.PreferredCategories[0] != "shoes" || sh.Personalize {
		t.Errorf("shopper %+v, want the shop's profile and no consent", sh)
	}
	if sh.Features == nil || sh.Features.Orders != 1 {
		t.Errorf("features %+v, want the ingested order counted", sh.Features)
	}
}

// TestIngestDoesNotBringBackErasedShoppers: after a shopper had their data
// erased, the shop's nightly sync sending them again is refused.
func TestIngestDoesNotBringBackErasedShoppers(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	svc := ingest.New(s, nil)
	mustPut(t, svc, ingest.KindShopper, ingShopper)
	if _, err := s.EraseShopper(ctx, "s1", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Put(ctx, ingest.KindShopper, []byte(ingShopper))
	if err == nil || !strings.Contains(err.Error(), "erased") {
		t.Errorf("an erased shopper sent again: %v, want refused", err)
	}
	if got := dump(t, s, `SELECT name, phone FROM shoppers LEFT JOIN profiles ON shopper_id = id`); strings.Contains(got, "王芳") || strings.Contains(got, "13800138000") {
		t.Errorf("the erased profile came back: %s", got)
	}
}
