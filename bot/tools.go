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
