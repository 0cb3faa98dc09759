package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

func TestBoughtSKUs(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	order := func(id, shopper, status string, placed time.Time, skus ...string) bot.Order {
		o := bot.Order{ID: id, ShopperID: shopper, Status: status, Currency: "CNY", PlacedAt: placed}
		for _, sku := range skus {
			o.Items = append(o.Items, bot.OrderItem{SKU: sku, Qty: 1, PriceCents: 100})
		}
		return o
	}
	orders := []bot.Order{
		order("OLD", "s1", bot.StatusDelivered, now.AddDate(-2, 0, 0), "SOCKS"), // older than 250 newer orders
		order("CAN", "s1", bot.StatusCancelled, now.AddDate(0, 0, -1), "SHOES"),
		order("MIX", "s1", bot.StatusRefunded, now.AddDate(0, 0, -2), "MUG", ""),
		order("OTHER", "s2", bot.StatusDelivered, now, "CREAM"),
	}
	for i := range 250 {
		orders = append(orders, order(fmt.Sprintf("N%03d", i), "s1", bot.StatusDelivered, now.AddDate(0, 0, -i-3), "TEA"))
	}
	if err := s.PutShop(ctx, Shop{Shoppers: []bot.Shopper{{ID: "s1"}, {ID: "s2"}}, Orders: orders}); err != nil {
		t.Fatal(err)
	}
	got, err := s.BoughtSKUs(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"MUG", "SOCKS", "TEA"}; !slices.Equal(got, want) {
		t.Errorf("bought %q, want %q: every order not cancelled (refunded counts), each SKU once, no one else's", got, want)
	}
	if got, err := s.BoughtSKUs(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("shopper without orders: %q, %v", got, err)
	}
}

// BenchmarkRecommendationReads is what the store pays for one
// recommendation (a request, or a thanks or goodbye with consent) of a
// shopper with 300 orders: the catalog and the SKUs they bought. The
// sub-benchmark recent_orders_200 is the read it replaced (200 full
// orders, 3 queries each), for comparison.
func BenchmarkRecommendationReads(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "x.db"))
	benchShopper(b, s, "s1", 300)
	ctx := context.Background()
	b.Run("bought_skus", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Products(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := s.BoughtSKUs(ctx, "s1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("recent_orders_200", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Products(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := s.RecentOrders(ctx, "s1", 200); err != nil {
				b.Fatal(err)
			}
		}
	})
}
