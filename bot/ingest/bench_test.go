package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/ingest"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
)

// BenchmarkPutAllOrders ingests batches of 100 new orders (validation,
// one transaction per order, the shopper's features recomputed with each)
// into the real store, as the ingestion API does; orders/s is the figure
// a shop's backend sees.
func BenchmarkPutAllOrders(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	svc := ingest.New(store, nil)
	var shoppers []json.RawMessage
	for i := range 100 {
		shoppers = append(shoppers, json.RawMessage(fmt.Sprintf(`{"id":"s%d","name":"Shopper %d","lang":"zh"}`, i, i)))
	}
	if res, err := svc.PutAll(ctx, "shopper", shoppers); err != nil || res.Failed > 0 {
		b.Fatalf("shoppers: %d failed, first %+v, %v", res.Failed, res.Errors[:min(1, len(res.Errors))], err)
	}
	placed := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		batch := make([]json.RawMessage, 0, 100)
		for range 100 {
			n++
			batch = append(batch, json.RawMessage(fmt.Sprintf(`{"id":"O%07d","shopper_id":"s%d","status":"paid","currency":"CNY",
				"total_cents":12900,"payment":"alipay","placed_at":%q,"items":[{"sku":"SKU-1","name_zh":"绿茶","qty":1,"price_cents":12900}]}`,
				n, n%100, placed)))
		}
		res, err := svc.PutAll(ctx, "order", batch)
		if err != nil || res.Failed > 0 {
			b.Fatalf("orders: %d failed, first %+v, %v", res.Failed, res.Errors[:min(1, len(res.Errors))], err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "orders/s")
}
