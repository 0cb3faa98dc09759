package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// TriggerModel is the handoff trigger recorded when the model asked for a
// person with the handoff_to_human tool.
const TriggerModel = "bot_escalated"

// Names of the tools offered to the model.
const (
	toolSearchKnowledge = "search_knowledge"
	toolListMyOrders    = "list_my_orders"
	toolGetOrder        = "get_order"
	toolTrackShipment   = "track_shipment"
	toolCheckReturn     = "check_return_eligibility"
	toolRequestReturn   = "request_return"
	toolHandoffToHuman  = "handoff_to_human"
)

// Codes of toolOutcome.Failed, also given to the model.
const (
	toolFailUnknown     = "unknown_tool"
	toolFailInvalid     = "invalid_arguments"
	toolFailNotFound    = "not_found"
	toolFailLogin       = "login_required"
	toolFailNotEligible = "not_eligible"
	toolFailUnavailable = "unavailable"
	toolFailInternal    = "internal"
)

// Limits of tool arguments and results.
const (
	maxToolTextRunes     = 200 // query, reason
	maxToolOrderIDLen    = 40
	maxToolSKULen        = 64
	maxToolReturnSKUs    = 20
	maxToolOrdersListed  = 10
	maxToolOrderCards    = 3
	maxToolSearchHits    = 5
	maxToolTrackingShown = 5
)

// toolOutcome is what one tool call produced.
type toolOutcome struct {
	// Content is JSON text for the model: a projection with only the fields
	// the answer needs (never the shopper's id, phone, email or address).
	// It is not PII-masked yet: the caller masks it. Empty for
	// search_knowledge, whose Hits the caller renders.
	Content string
	// Cards are order cards or a return card to show beside the reply.
	Cards []Card
	// Hits are, for search_knowledge only, the entries found: the caller
	// numbers them as citable references.
	Hits []knowledge.Hit
	// Handoff is the trigger to record (TriggerModel) when the model asked
	// for a person; Reason is the model's reason.
	Handoff string
	Reason  string
	// Failed is "" or the error code given to the model: unknown_tool,
	// invalid_arguments, not_found, login_required, not_eligible,
	// unavailable (no store for the tool) or internal (a store failed; it
	// is logged).
	Failed string
}

// orderStatuses are the values list_my_orders accepts as a filter.
var orderStatuses = []string{StatusUnpaid, StatusPaid, StatusShipped, StatusDelivered, StatusRefunded, StatusCancelled}

// orderIDExact is orderIDPattern for a whole argument.
var orderIDExact = regexp.MustCompile(`^(?:` + orderIDPattern.String() + `)$`)

// orderIDSchema is the JSON schema of an order_id parameter.
const orderIDSchema = `{"type": "string", "maxLength": 40, "pattern": "^(?:[A-Za-z]{1,4}[0-9]{6,20}|[0-9]{10,20})$",
	"description": "The order number, as the shopper gave it or as list_my_orders returned it, e.g. XE2026051388."}`

