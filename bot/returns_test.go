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

func TestEligible(t *testing.T) {
	// Signed for on day D = Nov 10 (Beijing time), just before midnight:
	// eligible through the end of D+7 = Nov 17, not on D+8 = Nov 18.
	signed := time.Date(2026, 11, 10, 23, 59, 0, 0, ShopZone)
	until := time.Date(2026, 11, 17, 23, 59, 59, 999999999, ShopZone)
	delivered := Order{Status: StatusDelivered, DeliveredAt: signed.UTC()}
	ordinary := OrderItem{SKU: "A", Qty: 1}
	day := func(d, h, m, s int) time.Time { return time.Date(2026, 11, d, h, m, s, 0, ShopZone) }
	tests := []struct {
		name       string
		order      Order
		item       OrderItem
		now        time.Time
		ok         bool
		reason     string
		untilEqual time.Time
	}{
		{"day D, right after signing", delivered, ordinary, signed.Add(time.Minute), true, ReturnWindowOpen, until},
		{"day D+1, the first day counted", delivered, ordinary, day(11, 0, 0, 0), true, ReturnWindowOpen, until},
		{"day D+7 at 00:00", delivered, ordinary, day(17, 0, 0, 0), true, ReturnWindowOpen, until},
		{"day D+7 at 23:59:59", delivered, ordinary, day(17, 23, 59, 59), true, ReturnWindowOpen, until},
		{"day D+8 at 00:00", delivered, ordinary, day(18, 0, 0, 0), false, ReturnWindowClosed, until},
		{"day D+8 at noon", delivered, ordinary, day(18, 12, 0, 0), false, ReturnWindowClosed, until},
		{"16:00 UTC on D+7 is 00:00 on D+8 in Beijing", delivered, ordinary, time.Date(2026, 11, 17, 16, 0, 0, 0, time.UTC), false, ReturnWindowClosed, until},
		{"15:59 UTC on D+7 is still D+7 in Beijing", delivered, ordinary, time.Date(2026, 11, 17, 15, 59, 59, 0, time.UTC), true, ReturnWindowOpen, until},
		{"an opened ordinary item stays eligible", delivered, OrderItem{SKU: "opened-box", Qty: 1}, day(12, 9, 0, 0), true, ReturnWindowOpen, until},
		{"custom-made", delivered, OrderItem{SKU: "B", StatutoryExclusion: "custom"}, day(12, 9, 0, 0), false, "statutory_custom", until},
		{"perishable", delivered, OrderItem{SKU: "C", StatutoryExclusion: "perishable"}, day(12, 9, 0, 0), false, "statutory_perishable", until},
		{"digital", delivered, OrderItem{SKU: "D", StatutoryExclusion: "digital"}, day(12, 9, 0, 0), false, "statutory_digital", until},
		{"periodical", delivered, OrderItem{SKU: "E", StatutoryExclusion: "periodical"}, day(12, 9, 0, 0), false, "statutory_periodical", until},
		{"confirmed non-returnable at purchase", delivered, OrderItem{SKU: "F", NonReturnableConfirmed: true}, day(12, 9, 0, 0), false, ReturnConfirmedAtSale, until},
		{"in transit", Order{Status: StatusShipped}, ordinary, day(12, 9, 0, 0), false, ReturnNotDelivered, time.Time{}},
		{"paid, not shipped", Order{Status: StatusPaid}, ordinary, day(12, 9, 0, 0), false, ReturnNotDelivered, time.Time{}},
		{"refunded", Order{Status: StatusRefunded, DeliveredAt: signed}, ordinary, day(12, 9, 0, 0), false, ReturnOrderRefunded, time.Time{}},
		{"cancelled", Order{Status: StatusCancelled}, ordinary, day(12, 9, 0, 0), false, ReturnOrderCancelled, time.Time{}},
	}
	for _, tt := range tests {
		ok, reason, gotUntil := Eligible(tt.order, tt.item, tt.now)
		if ok != tt.ok || reason != tt.reason {
			t.Errorf("%s: Eligible = %v, %q; want %v, %q", tt.name, ok, reason, tt.ok, tt.reason)
		}
		if !gotUntil.Equal(tt.untilEqual) {
			t.Errorf("%s: until = %v, want %v", tt.name, gotUntil, tt.untilEqual)
		}
	}
}
