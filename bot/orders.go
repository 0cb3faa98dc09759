package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// orderReply answers a question about the shopper's own orders. Only a
// verified shopper's orders are ever read, and an order of someone else gets
// exactly the reply of an order that does not exist.
func (b *Bot) orderReply(ctx context.Context, t Turn, r reply, log *slog.Logger) (reply, string, error) {
	r, trigger, err := b.orderAnswer(ctx, t, r, log)
	// A delivered order whose no-reason return window has closed is never
	// the last word: a person can still look at the case.
	for _, c := range r.Cards {
		if c.Status == StatusDelivered && c.ReturnUntil == "" {
			r.Suggestions = []string{text(r.lang, msgTalkToPerson)}
			break
		}
	}
	return r, trigger, err
}

func (b *Bot) orderAnswer(ctx context.Context, t Turn, r reply, log *slog.Logger) (reply, string, error) {
	r.Intent = IntentOrder
	lang := r.lang
	if t.Shopper == nil {
		r.Text = text(lang, msgLoginForOrders)
		return r, "", nil
	}
	now := b.cfg.Now()
	var lines []string
	var shown []Order
	if ids := orderIDs(t.Text); len(ids) > 0 {
		for _, id := range ids {
			o, err := b.orders.OrderOf(ctx, t.Shopper.ID, id)
			switch {
			case errors.Is(err, ErrOtherShopper):
				log.Warn("security: order lookup across shoppers refused", "shopper", t.Shopper.ID, "order", maskID(id))
				lines = append(lines, fmt.Sprintf(text(lang, msgOrderNotFound), id))
			case errors.Is(err, ErrNotFound):
				lines = append(lines, fmt.Sprintf(text(lang, msgOrderNotFound), id))
			case err != nil:
				return r, "", fmt.Errorf("look up order: %w", err)
			default:
				lines = append(lines, orderSentence(o, lang, now))
				r.Cards = append(r.Cards, orderCard(o, lang, now))
				shown = append(shown, o)
			}
		}
		r.Text = strings.Join(lines, "\n")
		b.addNextStep(ctx, t, &r, shown, now, log)
		return r, "", nil
	}

	orders, err := b.orders.RecentOrders(ctx, t.Shopper.ID, 20)
	if err != nil {
		return r, "", fmt.Errorf("list orders: %w", err)
	}
	if len(orders) == 0 {
		r.Text = text(lang, msgNoOrders)
		return r, "", nil
	}
	var pick []Order
	for _, o := range orders {
		if len(pick) < 3 && (o.Status == StatusUnpaid || o.Status == StatusPaid || o.Status == StatusShipped) {
			pick = append(pick, o)
		}
	}
	intro := text(lang, msgOrdersIntro)
	if len(pick) == 0 {
		pick = orders[:1]
		intro = text(lang, msgOnlyPastOrders)
	}
	lines = append(lines, intro)
	for _, o := range pick {
		lines = append(lines, orderSentence(o, lang, now))
		r.Cards = append(r.Cards, orderCard(o, lang, now))
	}
	r.Text = strings.Join(lines, "\n")
	b.addNextStep(ctx, t, &r, pick, now, log)
	return r, "", nil
}

// maskID keeps the first and last few characters of an id for logs.
func maskID(id string) string {
	if len(id) <= 6 {
		return "***"
	}
	return id[:2] + strings.Repeat("*", len(id)-6) + id[len(id)-4:]
}

var statusWords = map[string][2]string{
	StatusUnpaid:    {"待付款", "awaiting payment"},
	StatusPaid:      {"已付款，待发货", "paid, waiting to ship"},
	StatusShipped:   {"运输中", "in transit"},
	StatusDelivered: {"已签收", "delivered"},
	StatusRefunded:  {"已退款", "refunded"},
	StatusCancelled: {"已取消", "cancelled"},
}

func statusText(status, lang string) string {
	w, ok := statusWords[status]
	if !ok {
		return status
	}
	if lang == "en" {
		return w[1]
	}
	return w[0]
}

// formatWhen formats a time for a shopper, in the shop's time zone.
func formatWhen(t time.Time, lang string) string {
	t = t.In(ShopZone)
	if lang == "en" {
		return t.Format("Jan 2, 15:04")
	}
	return fmt.Sprintf("%d月%d日 %s", t.Month(), t.Day(), t.Format("15:04"))
}

func formatDay(t time.Time, lang string) string {
	t = t.In(ShopZone)
	if lang == "en" {
		return t.Format("Jan 2")
	}
	return fmt.Sprintf("%d月%d日", t.Month(), t.Day())
}