// toolDefinitions returns the tools offered to the model. No parameter ever
// names a shopper: every tool acts as the turn's verified shopper.
func toolDefinitions() []llm.Tool {
	statuses, _ := json.Marshal(orderStatuses)
	return []llm.Tool{
		{Name: toolSearchKnowledge,
			Description: "Search the shop's help articles (returns, refunds, shipping, invoices, payment, membership, products). " +
				"Use it before answering any question about the shop's policies, and answer only from what it finds.",
			Parameters: json.RawMessage(`{"type": "object", "properties": {
				"query": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The question, in the shopper's words or a short paraphrase."}},
				"required": ["query"], "additionalProperties": false}`)},
		{Name: toolListMyOrders,
			Description: "List the signed-in shopper's own orders, newest first (at most 10): status, date, items, total, return window.",
			Parameters: json.RawMessage(`{"type": "object", "properties": {
				"status": {"type": "string", "enum": ` + string(statuses) + `, "description": "Only orders in this status; omit for all."}},
				"additionalProperties": false}`)},
		{Name: toolGetOrder,
			Description: "Details of one of the signed-in shopper's own orders: status, items, total, dates, carrier, tracking number, return window.",
			Parameters: json.RawMessage(`{"type": "object", "properties": {"order_id": ` + orderIDSchema + `},
				"required": ["order_id"], "additionalProperties": false}`)},
		{Name: toolTrackShipment,
			Description: "Carrier, tracking number and the latest tracking events of one of the signed-in shopper's own orders.",
			Parameters: json.RawMessage(`{"type": "object", "properties": {"order_id": ` + orderIDSchema + `},
				"required": ["order_id"], "additionalProperties": false}`)},
		{Name: toolCheckReturn,
			Description: "Whether each item of one of the signed-in shopper's own orders can be returned without reason (the 7-day rule) and why, " +
				"as the shop's system computes it, with the policy facts to state. Never decide eligibility yourself, and never give a final " +
				"refusal: when offer_human is true, offer to connect a person.",
			Parameters: json.RawMessage(`{"type": "object", "properties": {"order_id": ` + orderIDSchema + `},
				"required": ["order_id"], "additionalProperties": false}`)},
		{Name: toolRequestReturn,
			Description: "Prepare a no-reason return of items of one of the signed-in shopper's own delivered orders. This only shows the shopper " +
				"a proposal card: nothing is submitted until the shopper presses Confirm on it. Tell the shopper to press Confirm; never say " +
				"the return has been submitted.",
			Parameters: json.RawMessage(`{"type": "object", "properties": {
				"order_id": ` + orderIDSchema + `,
				"items": {"type": "array", "maxItems": 20, "uniqueItems": true, "items": {"type": "string", "minLength": 1, "maxLength": 64},
					"description": "SKUs of the items to return; omit to return every eligible item of the order."},
				"reason": {"type": "string", "maxLength": 200, "description": "The shopper's reason, if they gave one (none is needed)."}},
				"required": ["order_id"], "additionalProperties": false}`)},
		{Name: toolHandoffToHuman,
			Description: "Hand the conversation to a human agent: when the shopper asks for a person, when a return, refund or complaint " +
				"is borderline or disputed, or when you cannot help.",
			Parameters: json.RawMessage(`{"type": "object", "properties": {
				"reason": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Why a person is needed, for the agent."}},
				"required": ["reason"], "additionalProperties": false}`)},
	}
}

