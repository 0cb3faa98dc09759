package bot

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// The order tools' results: projections of the shopper's orders with only
// what an answer needs, and the return proposal. Times are in ShopZone
// (RFC 3339 with +08:00), days are YYYY-MM-DD.

type toolItem struct {
	SKU   string `json:"sku,omitempty"`
	Name  string `json:"name"`
	Qty   int    `json:"qty"`
	Price string `json:"price,omitempty"`
}

type toolWindow struct {
	Open bool `json:"open"`
	// LastDay is the last day a no-reason return may be requested.
	LastDay string `json:"last_day"`
	// Excluded are the SKUs the law or a confirmation at checkout excludes.
	Excluded []string `json:"excluded_skus,omitempty"`
}

type toolOrderSummary struct {
	ID           string      `json:"order_id"`
	Status       string      `json:"status"`
	StatusText   string      `json:"status_text"`
	PlacedOn     string      `json:"placed_on"`
	Items        []toolItem  `json:"items"`
	Total        string      `json:"total"`
	ReturnWindow *toolWindow `json:"return_window,omitempty"`
}

type toolEvent struct {
	Time string `json:"time"`
	Text string `json:"text"`
}

type toolOrderDetail struct {
	ID           string      `json:"order_id"`
	Status       string      `json:"status"`
	StatusText   string      `json:"status_text"`
	Items        []toolItem  `json:"items"`
	Total        string      `json:"total"`
	Shipping     string      `json:"shipping_fee"`
	PlacedAt     string      `json:"placed_at"`
	DeliveredAt  string      `json:"delivered_at,omitempty"`
	Carrier      string      `json:"carrier,omitempty"`
	TrackingNo   string      `json:"tracking_no,omitempty"`
	LatestEvent  *toolEvent  `json:"latest_event,omitempty"`
	ReturnWindow *toolWindow `json:"return_window,omitempty"`
}

func toolTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(ShopZone).Format(time.RFC3339)
}

func toolDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(ShopZone).Format(time.DateOnly)
}

func toolItems(o Order, lang string, withSKU bool) []toolItem {
	items := make([]toolItem, 0, len(o.Items))
	for _, it := range o.Items {
		ti := toolItem{Name: itemName(it, lang), Qty: it.Qty}
		if withSKU {
			ti.SKU, ti.Price = it.SKU, formatMoney(it.PriceCents, o.Currency)
		}
		items = append(items, ti)
	}
	return items
}

func windowOf(o Order, now time.Time) *toolWindow {
	w, ok := ReturnWindowOf(o, now)
	if !ok {
		return nil
	}
	tw := &toolWindow{Open: w.Open, LastDay: toolDay(w.Until)}
	for _, it := range w.Excluded {
		tw.Excluded = append(tw.Excluded, it.SKU)
	}
	return tw
}

func orderSummary(o Order, lang string, now time.Time) toolOrderSummary {
	return toolOrderSummary{ID: o.ID, Status: o.Status, StatusText: statusText(o.Status, lang), PlacedOn: toolDay(o.PlacedAt),
		Items: toolItems(o, lang, false), Total: formatMoney(o.TotalCents, o.Currency), ReturnWindow: windowOf(o, now)}
}

func orderDetail(o Order, lang string, now time.Time) toolOrderDetail {
	d := toolOrderDetail{ID: o.ID, Status: o.Status, StatusText: statusText(o.Status, lang), Items: toolItems(o, lang, true),
		Total: formatMoney(o.TotalCents, o.Currency), Shipping: formatMoney(o.ShippingCents, o.Currency),
		PlacedAt: toolTime(o.PlacedAt), DeliveredAt: toolTime(o.DeliveredAt), Carrier: o.Carrier, TrackingNo: o.TrackingNo,
		ReturnWindow: windowOf(o, now)}
	if e, ok := latestEvent(o); ok {
		d.LatestEvent = &toolEvent{Time: toolTime(e.At), Text: eventText(e, lang)}
	}
	return d
}

// listOrdersTool lists the shopper's newest orders, optionally of one status.
func (b *Bot) listOrdersTool(ctx context.Context, t Turn, status, lang string, log *slog.Logger) toolOutcome {
	limit := maxToolOrdersListed
	if status != "" {
		limit = 100 // filtered below: read enough to find 10 of that status
	}
	orders, err := b.orders.RecentOrders(ctx, t.Shopper.ID, limit)
	if err != nil {
		log.Error("tool: list orders", "err", err)
		return toolFailure(toolFailInternal, "", "the order service failed; apologise and offer a person")
	}
	now := b.cfg.Now()
	out := struct {
		Orders []toolOrderSummary `json:"orders"`
		Status string             `json:"status_filter,omitempty"`
	}{Orders: []toolOrderSummary{}, Status: status}
	var cards []Card
	for _, o := range orders {
		if status != "" && o.Status != status {
			continue
		}
		if len(out.Orders) == maxToolOrdersListed {
			break
		}
		out.Orders = append(out.Orders, orderSummary(o, lang, now))
		if len(cards) < maxToolOrderCards {
			cards = append(cards, orderCard(o, lang, now))
		}
	}
	return toolOutcome{Content: toolJSON(out), Cards: cards}
}