func formatMoney(cents int64, currency string) string {
	sym := currency + " "
	if currency == "" || currency == "CNY" {
		sym = "¥"
	}
	return fmt.Sprintf("%s%d.%02d", sym, cents/100, cents%100)
}

func itemName(it OrderItem, lang string) string {
	if lang == "en" && it.NameEN != "" {
		return it.NameEN
	}
	if it.NameZH != "" {
		return it.NameZH
	}
	return it.NameEN
}

// statusTime returns when the order last reached status, or the zero time.
func statusTime(o Order, status string) time.Time {
	for i := len(o.History) - 1; i >= 0; i-- {
		if o.History[i].Status == status {
			return o.History[i].At
		}
	}
	return time.Time{}
}

func latestEvent(o Order) (TrackingEvent, bool) {
	if len(o.Tracking) == 0 {
		return TrackingEvent{}, false
	}
	latest := o.Tracking[0]
	for _, e := range o.Tracking[1:] {
		if e.At.After(latest.At) {
			latest = e
		}
	}
	return latest, true
}

func eventText(e TrackingEvent, lang string) string {
	if lang == "en" {
		if e.LocationEN != "" && !strings.Contains(strings.ToLower(e.TextEN), strings.ToLower(e.LocationEN)) {
			return e.LocationEN + ": " + e.TextEN
		}
		return e.TextEN
	}
	if e.LocationZH != "" && !strings.HasPrefix(e.TextZH, "【") && !strings.Contains(e.TextZH, e.LocationZH) {
		return "【" + e.LocationZH + "】" + e.TextZH
	}
	return e.TextZH
}

// orderSentence states an order's status in words, briefly: the card
// beside the text carries the items, total and tracking details.
func orderSentence(o Order, lang string, now time.Time) string {
	zh := lang != "en"
	switch o.Status {
	case StatusUnpaid:
		if zh {
			return fmt.Sprintf("订单 %s：待付款，应付 %s。", o.ID, formatMoney(o.TotalCents, o.Currency))
		}
		return fmt.Sprintf("Order %s is awaiting payment of %s.", o.ID, formatMoney(o.TotalCents, o.Currency))
	case StatusPaid:
		paid := statusTime(o, StatusPaid)
		if paid.IsZero() {
			paid = o.PlacedAt
		}
		if zh {
			return fmt.Sprintf("订单 %s：已于 %s 付款，仓库正在备货，发货后可查看物流。", o.ID, formatWhen(paid, lang))
		}
		return fmt.Sprintf("Order %s was paid on %s and is being prepared; tracking appears once it ships.", o.ID, formatWhen(paid, lang))
	case StatusShipped:
		var latest string
		if e, ok := latestEvent(o); ok {
			if zh {
				latest = fmt.Sprintf("最新：%s（%s）。", eventText(e, lang), formatWhen(e.At, lang))
			} else {
				latest = fmt.Sprintf(" Latest: %s (%s).", eventText(e, lang), formatWhen(e.At, lang))
			}
		}
		if zh {
			return fmt.Sprintf("订单 %s：运输中（%s %s）。%s", o.ID, o.Carrier, o.TrackingNo, latest)
		}
		return fmt.Sprintf("Order %s is on its way with %s (%s).%s", o.ID, o.Carrier, o.TrackingNo, latest)
	case StatusDelivered:
		s := ""
		if zh {
			s = fmt.Sprintf("订单 %s：已于 %s 签收。", o.ID, formatWhen(o.DeliveredAt, lang))
		} else {
			s = fmt.Sprintf("Order %s was delivered on %s.", o.ID, formatWhen(o.DeliveredAt, lang))
		}
		if w, ok := ReturnWindowOf(o, now); ok {
			s += returnSentence(w, lang)
		}
		return s
	case StatusRefunded:
		at := statusTime(o, StatusRefunded)
		if zh {
			if at.IsZero() {
				return fmt.Sprintf("订单 %s：已退款 %s。", o.ID, formatMoney(o.TotalCents, o.Currency))
			}
			return fmt.Sprintf("订单 %s：已于 %s 退款 %s，原路退回。", o.ID, formatWhen(at, lang), formatMoney(o.TotalCents, o.Currency))
		}
		if at.IsZero() {
			return fmt.Sprintf("Order %s has been refunded (%s).", o.ID, formatMoney(o.TotalCents, o.Currency))
		}
		return fmt.Sprintf("Order %s was refunded on %s: %s back to the original payment method.", o.ID, formatWhen(at, lang), formatMoney(o.TotalCents, o.Currency))
	default:
		if zh {
			return fmt.Sprintf("订单 %s：%s。", o.ID, statusText(o.Status, lang))
		}
		return fmt.Sprintf("Order %s: %s.", o.ID, statusText(o.Status, lang))
	}
}

