package bot

import (
	"context"
	"time"
)

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

// Reasons Eligible gives for an item's no-reason return eligibility.
const (
	ReturnWindowOpen      = "window_open"
	ReturnWindowClosed    = "window_closed"
	ReturnNotDelivered    = "not_delivered"
	ReturnOrderRefunded   = "order_refunded"
	ReturnOrderCancelled  = "order_cancelled"
	ReturnConfirmedAtSale = "confirmed_non_returnable_at_purchase"
	// ReturnStatutoryPrefix starts the reason of an item in one of the 4
	// statutory categories: "statutory_custom", "statutory_perishable",
	// "statutory_digital" or "statutory_periodical".
	ReturnStatutoryPrefix = "statutory_"
)

// Eligible decides whether item of order o may be returned without reason at
// now (CPRL Art. 25, SAMR 2017 measures), and why: ReturnWindowOpen when it
// may; otherwise the item's statutory category (ReturnStatutoryPrefix +
// category), ReturnConfirmedAtSale, ReturnWindowClosed, ReturnNotDelivered,
// ReturnOrderRefunded or ReturnOrderCancelled. until is the last instant of
// the window (ShopZone), zero when the order has not been delivered.
//
// Only the 4 statutory categories and items the shopper confirmed as
// non-returnable at checkout are excluded: an ordinary item stays eligible
// whether or not it was opened. Eligibility concerns no-reason returns
// only; quality problems are covered whatever it says.
func Eligible(o Order, item OrderItem, now time.Time) (ok bool, reason string, until time.Time) {
	w, delivered := ReturnWindowOf(o, now)
	if !delivered {
		switch o.Status {
		case StatusRefunded:
			return false, ReturnOrderRefunded, time.Time{}
		case StatusCancelled:
			return false, ReturnOrderCancelled, time.Time{}
		}
		return false, ReturnNotDelivered, time.Time{}
	}
	switch {
	case item.StatutoryExclusion != "":
		return false, ReturnStatutoryPrefix + item.StatutoryExclusion, w.Until
	case item.NonReturnableConfirmed:
		return false, ReturnConfirmedAtSale, w.Until
	case !w.Open:
		return false, ReturnWindowClosed, w.Until
	}
	return true, ReturnWindowOpen, w.Until
}

// Return proposal statuses.
const (
	ReturnProposed  = "proposed"
	ReturnConfirmed = "confirmed"
	ReturnCancelled = "cancelled"
)

// ReturnItem is one SKU of a return and how many of it.
type ReturnItem struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// ReturnProposal is a return the bot prepared for a shopper. Nothing is
// submitted until the shopper presses Confirm on its card: the model can
// propose a return, never make one.
type ReturnProposal struct {
	ID             string // "rp_…"
	ConversationID string
	ShopperID      string
	OrderID        string
	Items          []ReturnItem
	Reason         string
	Status         string // ReturnProposed, ReturnConfirmed or ReturnCancelled
	ReturnID       string // "r_…", the submitted return request once confirmed
	CreatedAt      time.Time
	DecidedAt      time.Time // when it was confirmed or cancelled
}

// Returns stores return proposals and the return requests the shopper
// confirmed.
type Returns interface {
	// ProposeReturn stores p as a new proposal (status ReturnProposed) and
	// returns it with its id and creation time set.
	ProposeReturn(ctx context.Context, p ReturnProposal) (ReturnProposal, error)
	// ReturnProposalOf returns a proposal of shopperID, or an error that
	// errors.Is ErrNotFound (ErrOtherShopper when it is someone else's).
	ReturnProposalOf(ctx context.Context, shopperID, proposalID string) (ReturnProposal, error)
	// ConfirmReturn submits the proposal as a return request, atomically.
	// Confirming a confirmed proposal again returns it with the same
	// ReturnID and created false. A cancelled proposal gives ErrConflict.
	ConfirmReturn(ctx context.Context, shopperID, proposalID string) (p ReturnProposal, created bool, err error)
	// CancelReturn cancels a proposal; cancelling a cancelled one again
	// is no error. A confirmed proposal gives ErrConflict.
	CancelReturn(ctx context.Context, shopperID, proposalID string) (ReturnProposal, error)
	// HasReturnRequest reports whether the shopper confirmed a return of
	// (part of) the order.
	HasReturnRequest(ctx context.Context, shopperID, orderID string) (bool, error)
}