// shipmentOf is track_shipment's projection: the newest events first.
func shipmentOf(o Order, lang string) any {
	events := slices.Clone(o.Tracking)
	slices.SortStableFunc(events, func(a, b TrackingEvent) int { return b.At.Compare(a.At) })
	out := struct {
		ID         string      `json:"order_id"`
		Status     string      `json:"status"`
		StatusText string      `json:"status_text"`
		Carrier    string      `json:"carrier,omitempty"`
		TrackingNo string      `json:"tracking_no,omitempty"`
		Events     []toolEvent `json:"events"`
	}{ID: o.ID, Status: o.Status, StatusText: statusText(o.Status, lang), Carrier: o.Carrier, TrackingNo: o.TrackingNo,
		Events: []toolEvent{}}
	for _, e := range events {
		if len(out.Events) == maxToolTrackingShown {
			break
		}
		out.Events = append(out.Events, toolEvent{Time: toolTime(e.At), Text: eventText(e, lang)})
	}
	return out
}

// returnPolicy are the facts every answer about a no-reason return must
// state, in the shopper's language.
type returnPolicy struct {
	Refund         string `json:"refund"`
	ReturnShipping string `json:"return_shipping"`
	QualityIssues  string `json:"quality_problems"`
	Condition      string `json:"condition"`
}

var returnPolicies = map[string]returnPolicy{
	"zh": {
		Refund:         "商家收到退货后 7 天内原路退款。",
		ReturnShipping: "七天无理由退货的寄回运费由顾客承担；商品有质量问题的，运费由商家承担（《消费者权益保护法》第二十四条）。",
		QualityIssues:  "商品有质量问题的，七天无理由退货期结束后仍可申请售后。",
		Condition:      "商品应保持完好；为检查商品而拆封或合理试用，不影响七天无理由退货。",
	},
	"en": {
		Refund:         "The refund goes back to the original payment method within 7 days after the merchant receives the return.",
		ReturnShipping: "The shopper pays return shipping for a no-reason return; if the item has a quality problem, the merchant pays it (Consumer Rights Protection Law, Art. 24).",
		QualityIssues:  "Quality problems remain covered by after-sales service after the 7-day no-reason period ends.",
		Condition:      "Items must be in good condition; opening the package to inspect the item or trying it reasonably does not prevent a no-reason return.",
	},
}

// toolEligibility is one order line's no-reason return eligibility.
type toolEligibility struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Qty      int    `json:"qty"`
	Eligible bool   `json:"eligible"`
	Reason   string `json:"reason"`
	LastDay  string `json:"last_day,omitempty"`
}

// humanNote tells the model what to do when something is not eligible.
const humanNote = "not a final decision: offer to connect a person, who can look at the case (quality problems, disputes, exclusions)"

// eligibilityOf is check_return_eligibility's projection, computed by
// Eligible alone: the model only words it.
func eligibilityOf(o Order, lang string, now time.Time) any {
	out := struct {
		ID          string            `json:"order_id"`
		Status      string            `json:"status"`
		DeliveredOn string            `json:"delivered_on,omitempty"`
		LastDay     string            `json:"window_last_day,omitempty"`
		Items       []toolEligibility `json:"items"`
		Policy      returnPolicy      `json:"policy"`
		OfferHuman  bool              `json:"offer_human,omitempty"`
		Note        string            `json:"note,omitempty"`
	}{ID: o.ID, Status: o.Status, DeliveredOn: toolDay(o.DeliveredAt), Items: []toolEligibility{}, Policy: returnPolicies[lang]}
	if w, ok := ReturnWindowOf(o, now); ok {
		out.LastDay = toolDay(w.Until)
	}
	for _, it := range o.Items {
		ok, reason, until := Eligible(o, it, now)
		out.Items = append(out.Items, toolEligibility{SKU: it.SKU, Name: itemName(it, lang), Qty: it.Qty, Eligible: ok,
			Reason: reason, LastDay: lastDayFor(reason, until)})
		if !ok {
			out.OfferHuman, out.Note = true, humanNote
		}
	}
	return out
}

