package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// fakeStore records what was written; its functions decide the outcome.
type fakeStore struct {
	shoppers  map[string]bool
	orders    []bot.Order
	shipments []Shipment
	products  []bot.Product
}

func (f *fakeStore) IngestShopper(_ context.Context, sh bot.Shopper) error {
	f.shoppers[sh.ID] = true
	return nil
}

func (f *fakeStore) IngestOrder(_ context.Context, o bot.Order) error {
	if !f.shoppers[o.ShopperID] {
		return bot.ErrNotFound
	}
	f.orders = append(f.orders, o)
	return nil
}

func (f *fakeStore) IngestShipment(_ context.Context, s Shipment) error {
	for _, o := range f.orders {
		if o.ID == s.OrderID {
			f.shipments = append(f.shipments, s)
			return nil
		}
	}
	return bot.ErrNotFound
}

func (f *fakeStore) IngestProduct(_ context.Context, p bot.Product) error {
	f.products = append(f.products, p)
	return nil
}

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestValidation(t *testing.T) {
	const order = `"id":"XE1","shopper_id":"s1","total_cents":100,"placed_at":"2026-05-01T10:00:00+08:00","items":[{"sku":"A","name_zh":"袜子","qty":1,"price_cents":100}]`
	long := strings.Repeat("长", 201)
	tests := []struct {
		kind, rec string
		want      string // in the error; "" means valid
	}{
		{KindShopper, `{"id":"s1","name":"王芳","lang":"zh","gender":"female"}`, ""},
		{KindShopper, `{"name":"王芳","lang":"zh"}`, "id is required"},
		{KindShopper, `{"id":"s 1","lang":"zh"}`, "may contain only"},
		{KindShopper, `{"id":"s1","lang":"fr"}`, `unknown lang "fr"`},
		{KindShopper, `{"id":"s1","lang":"zh","gender":"f"}`, `unknown gender "f"`},
		{KindShopper, `{"id":"s1","lang":"zh","points":-1}`, "points must not be negative"},
		{KindShopper, `{"id":"s1","lang":"zh","name":"` + long + `"}`, "name is longer than 200"},
		{KindShopper, `{"id":"s1","lang":"zh","personalize":true}`, "personalize cannot be set"},
		{KindShopper, `{"id":"s1","lang":"zh","nmae":"x"}`, `unknown field "nmae"`},
		{KindShopper, `{"id":"s1","lang":"zh","interests":"running"}`, "interests: want []string"},
		{KindShopper, `{"id":"s1","lang":"zh","interests":[""]}`, "interests has an empty entry"},
		{KindShopper, `["s1"]`, "must be a JSON object"},
		{KindShopper, `{"id":"s1","lang":"zh"`, "unexpected end"},
		{KindOrder, `{"status":"paid",` + order + `}`, ""},
		{KindOrder, `{"status":"paid",` + order + `,"tracking":[{"at":"2026-05-02T09:00:00Z","text_en":"Picked up"}]}`, ""},
		{KindOrder, `{"status":"lost",` + order + `}`, `unknown status "lost"`},
		{KindOrder, `{"status":"paid",` + strings.Replace(order, `"id":"XE1",`, "", 1) + `}`, "id is required"},
		{KindOrder, `{"status":"paid",` + strings.Replace(order, `"total_cents":100`, `"total_cents":-5`, 1) + `}`, "total_cents must not be negative"},
		{KindOrder, `{"status":"paid",` + strings.Replace(order, `"price_cents":100`, `"price_cents":-1`, 1) + `}`, "items[0].price_cents must not be negative"},
		{KindOrder, `{"status":"paid",` + strings.Replace(order, `"qty":1`, `"qty":0`, 1) + `}`, "items[0].qty must be at least 1"},
		{KindOrder, `{"status":"paid",` + strings.Replace(order, `2026-05-01T10:00:00+08:00`, `yesterday`, 1) + `}`, `bad time "yesterday"`},
		{KindOrder, `{"status":"paid",` + strings.Replace(order, `2026-05-01`, `2027-05-01`, 1) + `}`, "placed_at 2027-05-01T10:00:00+08:00 is in the future"},
		{KindOrder, `{"status":"delivered",` + order + `}`, "a delivered order needs delivered_at"},
		{KindOrder, `{"status":"delivered","delivered_at":"2026-04-01T00:00:00Z",` + order + `}`, "delivered_at is before placed_at"},
		{KindOrder, `{"status":"paid","currency":"rmb",` + order + `}`, "currency"},
		{KindOrder, `{"status":"paid",` + strings.Replace(order, `"items":[{"sku":"A","name_zh":"袜子","qty":1,"price_cents":100}]`, `"items":[]`, 1) + `}`, "at least one item"},
		{KindOrder, `{"status":"paid",` + order + `,"history":[{"status":"gone","at":"2026-05-01T10:00:00Z"}]}`, `unknown history[0].status "gone"`},
		{KindOrder, `{"status":"paid",` + order + `,"tracking":[{"at":"2026-05-02T09:00:00Z"}]}`, "tracking[0] needs text_zh or text_en"},
		{KindOrder, `{"status":"paid",` + strings.Replace(order, `"s1"`, `"nobody"`, 1) + `}`, `unknown shopper "nobody"`},
		{KindShipment, `{"order_id":"XE1","carrier":"SF","tracking_no":"SF1","status":"shipped"}`, ""},
		{KindShipment, `{"carrier":"SF"}`, "order_id is required"},
		{KindShipment, `{"order_id":"XE1","status":"lost"}`, `unknown status "lost"`},
		{KindShipment, `{"order_id":"XE1","status":"delivered"}`, "a delivered shipment needs delivered_at"},
		{KindShipment, `{"order_id":"XE9","status":"shipped"}`, `unknown order "XE9"`},
		{KindProduct, `{"sku":"A","name_en":"Socks","price_cents":100}`, ""},
		{KindProduct, `{"sku":"A","price_cents":100}`, "needs name_zh or name_en"},
		{KindProduct, `{"sku":"A","name_en":"Socks","price_cents":-100}`, "price_cents must not be negative"},
		{KindProduct, `{"sku":"A","name_en":"Socks","statutory_exclusion":"food"}`, `unknown statutory_exclusion "food"`},
		{KindProduct, `{"type":"order","sku":"A","name_en":"Socks"}`, `type "order" sent as a product`},
		{"refund", `{}`, `unknown record type "refund"`},
	}
	for _, tt := range tests {
		store := &fakeStore{shoppers: map[string]bool{"s1": true}}
		store.orders = []bot.Order{{ID: "XE1", ShopperID: "s1"}}
		svc := New(store, func() time.Time { return testNow })
		_, err := svc.Put(context.Background(), tt.kind, []byte(tt.rec))
		var inv *InvalidError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %s: %v, want valid", tt.kind, tt.rec, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %s: got %v, want an error with %q", tt.kind, tt.rec, err, tt.want)
		case tt.want != "" && !errors.As(err, &inv):
			t.Errorf("%s %s: %v is not an *InvalidError", tt.kind, tt.rec, err)
		}
	}
}

