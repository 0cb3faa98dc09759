package bot

import (
	"slices"
	"testing"
	"time"
)

func TestComputeFeaturesSegments(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, ShopZone)
	ago := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	order := func(days int, status string, cents int64) Order {
		return Order{Status: status, TotalCents: cents, PlacedAt: ago(days)}
	}
	tests := []struct {
		name    string
		orders  []Order
		segment string
		recency int
	}{
		{"no orders", nil, SegmentProspect, 0},
		{"only unpaid and cancelled orders", []Order{order(3, StatusUnpaid, 1000), order(400, StatusCancelled, 1000)}, SegmentProspect, 0},
		{"first order 10 days ago", []Order{order(10, StatusDelivered, 5000)}, SegmentNew, 10},
		{"first order exactly 30 days ago", []Order{order(30, StatusDelivered, 5000)}, SegmentNew, 30},
		{"first order 31 days ago, one order", []Order{order(31, StatusDelivered, 5000)}, SegmentRegular, 31},
		{"¥3000 in the year, last 90 days ago", []Order{order(200, StatusDelivered, 200000), order(90, StatusDelivered, 100000)}, SegmentHighValue, 90},
		{"¥3000 in the year, last 91 days ago", []Order{order(200, StatusDelivered, 200000), order(91, StatusDelivered, 100000)}, SegmentAtRisk, 91},
		{"¥2999.99 in the year", []Order{order(200, StatusDelivered, 200000), order(20, StatusDelivered, 99999)}, SegmentRegular, 20},
		{"a refunded order is not money spent", []Order{order(200, StatusDelivered, 200000), order(20, StatusRefunded, 100000)}, SegmentRegular, 20},
		{"money older than 365 days is not counted", []Order{order(366, StatusDelivered, 500000), order(20, StatusDelivered, 1000)}, SegmentRegular, 20},
		{"3 orders in the year, last 60 days ago", []Order{order(300, StatusDelivered, 1000), order(200, StatusDelivered, 1000), order(60, StatusDelivered, 1000)}, SegmentLoyal, 60},
		{"3 orders in the year, last 61 days ago", []Order{order(300, StatusDelivered, 1000), order(200, StatusDelivered, 1000), order(61, StatusDelivered, 1000)}, SegmentRegular, 61},
		{"refunded orders count towards frequency", []Order{order(300, StatusRefunded, 1000), order(200, StatusDelivered, 1000), order(5, StatusShipped, 1000)}, SegmentLoyal, 5},
		{"2 orders, last 120 days ago", []Order{order(300, StatusDelivered, 1000), order(120, StatusDelivered, 1000)}, SegmentAtRisk, 120},
		{"2 orders, last 180 days ago", []Order{order(300, StatusDelivered, 1000), order(180, StatusDelivered, 1000)}, SegmentAtRisk, 180},
		{"1 order 120 days ago is not at risk", []Order{order(120, StatusDelivered, 1000)}, SegmentRegular, 120},
		{"last order 181 days ago", []Order{order(300, StatusDelivered, 1000), order(181, StatusDelivered, 1000)}, SegmentLapsed, 181},
		{"one order 2 years ago", []Order{order(730, StatusDelivered, 900000)}, SegmentLapsed, 730},
	}
	for _, tt := range tests {
		f := ComputeFeatures(tt.orders, nil, now)
		if f.Segment != tt.segment || f.RecencyDays != tt.recency {
			t.Errorf("%s: segment %q recency %d, want %q and %d (features %+v)", tt.name, f.Segment, f.RecencyDays, tt.segment, tt.recency, f)
		}
	}
}

func TestComputeFeaturesCounts(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, ShopZone)
	ago := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	cat := map[string]string{"RUN-1": "sports", "RUN-2": "sports", "TEA-1": "tea", "MUG-1": "home"}
	orders := []Order{
		{Status: StatusDelivered, TotalCents: 30000, PlacedAt: ago(400), Payment: "alipay", Carrier: "SF",
			Items: []OrderItem{{SKU: "MUG-1", Qty: 1}}},
		{Status: StatusDelivered, TotalCents: 20000, PlacedAt: ago(100), Payment: "wechat", Carrier: "JD",
			Items: []OrderItem{{SKU: "TEA-1", Qty: 1}, {SKU: "RUN-1", Qty: 1}}},
		{Status: StatusRefunded, TotalCents: 50000, PlacedAt: ago(50), Payment: "wechat", Carrier: "SF",
			Items: []OrderItem{{SKU: "RUN-2", Qty: 1}}},
		{Status: StatusShipped, TotalCents: 10000, PlacedAt: ago(3), Payment: "alipay", Carrier: "SF",
			Items: []OrderItem{{SKU: "TEA-1", Qty: 2}, {SKU: "UNKNOWN", Qty: 1}}},
		{Status: StatusCancelled, TotalCents: 99900, PlacedAt: ago(1), Payment: "card", Carrier: "EMS",
			Items: []OrderItem{{SKU: "MUG-1", Qty: 9}}},
	}
	f := ComputeFeatures(orders, func(sku string) string { return cat[sku] }, now)
	if f.Orders != 4 || f.Frequency365d != 3 {
		t.Errorf("orders %d, in 365 days %d; want 4 and 3", f.Orders, f.Frequency365d)
	}
	if f.MonetaryCents != 30000 {
		t.Errorf("monetary %d, want 30000 (refunded, cancelled and older orders excluded)", f.MonetaryCents)
	}
	if f.AOVCents != 20000 {
		t.Errorf("AOV %d, want 20000 (the mean of 3 paid orders)", f.AOVCents)
	}
	if want := []string{"tea", "sports", "home"}; !slices.Equal(f.FavCategories, want) {
		t.Errorf("favourite categories %v, want %v", f.FavCategories, want)
	}
	// alipay 2, wechat 2: the most recent use wins.
	if f.PreferredPayment != "alipay" || f.PreferredCarrier != "SF" {
		t.Errorf("payment %q carrier %q, want alipay and SF", f.PreferredPayment, f.PreferredCarrier)
	}
	if !f.FirstOrderAt.Equal(ago(400)) || !f.LastOrderAt.Equal(ago(3)) || f.RecencyDays != 3 {
		t.Errorf("first %v last %v recency %d", f.FirstOrderAt, f.LastOrderAt, f.RecencyDays)
	}
	if f.Segment != SegmentLoyal {
		t.Errorf("segment %q, want loyal", f.Segment)
	}

	// Refresh moves recency and the segment with time.
	f.Refresh(now.AddDate(0, 0, 200))
	if f.RecencyDays != 203 || f.Segment != SegmentLapsed {
		t.Errorf("200 days later: recency %d segment %q, want 203 and lapsed", f.RecencyDays, f.Segment)
	}
}
