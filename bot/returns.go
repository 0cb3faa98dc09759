package bot

import "time"

// ShopZone is the time zone return windows are counted in: China Standard
// Time, UTC+8 all year (no daylight saving), so a fixed zone needs no tzdata.
var ShopZone = time.FixedZone("CST", 8*60*60)

// ReturnDays is the no-reason return period of China's Consumer Rights
// Protection Law, Art. 25.
const ReturnDays = 7

// ReturnWindow is the 7-day no-reason return period of a delivered order.
type ReturnWindow struct {
	// Until is the last instant a return may be requested: the end of the
	// 7th day counted from the day after the shopper signed for the parcel
	// (SAMR 2017 measures), in ShopZone.
	Until time.Time
	// Open is whether now is within the window.
	Open bool
	// Excluded lists the items that the law or the shopper's confirmation at
	// checkout excludes from no-reason returns.
	Excluded []OrderItem
}

// ReturnWindowOf computes the no-reason return window of an order at now.
// ok is false when the order has not been delivered.
func ReturnWindowOf(o Order, now time.Time) (w ReturnWindow, ok bool) {
	if o.Status != StatusDelivered || o.DeliveredAt.IsZero() {
		return w, false
	}
	d := o.DeliveredAt.In(ShopZone)
	signedDay := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, ShopZone)
	// Day 1 is the day after signing; the window ends when day 7 ends.
	w.Until = signedDay.AddDate(0, 0, ReturnDays+1).Add(-time.Nanosecond)
	w.Open = !now.After(w.Until)
	for _, it := range o.Items {
		if it.StatutoryExclusion != "" || it.NonReturnableConfirmed {
			w.Excluded = append(w.Excluded, it)
		}
	}
	return w, true
}