func TestPutAllReportsEachRecord(t *testing.T) {
	store := &fakeStore{shoppers: map[string]bool{}}
	svc := New(store, func() time.Time { return testNow })
	res, err := svc.PutAll(context.Background(), KindShopper, []json.RawMessage{
		json.RawMessage(`{"id":"s1","lang":"zh"}`),
		json.RawMessage(`{"id":"s2","lang":"de"}`),
		json.RawMessage(`{"id":"s3","lang":"en"}`),
		json.RawMessage(`42`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Upserted != 2 || res.Failed != 2 || len(res.Errors) != 2 || res.Errors[0].Index != 1 || res.Errors[0].ID != "s2" || res.Errors[1].Index != 3 {
		t.Errorf("result %+v", res)
	}
	if !store.shoppers["s1"] || !store.shoppers["s3"] || store.shoppers["s2"] {
		t.Errorf("written %v: want the valid records written despite the others", store.shoppers)
	}
}

func TestPutLine(t *testing.T) {
	store := &fakeStore{shoppers: map[string]bool{}}
	svc := New(store, func() time.Time { return testNow })
	ctx := context.Background()
	if _, err := svc.PutLine(ctx, []byte(`{"type":"shopper","id":"s1","lang":"zh"}`)); err != nil || !store.shoppers["s1"] {
		t.Errorf("shopper line: %v", err)
	}
	for line, want := range map[string]string{
		`{"id":"s1"}`:                   "type is required",
		`{"type":"shoppers","id":"s1"}`: `unknown type "shoppers"`,
		`{"type":"refund"}`:             `unknown type "refund"`,
		`not json`:                      "bad JSON",
	} {
		if _, err := svc.PutLine(ctx, []byte(line)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", line, err, want)
		}
	}
}
