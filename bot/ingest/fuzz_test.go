package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// recordStore accepts every record and keeps the last one written, as JSON.
type recordStore struct {
	calls int
	kind  string
	last  any
}

func (s *recordStore) keep(kind string, v any) error {
	s.calls++
	s.kind, s.last = kind, v
	return nil
}

func (s *recordStore) IngestShopper(_ context.Context, sh bot.Shopper) error {
	return s.keep(KindShopper, sh)
}
func (s *recordStore) IngestOrder(_ context.Context, o bot.Order) error {
	return s.keep(KindOrder, o)
}
func (s *recordStore) IngestShipment(_ context.Context, sh Shipment) error {
	return s.keep(KindShipment, sh)
}
func (s *recordStore) IngestProduct(_ context.Context, p bot.Product) error {
	return s.keep(KindProduct, p)
}

// asLine writes a stored value back as a JSONL line of its kind, and
// returns the record's id.
func asLine(t *testing.T, kind string, v any) (line []byte, id string) {
	t.Helper()
	var rec any
	switch v := v.(type) {
	case bot.Shopper:
		rec, id = ShopperRecord{Type: kind, ID: v.ID, Name: v.Name, Lang: v.Lang, Tier: v.Tier, Points: v.Points,
			AgeBand: v.AgeBand, Gender: v.Gender, Occupation: v.Occupation, Interests: v.Interests,
			PreferredCategories: v.PreferredCategories, Phone: v.Phone, Email: v.Email, Address: v.Address}, v.ID
	case bot.Order:
		rec, id = OrderRecord{Type: kind, ID: v.ID, ShopperID: v.ShopperID, Status: v.Status, Currency: v.Currency,
			TotalCents: v.TotalCents, ShippingCents: v.ShippingCents, Payment: v.Payment, Carrier: v.Carrier,
			TrackingNo: v.TrackingNo, PlacedAt: v.PlacedAt, DeliveredAt: v.DeliveredAt, Items: v.Items,
			History: v.History, Tracking: v.Tracking}, v.ID
	case Shipment:
		v.Type = kind
		rec, id = v, v.OrderID
	case bot.Product:
		rec, id = ProductRecord{Type: kind, SKU: v.SKU, NameZH: v.NameZH, NameEN: v.NameEN, Category: v.Category,
			PriceCents: v.PriceCents, StatutoryExclusion: v.StatutoryExclusion}, v.SKU
	default:
		t.Fatalf("store got a %T", v)
	}
	line, err := json.Marshal(rec)
	if err != nil {
		t.Fatalf("marshal %T: %v", rec, err)
	}
	return line, id
}

// FuzzPutLine feeds arbitrary JSONL lines to the ingestion service, as
// `xiaoer import` does, with a store that accepts everything. A line is
// either refused with an *InvalidError and nothing written, or written
// once; what was written, sent again, is accepted and written the same
// (an upsert is idempotent). The id it returns, printed by `xiaoer import`
// and sent back by the API, is always a well-formed id or empty.
func FuzzPutLine(f *testing.F) {
	const order = `"id":"XE1","shopper_id":"s1","total_cents":100,"placed_at":"2026-05-01T10:00:00+08:00","items":[{"sku":"A","name_zh":"袜子","qty":1,"price_cents":100}]`
	for _, s := range []string{
		`{"type":"shopper","id":"s1","name":"王芳","lang":"zh","gender":"female","interests":["跑步","咖啡"],"phone":"13800138000"}`,
		`{"type":"shopper","id":"u-42","name":"Amy Chen","lang":"en","tier":"gold","points":1200,"email":"amy@example.com"}`,
		`{"type":"order","status":"paid",` + order + `}`,
		`{"type":"order","status":"delivered","delivered_at":"2026-05-03T18:00:00+08:00",` + order + `,"tracking":[{"at":"2026-05-02T09:00:00Z","text_en":"Picked up","text_zh":"已揽收"}],"history":[{"status":"paid","at":"2026-05-01T10:00:00+08:00"}]}`,
		`{"type":"shipment","order_id":"XE1","carrier":"SF","tracking_no":"SF1","status":"shipped","events":[{"at":"2026-05-02T09:00:00Z","text_zh":"已发货"}]}`,
		`{"type":"product","sku":"A","name_zh":"袜子","name_en":"Socks","category":"服饰","price_cents":1990,"statutory_exclusion":"custom"}`,
		`{"type":"shopper","id":"s1","lang":"zh","personalize":true}`,
		`{"type":"shopper","id":"a\nline 2: forged","lang":"zh"}`,
		`{"type":"product","sku":"` + strings.Repeat("x", 100) + `","name_en":"x"}`,
		`{"type":"order","status":"paid",` + strings.Replace(order, `2026-05-01`, `2026-13-01`, 1) + `}`,
		`{"type":"shopper","id":"s1","lang":"zh"} {"type":"shopper"}`,
		`{"type":"shopper","type":"order","id":"s1","lang":"zh"}`,
		`{"type":"shopper","id":"s1","name":"\xff\xfe","lang":"zh"}`,
		"\ufeff{\"type\":\"product\",\"sku\":\"A\",\"name_en\":\"x\"}\r",
		`[` + strings.Repeat(`[`, 100) + `]`,
		`{"type":["shopper"]}`, `null`, `42`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		store := &recordStore{}
		svc := New(store, func() time.Time { return testNow })
		ctx := context.Background()
		id, err := svc.PutLine(ctx, line)
		if id != "" && (len(id) > maxID || !idPattern.MatchString(id)) {
			t.Errorf("PutLine(%q) returned the id %q, not a well-formed one", line, id)
		}
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("PutLine(%q): %v is not an *InvalidError", line, err)
			}
			if inv.Msg == "" || !utf8.ValidString(inv.Msg) || strings.ContainsAny(inv.Msg, "\r\n") {
				t.Errorf("PutLine(%q): message %q is not one line of text", line, inv.Msg)
			}
			if store.calls != 0 {
				t.Fatalf("PutLine(%q) wrote a %s and returned %v", line, store.kind, err)
			}
			return
		}
		if store.calls != 1 {
			t.Fatalf("PutLine(%q) succeeded with %d writes", line, store.calls)
		}
		first, err := json.Marshal(store.last)
		if err != nil {
			t.Fatal(err)
		}
		again, wantID := asLine(t, store.kind, store.last)
		if id != wantID {
			t.Errorf("PutLine(%q) returned id %q, but wrote %q", line, id, wantID)
		}
		if _, err := svc.PutLine(ctx, again); err != nil {
			t.Fatalf("PutLine(%q) wrote %s, which sent again is refused: %v", line, again, err)
		}
		second, err := json.Marshal(store.last)
		if err != nil {
			t.Fatal(err)
		}
		if string(first) != string(second) {
			t.Fatalf("PutLine(%q) wrote\n%s\nand sent again\n%s", line, first, second)
		}
	})
}
