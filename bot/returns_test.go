package bot

import (
	"testing"
	"time"
)

func TestReturnWindowOf(t *testing.T) {
	// Signed for at 22:30 on Nov 10 (Beijing time): day 1 is Nov 11, day 7 is
	// Nov 17, so a return may be asked until the end of Nov 17.
	signed := time.Date(2026, 11, 10, 22, 30, 0, 0, ShopZone)
	order := Order{Status: StatusDelivered, DeliveredAt: signed.UTC(), Items: []OrderItem{
		{SKU: "A", Qty: 1},
		{SKU: "B", Qty: 1, StatutoryExclusion: "custom"},
		{SKU: "C", Qty: 1, NonReturnableConfirmed: true},
	}}
	tests := []struct {
		name string
		now  time.Time
		open bool
	}{
		{"same evening", signed.Add(time.Hour), true},
		{"day 7 at noon", time.Date(2026, 11, 17, 12, 0, 0, 0, ShopZone), true},
		{"day 7 last second", time.Date(2026, 11, 17, 23, 59, 59, 0, ShopZone), true},
		{"day 8 midnight", time.Date(2026, 11, 18, 0, 0, 0, 0, ShopZone), false},
		{"afternoon of day 7 in UTC is day 8 in Beijing", time.Date(2026, 11, 17, 16, 30, 0, 0, time.UTC), false},
		{"a month later", signed.AddDate(0, 1, 0), false},
	}
	for _, tt := range tests {
		w, ok := ReturnWindowOf(order, tt.now)
		if !ok {
			t.Fatalf("%s: delivered order has no window", tt.name)
		}
		if w.Open != tt.open {
			t.Errorf("%s: open = %v, want %v (until %v)", tt.name, w.Open, tt.open, w.Until)
		}
		if len(w.Excluded) != 2 || w.Excluded[0].SKU != "B" || w.Excluded[1].SKU != "C" {
			t.Errorf("%s: excluded = %+v, want items B and C", tt.name, w.Excluded)
		}
	}
	if _, ok := ReturnWindowOf(Order{Status: StatusShipped}, signed); ok {
		t.Error("an order in transit has a return window")
	}
}