// runTool executes one tool call as the turn's verified shopper t.Shopper
// (nil for an anonymous visitor, whom the order tools answer with
// login_required). arguments is the model's raw JSON: it is decoded
// strictly, and nothing in it can name a shopper. A store failure is
// logged and given to the model as "internal".
func (b *Bot) runTool(ctx context.Context, t Turn, name, arguments string, log *slog.Logger) toolOutcome {
	lang := toolLang(t)
	switch name {
	case toolSearchKnowledge:
		var a struct {
			Query string `json:"query"`
		}
		if err := decodeArgs(arguments, &a); err != nil {
			return invalidArgs(err)
		}
		if err := checkText("query", a.Query, true); err != nil {
			return invalidArgs(err)
		}
		return b.searchTool(ctx, strings.TrimSpace(a.Query), lang, log)
	case toolListMyOrders:
		var a struct {
			Status *string `json:"status"`
		}
		if err := decodeArgs(arguments, &a); err != nil {
			return invalidArgs(err)
		}
		if a.Status != nil && !slices.Contains(orderStatuses, *a.Status) {
			return invalidArgs(argError{"status", "must be one of " + strings.Join(orderStatuses, ", ")})
		}
		if t.Shopper == nil {
			return loginRequired()
		}
		status := ""
		if a.Status != nil {
			status = *a.Status
		}
		return b.listOrdersTool(ctx, t, status, lang, log)
	case toolGetOrder, toolTrackShipment, toolCheckReturn:
		var a struct {
			OrderID string `json:"order_id"`
		}
		if err := decodeArgs(arguments, &a); err != nil {
			return invalidArgs(err)
		}
		if err := checkOrderID(a.OrderID); err != nil {
			return invalidArgs(err)
		}
		if t.Shopper == nil {
			return loginRequired()
		}
		o, failed, ok := b.toolOrder(ctx, t, a.OrderID, log)
		if !ok {
			return failed
		}
		now := b.cfg.Now()
		switch name {
		case toolGetOrder:
			return toolOutcome{Content: toolJSON(orderDetail(o, lang, now)), Cards: []Card{orderCard(o, lang, now)}}
		case toolTrackShipment:
			return toolOutcome{Content: toolJSON(shipmentOf(o, lang)), Cards: []Card{orderCard(o, lang, now)}}
		default:
			return toolOutcome{Content: toolJSON(eligibilityOf(o, lang, now))}
		}
	case toolRequestReturn:
		var a struct {
			OrderID string   `json:"order_id"`
			Items   []string `json:"items"`
			Reason  *string  `json:"reason"`
		}
		if err := decodeArgs(arguments, &a); err != nil {
			return invalidArgs(err)
		}
		if err := checkOrderID(a.OrderID); err != nil {
			return invalidArgs(err)
		}
		if err := checkSKUs(a.Items); err != nil {
			return invalidArgs(err)
		}
		reason := ""
		if a.Reason != nil {
			if err := checkText("reason", *a.Reason, false); err != nil {
				return invalidArgs(err)
			}
			reason = strings.TrimSpace(*a.Reason)
		}
		if t.Shopper == nil {
			return loginRequired()
		}
		if b.returns == nil {
			return toolFailure(toolFailUnavailable, "", "returns cannot be prepared here right now; offer to connect a person")
		}
		return b.requestReturnTool(ctx, t, a.OrderID, a.Items, reason, lang, log)
	case toolHandoffToHuman:
		var a struct {
			Reason string `json:"reason"`
		}
		if err := decodeArgs(arguments, &a); err != nil {
			return invalidArgs(err)
		}
		if err := checkText("reason", a.Reason, true); err != nil {
			return invalidArgs(err)
		}
		return toolOutcome{Handoff: TriggerModel, Reason: strings.TrimSpace(a.Reason),
			Content: toolJSON(map[string]string{"status": "handoff_requested",
				"message": "a person is being asked to join; tell the shopper briefly and do not promise a waiting time"})}
	}
	log.Warn("model called an unknown tool", "tool", truncateRunes(name, 64))
	return toolFailure(toolFailUnknown, "", "there is no tool with this name")
}

// toolLang is the language of the turn's shopper-facing text.
func toolLang(t Turn) string {
	if t.Lang == "" && t.Shopper != nil {
		return langOr(t.Shopper.Lang)
	}
	return langOr(t.Lang)
}

// toolOrder reads one of the turn's shopper's orders. An order of another
// shopper gets exactly the outcome of one that does not exist, and a
// security log line with the masked id; nothing of it is ever read.
func (b *Bot) toolOrder(ctx context.Context, t Turn, id string, log *slog.Logger) (Order, toolOutcome, bool) {
	o, err := b.orders.OrderOf(ctx, t.Shopper.ID, id)
	switch {
	case errors.Is(err, ErrOtherShopper):
		log.Warn("security: order lookup across shoppers refused", "shopper", t.Shopper.ID, "order", maskID(id))
		return Order{}, orderNotFound(), false
	case errors.Is(err, ErrNotFound):
		return Order{}, orderNotFound(), false
	case err != nil:
		log.Error("tool: look up order", "err", err)
		return Order{}, toolFailure(toolFailInternal, "", "the order service failed; apologise and offer a person"), false
	}
	return o, toolOutcome{}, true
}

func orderNotFound() toolOutcome {
	return toolFailure(toolFailNotFound, "", "no order with this number in the shopper's account; ask them to check the number")
}

func loginRequired() toolOutcome {
	return toolFailure(toolFailLogin, "", "the visitor is not signed in; ask them to log in to the shop to see their orders")
}

func invalidArgs(err error) toolOutcome {
	var ae argError
	if errors.As(err, &ae) {
		return toolFailure(toolFailInvalid, ae.field, ae.problem)
	}
	return toolFailure(toolFailInvalid, "", "the arguments must be one JSON object matching the tool's parameters")
}

