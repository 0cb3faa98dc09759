package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// benchShopper stores a shopper with n delivered orders of two items each.
func benchShopper(b *testing.B, s *Store, id string, n int) {
	b.Helper()
	ctx := context.Background()
	if err := s.PutShopper(ctx, bot.Shopper{ID: id, Name: "Bench", Lang: "zh", Tier: "gold", Interests: []string{"跑步", "茶饮"}}); err != nil {
		b.Fatal(err)
	}
	products := []bot.Product{{SKU: "A", NameZH: "跑步鞋", Category: "apparel", PriceCents: 35900}, {SKU: "B", NameZH: "绿茶", Category: "food", PriceCents: 5900}}
	if err := s.PutShop(ctx, Shop{Products: products}); err != nil {
		b.Fatal(err)
	}
	start := time.Now().AddDate(0, 0, -n)
	for i := range n {
		o := bot.Order{ID: fmt.Sprintf("%s-%04d", id, i), ShopperID: id, Status: bot.StatusDelivered, Currency: "CNY",
			TotalCents: 41800, Payment: "alipay", Carrier: "SF", PlacedAt: start.AddDate(0, 0, i),
			Items: []bot.OrderItem{{SKU: "A", Qty: 1, PriceCents: 35900}, {SKU: "B", Qty: 1, PriceCents: 5900}}}
		if err := s.PutOrder(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProfile is what every turn of a verified shopper pays to see
// their current consent and features.
func BenchmarkProfile(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "x.db"))
	benchShopper(b, s, "s1", 50)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Profile(ctx, "s1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutOrderRecomputesFeatures writes one order of a shopper who
// has 100, recomputing their features in the same transaction.
func BenchmarkPutOrderRecomputesFeatures(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "x.db"))
	benchShopper(b, s, "s1", 100)
	ctx := context.Background()
	o := bot.Order{ID: "s1-new", ShopperID: "s1", Status: bot.StatusPaid, Currency: "CNY", TotalCents: 5900,
		PlacedAt: time.Now(), Items: []bot.OrderItem{{SKU: "B", Qty: 1, PriceCents: 5900}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PutOrder(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}