// lastDayFor is the window's last day where it decides eligibility: an
// excluded item has no last day to state.
func lastDayFor(reason string, until time.Time) string {
	if reason == ReturnWindowOpen || reason == ReturnWindowClosed {
		return toolDay(until)
	}
	return ""
}

// returnLine is one SKU of an order, its lines added up, as a return
// would take it.
type returnLine struct {
	toolEligibility
	until time.Time
}

// returnLines groups an order's lines by SKU; a SKU is eligible when all
// its lines are.
func returnLines(o Order, lang string, now time.Time) []returnLine {
	var lines []returnLine
	for _, it := range o.Items {
		ok, reason, until := Eligible(o, it, now)
		i := slices.IndexFunc(lines, func(l returnLine) bool { return l.SKU == it.SKU })
		if i < 0 {
			lines = append(lines, returnLine{toolEligibility{SKU: it.SKU, Name: itemName(it, lang), Qty: it.Qty, Eligible: ok,
				Reason: reason, LastDay: lastDayFor(reason, until)}, until})
			continue
		}
		lines[i].Qty += it.Qty
		if lines[i].Eligible && !ok {
			lines[i].Eligible, lines[i].Reason, lines[i].LastDay = false, reason, lastDayFor(reason, until)
		}
	}
	return lines
}

// requestReturnTool prepares a return proposal of the eligible items asked
// for. Nothing is submitted: the shopper confirms on the card.
func (b *Bot) requestReturnTool(ctx context.Context, t Turn, orderID string, skus []string, reason, lang string, log *slog.Logger) toolOutcome {
	o, failed, ok := b.toolOrder(ctx, t, orderID, log)
	if !ok {
		return failed
	}
	now := b.cfg.Now()
	lines := returnLines(o, lang, now)
	if len(skus) > 0 {
		var picked []returnLine
		for _, s := range skus {
			i := slices.IndexFunc(lines, func(l returnLine) bool { return l.SKU == s })
			if i < 0 {
				return invalidArgs(argError{"items", "SKU " + truncateRunes(s, 64) + " is not in this order; get_order lists its SKUs"})
			}
			picked = append(picked, lines[i])
		}
		lines = picked
	}
	var items []ReturnItem
	proposed := []toolEligibility{}
	notIncluded := []toolEligibility{}
	var until time.Time
	for _, l := range lines {
		if !l.Eligible {
			notIncluded = append(notIncluded, l.toolEligibility)
			continue
		}
		items = append(items, ReturnItem{SKU: l.SKU, Qty: l.Qty})
		proposed = append(proposed, l.toolEligibility)
		until = l.until
	}
	if len(items) == 0 {
		msg := "nothing was proposed: none of these items can be returned without reason; " + humanNote
		return toolOutcome{Failed: toolFailNotEligible, Content: toolJSON(struct {
			Error      string            `json:"error"`
			Message    string            `json:"message"`
			Items      []toolEligibility `json:"items"`
			Policy     returnPolicy      `json:"policy"`
			OfferHuman bool              `json:"offer_human"`
		}{toolFailNotEligible, msg, notIncluded, returnPolicies[lang], true})}
	}
	p, err := b.returns.ProposeReturn(ctx, ReturnProposal{ConversationID: t.ConversationID, ShopperID: t.Shopper.ID,
		OrderID: o.ID, Items: items, Reason: reason})
	if err != nil {
		log.Error("tool: propose return", "err", err)
		return toolFailure(toolFailInternal, "", "the return could not be prepared; apologise and offer a person")
	}
	log.Info("return proposed", "proposal", p.ID, "order", maskID(o.ID), "items", len(items))
	out := struct {
		Status      string            `json:"status"`
		Message     string            `json:"message"`
		ID          string            `json:"order_id"`
		Items       []toolEligibility `json:"items"`
		LastDay     string            `json:"window_last_day"`
		NotIncluded []toolEligibility `json:"not_included,omitempty"`
		Policy      returnPolicy      `json:"policy"`
		OfferHuman  bool              `json:"offer_human,omitempty"`
		Note        string            `json:"note,omitempty"`
	}{Status: ReturnProposed, Message: "proposed; the shopper must press Confirm on the card; nothing has been submitted yet",
		ID: o.ID, Items: proposed, LastDay: toolDay(until), NotIncluded: notIncluded, Policy: returnPolicies[lang]}
	if len(notIncluded) > 0 {
		out.OfferHuman, out.Note = true, humanNote
	}
	return toolOutcome{Content: toolJSON(out), Cards: []Card{returnCard(p, o, lang, until)}}
}
