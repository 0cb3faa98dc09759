package bot

import (
	"sort"
	"time"
)

// Segment rules (docs/profiles.md). They are checked in this order and the
// first that holds names the segment.
const (
	// NewDays: a first counted order within this many days makes a shopper new.
	NewDays = 30
	// HighValueCents: spending at least this much (¥3000) in the last 365
	// days, with a counted order in the last HighValueRecency days, makes a
	// shopper high value.
	HighValueCents   = 300000
	HighValueRecency = 90
	// LoyalOrders counted orders in the last 365 days, the last within
	// LoyalRecency days, make a shopper loyal.
	LoyalOrders  = 3
	LoyalRecency = 60
	// AtRiskRecency: a shopper with at least 2 counted orders whose last is
	// more than this many days ago (and at most LapsedRecency) is at risk.
	AtRiskRecency = 90
	// LapsedRecency: a last counted order more than this many days ago
	// makes a shopper lapsed.
	LapsedRecency = 180
)

// counted reports whether an order counts as a purchase: unpaid and
// cancelled orders do not.
func counted(o Order) bool {
	return o.Status != StatusUnpaid && o.Status != StatusCancelled
}

// ComputeFeatures computes a shopper's features from all their orders at
// now. categoryOf maps an item's SKU to its catalog category ("" when
// unknown; such items count towards no category). Recency is counted in
// whole days (24 h) since the last counted order; refunded orders count
// towards frequency but not towards the money spent or the average order
// value. Ties in favourite categories, payment and carrier go to the most
// recent use, then alphabetical order.
func ComputeFeatures(orders []Order, categoryOf func(sku string) string, now time.Time) Features {
	f := Features{FavCategories: []string{}, ComputedAt: now}
	yearAgo := now.AddDate(0, 0, -365)
	cats, pays, carriers := map[string]*tally{}, map[string]*tally{}, map[string]*tally{}
	add := func(m map[string]*tally, key string, n int, at time.Time) {
		if key == "" {
			return
		}
		t := m[key]
		if t == nil {
			t = &tally{}
			m[key] = t
		}
		t.n += n
		if at.After(t.last) {
			t.last = at
		}
	}
	var paidOrders int
	var paidCents int64
	for _, o := range orders {
		if !counted(o) {
			continue
		}
		f.Orders++
		if f.FirstOrderAt.IsZero() || o.PlacedAt.Before(f.FirstOrderAt) {
			f.FirstOrderAt = o.PlacedAt
		}
		if o.PlacedAt.After(f.LastOrderAt) {
			f.LastOrderAt = o.PlacedAt
		}
		inYear := !o.PlacedAt.Before(yearAgo)
		if inYear {
			f.Frequency365d++
		}
		if o.Status != StatusRefunded {
			paidOrders++
			paidCents += o.TotalCents
			if inYear {
				f.MonetaryCents += o.TotalCents
			}
		}
		add(pays, o.Payment, 1, o.PlacedAt)
		add(carriers, o.Carrier, 1, o.PlacedAt)
		if categoryOf != nil {
			for _, it := range o.Items {
				add(cats, categoryOf(it.SKU), max(it.Qty, 1), o.PlacedAt)
			}
		}
	}
	if paidOrders > 0 {
		f.AOVCents = paidCents / int64(paidOrders)
	}
	f.FavCategories = append(f.FavCategories, ranked(cats)...)
	if p := ranked(pays); len(p) > 0 {
		f.PreferredPayment = p[0]
	}
	if c := ranked(carriers); len(c) > 0 {
		f.PreferredCarrier = c[0]
	}
	f.Refresh(now)
	return f
}

// tally counts the uses of one category, payment method or carrier.
type tally struct {
	n    int
	last time.Time
}

// ranked returns the keys of m by count, then most recent use, then name.
func ranked(m map[string]*tally) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := m[keys[i]], m[keys[j]]
		if a.n != b.n {
			return a.n > b.n
		}
		if !a.last.Equal(b.last) {
			return a.last.After(b.last)
		}
		return keys[i] < keys[j]
	})
	return keys
}

// Refresh recomputes the recency and segment of f at now from its stored
// counts. The 365-day counts (Frequency365d, MonetaryCents) are not moved:
// they change only when ComputeFeatures runs again (at every order write
// and in the daily refresh), so between refreshes they may be up to a day
// old.
func (f *Features) Refresh(now time.Time) {
	f.ComputedAt = now
	if f.Orders == 0 || f.LastOrderAt.IsZero() {
		f.RecencyDays = 0
		f.Segment = SegmentProspect
		return
	}
	f.RecencyDays = max(0, int(now.Sub(f.LastOrderAt)/(24*time.Hour)))
	f.Segment = segmentOf(*f, now)
}

// segmentOf applies the segment rules, first match wins.
func segmentOf(f Features, now time.Time) string {
	switch {
	case f.Orders == 0:
		return SegmentProspect
	case now.Sub(f.FirstOrderAt) <= NewDays*24*time.Hour:
		return SegmentNew
	case f.RecencyDays > LapsedRecency:
		return SegmentLapsed
	case f.MonetaryCents >= HighValueCents && f.RecencyDays <= HighValueRecency:
		return SegmentHighValue
	case f.Frequency365d >= LoyalOrders && f.RecencyDays <= LoyalRecency:
		return SegmentLoyal
	case f.Orders >= 2 && f.RecencyDays > AtRiskRecency:
		return SegmentAtRisk
	}
	return SegmentRegular
}