// toolFailure is the outcome of a refused call: code for the caller, and
// the same code with a brief message (and the offending field) for the model.
func toolFailure(code, field, msg string) toolOutcome {
	return toolOutcome{Failed: code, Content: toolJSON(struct {
		Error   string `json:"error"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	}{code, field, msg})}
}

// toolJSON encodes a tool result for the model, keeping <, > and & readable.
func toolJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every projection in this file encodes; this is unreachable in practice.
		return `{"error":"internal","message":"the result could not be encoded"}`
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// argError says which argument is wrong and how.
type argError struct{ field, problem string }

func (e argError) Error() string { return e.field + ": " + e.problem }

// decodeArgs decodes the model's arguments into v, a pointer to a struct
// whose json tags name every parameter. Strict: one JSON object, keys
// spelled exactly (encoding/json alone would accept "Order_ID"), no
// unknown keys, exact types.
func decodeArgs(arguments string, v any) error {
	if strings.TrimSpace(arguments) == "" {
		arguments = "{}"
	}
	var keys map[string]json.RawMessage
	if err := decodeOne(arguments, &keys, false); err != nil || keys == nil {
		return argError{"", "the arguments must be one JSON object"}
	}
	allowed := jsonFields(v)
	for k := range keys {
		if !slices.Contains(allowed, k) {
			return argError{truncateRunes(k, 40), "unknown parameter; the tool takes only " + strings.Join(allowed, ", ")}
		}
	}
	if err := decodeOne(arguments, v, true); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return argError{te.Field, "must be a JSON " + te.Type.Kind().String()}
		}
		return argError{"", "the arguments must be one JSON object matching the tool's parameters"}
	}
	return nil
}

func decodeOne(s string, v any, strict bool) error {
	dec := json.NewDecoder(strings.NewReader(s))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the arguments object")
	}
	return nil
}

// jsonFields lists the json names of the fields of the struct v points to.
func jsonFields(v any) []string {
	var names []string
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}

func checkText(field, s string, required bool) error {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return argError{field, "is required"}
	case utf8.RuneCountInString(s) > maxToolTextRunes:
		return argError{field, fmt.Sprintf("must be at most %d characters", maxToolTextRunes)}
	}
	return nil
}

func checkOrderID(id string) error {
	switch {
	case id == "":
		return argError{"order_id", "is required"}
	case len(id) > maxToolOrderIDLen:
		return argError{"order_id", fmt.Sprintf("must be at most %d characters", maxToolOrderIDLen)}
	case !orderIDExact.MatchString(id):
		return argError{"order_id", "must be an order number such as XE2026051388"}
	}
	return nil
}

func checkSKUs(skus []string) error {
	if len(skus) > maxToolReturnSKUs {
		return argError{"items", fmt.Sprintf("at most %d SKUs", maxToolReturnSKUs)}
	}
	for i, s := range skus {
		if s == "" || len(s) > maxToolSKULen || strings.TrimSpace(s) != s {
			return argError{"items", fmt.Sprintf("each SKU must be 1 to %d characters without spaces around it", maxToolSKULen)}
		}
		if slices.Contains(skus[:i], s) {
			return argError{"items", "a SKU is listed twice"}
		}
	}
	return nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// searchTool finds the knowledge entries for a query, in the query's
// language first (as the template bot does).
func (b *Bot) searchTool(ctx context.Context, q, lang string, log *slog.Logger) toolOutcome {
	if b.kb == nil {
		return toolFailure(toolFailUnavailable, "", "the help articles cannot be searched right now")
	}
	res, err := b.search(ctx, q, detectLang(q, lang))
	if err != nil {
		log.Error("tool: search knowledge", "err", err)
		return toolFailure(toolFailInternal, "", "the search failed; apologise and offer a person")
	}
	var hits []knowledge.Hit
	for _, h := range res.Hits {
		if h.Confidence >= suggestionFloor && len(hits) < maxToolSearchHits {
			hits = append(hits, h)
		}
	}
	return toolOutcome{Hits: hits}
}

// Projections of orders for the model. Times are in ShopZone (RFC 3339
// with +08:00), days are YYYY-MM-DD.

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