// returnSentence states the 7-day no-reason return window, computed by
// ReturnWindowOf: the bot never decides eligibility by itself.
func returnSentence(w ReturnWindow, lang string) string {
	zh := lang != "en"
	var s string
	switch {
	case w.Open && zh:
		s = fmt.Sprintf("七天无理由退货可申请至 %s 24:00。", formatDay(w.Until, lang))
	case w.Open:
		s = fmt.Sprintf(" You can request a 7-day no-reason return until the end of %s.", formatDay(w.Until, lang))
	case zh:
		s = fmt.Sprintf("七天无理由退货期已于 %s 结束；如有质量问题仍可申请售后。", formatDay(w.Until, lang))
	default:
		s = fmt.Sprintf(" The 7-day no-reason return period ended on %s; quality problems are still covered by after-sales service.", formatDay(w.Until, lang))
	}
	if w.Open && len(w.Excluded) > 0 {
		var names []string
		for _, it := range w.Excluded {
			names = append(names, itemName(it, lang))
		}
		if zh {
			s += fmt.Sprintf("其中 %s 不适用七天无理由退货。", strings.Join(names, "、"))
		} else {
			s += fmt.Sprintf(" %s cannot be returned without reason.", strings.Join(names, ", "))
		}
	}
	return s
}

// orderCard is the structured order shown beside the reply.
func orderCard(o Order, lang string, now time.Time) Card {
	c := Card{
		Kind:       "order",
		OrderID:    o.ID,
		Status:     o.Status,
		StatusText: statusText(o.Status, lang),
		Total:      formatMoney(o.TotalCents, o.Currency),
		Carrier:    o.Carrier,
		TrackingNo: o.TrackingNo,
		PlacedAt:   formatWhen(o.PlacedAt, lang),
	}
	for _, it := range o.Items {
		c.Items = append(c.Items, CardItem{Name: itemName(it, lang), Qty: it.Qty})
	}
	if e, ok := latestEvent(o); ok {
		c.LatestEvent = &CardEvent{Time: formatWhen(e.At, lang), Text: eventText(e, lang)}
	}
	if w, ok := ReturnWindowOf(o, now); ok && w.Open {
		c.ReturnUntil = formatDay(w.Until, lang)
	}
	return c
}

// ReturnDaysLeft is how many calendar days (in ShopZone, today included)
// remain in an open return window at now: 1 on its last day.
func ReturnDaysLeft(w ReturnWindow, now time.Time) int {
	if !w.Open {
		return 0
	}
	day := func(t time.Time) time.Time {
		t = t.In(ShopZone)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, ShopZone)
	}
	return int(day(w.Until).Sub(day(now))/(24*time.Hour)) + 1
}

// nextStep is what a shopper can do next with a delivered order whose
// no-reason return window is open: the days left to return it, a review,
// buying it again; with chips for a return and for suggestions. ok is
// false for any other order.
func nextStep(o Order, lang string, now time.Time) (line string, chips []string, ok bool) {
	w, delivered := ReturnWindowOf(o, now)
	if !delivered || !w.Open || len(w.Excluded) == len(o.Items) {
		return "", nil, false
	}
	left := ReturnDaysLeft(w, now)
	if left <= 1 {
		line = text(lang, msgNextStepLastDay)
	} else {
		line = fmt.Sprintf(text(lang, msgNextStepReturn), left, formatDay(w.Until, lang))
	}
	return line, []string{text(lang, msgChipReturn), text(lang, msgChipRecommend)}, true
}

// addNextStep adds the next step of the first delivered order among
// orders to r, once; an order the shopper already confirmed a return of
// is skipped (one query per order with an open window, with Deps.Returns).
func (b *Bot) addNextStep(ctx context.Context, t Turn, r *reply, orders []Order, now time.Time, log *slog.Logger) {
	for _, o := range orders {
		if line, chips, ok := nextStep(o, r.lang, now); ok {
			if b.returns != nil && t.Shopper != nil {
				returned, err := b.returns.HasReturnRequest(ctx, t.Shopper.ID, o.ID)
				if err != nil {
					log.Warn("look up a return of the order", "err", err)
					return
				}
				if returned {
					continue
				}
			}
			r.Text = strings.TrimSpace(r.Text) + "\n" + line
			for _, c := range chips {
				if !slices.Contains(r.Suggestions, c) {
					r.Suggestions = append(r.Suggestions, c)
				}
			}
			return
		}
	}
}
