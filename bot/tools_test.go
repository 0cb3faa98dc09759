package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// syncBuffer is a log destination the bot's workers and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// The demo shop of the tool tests. It is noon on May 20, 2026 in Beijing.
var (
	toolsNow = time.Date(2026, 5, 20, 12, 0, 0, 0, bot.ShopZone)
	alice    = bot.Shopper{ID: "shopper-alice-7", Name: "Alice Lin", Lang: "en", Phone: "13812345678",
		Email: "alice.lin@example.com", Address: "上海市浦东新区世纪大道100号"}
	bob = bot.Shopper{ID: "shopper-bob-9", Name: "Bob Wang", Lang: "en", Phone: "13987654321",
		Email: "bob.wang@example.com", Address: "北京市朝阳区建国路88号"}
)

func cst(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, bot.ShopZone).UTC()
}

func tracking(n int, from time.Time) []bot.TrackingEvent {
	var evs []bot.TrackingEvent
	for i := range n {
		evs = append(evs, bot.TrackingEvent{At: from.Add(time.Duration(i) * 6 * time.Hour),
			TextZH: "扫描 " + string(rune('A'+i)), TextEN: "scan " + string(rune('A'+i))})
	}
	return evs
}

func toolsShop() sqlite.Shop {
	earbuds := bot.OrderItem{SKU: "SKU-EL-1001", NameZH: "无线降噪蓝牙耳机", NameEN: "Wireless Earbuds", Qty: 1, PriceCents: 39900}
	bottle := bot.OrderItem{SKU: "SKU-HM-3002", NameZH: "定制刻字保温杯", NameEN: "Custom-Engraved Bottle", Qty: 1, PriceCents: 12900,
		StatutoryExclusion: "custom"}
	cream := bot.OrderItem{SKU: "SKU-BT-4001", NameZH: "保湿面霜", NameEN: "Face Cream", Qty: 2, PriceCents: 18900, NonReturnableConfirmed: true}
	tshirt := bot.OrderItem{SKU: "SKU-AP-2001", NameZH: "纯棉T恤", NameEN: "Cotton T-Shirt", Qty: 3, PriceCents: 7900}
	shoes := bot.OrderItem{SKU: "SKU-AP-2003", NameZH: "缓震跑步鞋", NameEN: "Bob's Running Shoes", Qty: 1, PriceCents: 35900}
	return sqlite.Shop{
		Shoppers: []bot.Shopper{alice, bob},
		Orders: []bot.Order{
			// Delivered May 15: the window runs through May 22.
			{ID: "XE1000000001", ShopperID: alice.ID, Status: bot.StatusDelivered, Currency: "CNY", TotalCents: 90600,
				PlacedAt: cst(5, 10, 9), DeliveredAt: cst(5, 15, 10), Carrier: "SF Express", TrackingNo: "SF1111111111",
				Items: []bot.OrderItem{earbuds, bottle, cream}, Tracking: tracking(3, cst(5, 12, 8))},
			// Delivered May 1: the window closed at the end of May 8.
			{ID: "XE1000000002", ShopperID: alice.ID, Status: bot.StatusDelivered, Currency: "CNY", TotalCents: 23700,
				PlacedAt: cst(4, 28, 9), DeliveredAt: cst(5, 1, 10), Items: []bot.OrderItem{tshirt}},
			{ID: "XE1000000003", ShopperID: alice.ID, Status: bot.StatusShipped, Currency: "CNY", TotalCents: 39900,
				PlacedAt: cst(5, 18, 9), Carrier: "YTO", TrackingNo: "YT2222222222", Items: []bot.OrderItem{earbuds},
				Tracking: tracking(7, cst(5, 18, 12))},
			{ID: "XE1000000004", ShopperID: alice.ID, Status: bot.StatusPaid, Currency: "CNY", TotalCents: 7900,
				PlacedAt: cst(5, 19, 9), Items: []bot.OrderItem{tshirt}},
			{ID: "XE2000000001", ShopperID: bob.ID, Status: bot.StatusDelivered, Currency: "CNY", TotalCents: 35900,
				PlacedAt: cst(5, 12, 9), DeliveredAt: cst(5, 16, 10), Carrier: "JD Logistics", TrackingNo: "JD3333333333",
				Items: []bot.OrderItem{shoes}, Tracking: tracking(2, cst(5, 14, 8))},
		},
	}
}

type toolsFixture struct {
	store     *sqlite.Store
	bot       *bot.Bot
	pub       *checkingPublisher
	clock     *testClock
	log       *syncBuffer
	aliceConv bot.Conversation
	bobConv   bot.Conversation
}

func newToolsFixture(t *testing.T) *toolsFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.PutShop(ctx, toolsShop()); err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.OpenIndex(filepath.Join(dir, "index"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	kb := knowledge.NewBase(store, ix, nil)
	if _, err := kb.Import(ctx, []knowledge.Entry{
		{ID: "refund-time", Locale: "en", Question: "How long does a refund take?", Alternates: []string{"when will I get my money back"},
			Answer: "Within 7 days after the merchant receives the return."},
		{ID: "invoice", Locale: "en", Question: "How do I get an invoice?", Answer: "Request it under My Orders."},
	}, knowledge.ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: toolsNow}
	logs := &syncBuffer{}
	pub := &checkingPublisher{t: t, store: store, got: make(chan bot.Event, 100)}
	b := bot.New(bot.Config{Workers: 2, Now: clock.Now}, bot.Deps{Conversations: store, Orders: store, Knowledge: kb,
		Handoff: handoff.NewDesk(handoff.Config{}, handoff.Deps{Store: store, Publish: pub}, slog.New(slog.DiscardHandler)), Publish: pub, Returns: store}, slog.New(slog.NewTextHandler(logs, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	// The bot's workers are owned by this test and exit at cleanup.
	go func() { b.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	f := &toolsFixture{store: store, bot: b, pub: pub, clock: clock, log: logs}
	if f.aliceConv, err = store.OpenConversation(ctx, "s:"+alice.ID, alice.ID, "", "en"); err != nil {
		t.Fatal(err)
	}
	if f.bobConv, err = store.OpenConversation(ctx, "s:"+bob.ID, bob.ID, "", "en"); err != nil {
		t.Fatal(err)
	}
	return f
}

// run calls a tool as the shopper (nil: an anonymous visitor) in their
// conversation, logging into f.log.
func (f *toolsFixture) run(sh *bot.Shopper, name, args string) bot.ToolOutcome {
	turn := bot.Turn{ConversationID: f.aliceConv.ID, Lang: "en", Shopper: sh}
	if sh != nil && sh.ID == bob.ID {
		turn.ConversationID = f.bobConv.ID
	}
	return f.bot.RunTool(context.Background(), turn, name, args, slog.New(slog.NewTextHandler(f.log, nil)))
}

// next returns the next event of the given type.
func (f *toolsFixture) next(t *testing.T, typ string) bot.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-f.pub.got:
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

// nextOf returns the next message or error event.
func (f *toolsFixture) nextOf(t *testing.T) bot.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-f.pub.got:
			if ev.Type == bot.EventError || ev.Type == bot.EventMessage && ev.Message.Role != bot.RoleShopper {
				return ev
			}
		case <-timeout:
			t.Fatal("no message or error event")
		}
	}
}

func (f *toolsFixture) returnRequests(t *testing.T, shopperID string) []sqlite.ReturnRequest {
	t.Helper()
	rs, err := f.store.ReturnRequests(context.Background(), shopperID)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// personal is what no tool result may ever carry.
var personal = []string{alice.ID, alice.Phone, alice.Email, alice.Address, bob.ID, bob.Phone, bob.Email, bob.Address}

func TestTools(t *testing.T) {
	f := newToolsFixture(t)
	tests := []struct {
		name    string
		shopper *bot.Shopper
		tool    string
		args    string
		failed  string
		has     []string // substrings of Content
		hasNot  []string
		cards   int
		check   func(t *testing.T, out bot.ToolOutcome)
	}{
		{name: "unknown tool", shopper: &alice, tool: "delete_all_orders", args: `{}`, failed: "unknown_tool"},
		{name: "a shopper_id argument is refused", shopper: &alice, tool: "get_order", args: `{"order_id":"XE2000000001","shopper_id":"shopper-bob-9"}`,
			failed: "invalid_arguments", has: []string{`"field":"shopper_id"`}, hasNot: []string{"Running"}},
		{name: "a shopper_id argument is refused on the list too", shopper: &alice, tool: "list_my_orders", args: `{"shopper_id":"shopper-bob-9"}`,
			failed: "invalid_arguments"},
		{name: "keys are matched exactly", shopper: &alice, tool: "get_order", args: `{"Order_ID":"XE1000000001"}`, failed: "invalid_arguments"},
		{name: "a number for a string", shopper: &alice, tool: "get_order", args: `{"order_id":1000000001}`, failed: "invalid_arguments",
			has: []string{`"field":"order_id"`}},
		{name: "trailing data", shopper: &alice, tool: "get_order", args: `{"order_id":"XE1000000001"}{}`, failed: "invalid_arguments"},
		{name: "not JSON", shopper: &alice, tool: "get_order", args: `order XE1000000001`, failed: "invalid_arguments"},
		{name: "an array", shopper: &alice, tool: "get_order", args: `["XE1000000001"]`, failed: "invalid_arguments"},
		{name: "missing order_id", shopper: &alice, tool: "track_shipment", args: `{}`, failed: "invalid_arguments", has: []string{`"field":"order_id"`}},
		{name: "not an order number", shopper: &alice, tool: "get_order", args: `{"order_id":"' OR 1=1 --"}`, failed: "invalid_arguments"},
		{name: "an order number too long", shopper: &alice, tool: "get_order", args: `{"order_id":"XE` + strings.Repeat("1", 39) + `"}`, failed: "invalid_arguments"},
		{name: "anonymous get_order", tool: "get_order", args: `{"order_id":"XE1000000001"}`, failed: "login_required"},
		{name: "anonymous list_my_orders", tool: "list_my_orders", args: `{}`, failed: "login_required"},
		{name: "anonymous request_return", tool: "request_return", args: `{"order_id":"XE1000000001"}`, failed: "login_required"},
		{name: "anonymous check_return_eligibility", tool: "check_return_eligibility", args: `{"order_id":"XE1000000001"}`, failed: "login_required"},
		{name: "get_order", shopper: &alice, tool: "get_order", args: `{"order_id":"XE1000000001"}`, cards: 1,
			has: []string{`"order_id":"XE1000000001"`, `"status":"delivered"`, "Wireless Earbuds", `"sku":"SKU-EL-1001"`, "¥906.00",
				`"carrier":"SF Express"`, `"tracking_no":"SF1111111111"`, `"placed_at":"2026-05-10T09:00:00+08:00"`,
				`"delivered_at":"2026-05-15T10:00:00+08:00"`, `"return_window":{"open":true,"last_day":"2026-05-22"`},
			hasNot: []string{"Bob", "XE2000000001"}},
		{name: "get_order in any case", shopper: &alice, tool: "get_order", args: `{"order_id":"xe1000000001"}`, cards: 1,
			has: []string{`"order_id":"XE1000000001"`}},
		{name: "list_my_orders", shopper: &alice, tool: "list_my_orders", args: `{}`, cards: 3,
			has:    []string{"XE1000000001", "XE1000000002", "XE1000000003", "XE1000000004", `"placed_on":"2026-05-19"`},
			hasNot: []string{"XE2000000001", "Running"},
			check: func(t *testing.T, out bot.ToolOutcome) {
				if i, j := strings.Index(out.Content, "XE1000000004"), strings.Index(out.Content, "XE1000000002"); i > j {
					t.Errorf("orders are not newest first: %s", out.Content)
				}
			}},
		{name: "list_my_orders of a status", shopper: &alice, tool: "list_my_orders", args: `{"status":"delivered"}`, cards: 2,
			has: []string{"XE1000000001", "XE1000000002", `"status_filter":"delivered"`}, hasNot: []string{"XE1000000003", "XE1000000004"}},
		{name: "list_my_orders with null status", shopper: &alice, tool: "list_my_orders", args: `{"status":null}`, cards: 3},
		{name: "list_my_orders of an unknown status", shopper: &alice, tool: "list_my_orders", args: `{"status":"lost"}`, failed: "invalid_arguments"},
		{name: "track_shipment shows the 5 latest events, newest first", shopper: &alice, tool: "track_shipment", args: `{"order_id":"XE1000000003"}`,
			cards: 1, has: []string{`"carrier":"YTO"`, `"tracking_no":"YT2222222222"`, `"status":"shipped"`, `"text":"scan G"`},
			hasNot: []string{"scan A", "scan B"},
			check: func(t *testing.T, out bot.ToolOutcome) {
				if strings.Index(out.Content, "scan G") > strings.Index(out.Content, "scan C") {
					t.Errorf("events are not newest first: %s", out.Content)
				}
			}},
		{name: "check_return_eligibility per item", shopper: &alice, tool: "check_return_eligibility", args: `{"order_id":"XE1000000001"}`,
			has: []string{`"sku":"SKU-EL-1001","name":"Wireless Earbuds","qty":1,"eligible":true,"reason":"window_open","last_day":"2026-05-22"`,
				`"eligible":false,"reason":"statutory_custom"`, `"eligible":false,"reason":"confirmed_non_returnable_at_purchase"`,
				`"window_last_day":"2026-05-22"`, `"offer_human":true`, "within 7 days after the merchant receives the return",
				"the merchant pays it", "Art. 24", "after the 7-day no-reason period ends"}},
		{name: "check_return_eligibility after the window", shopper: &alice, tool: "check_return_eligibility", args: `{"order_id":"XE1000000002"}`,
			has: []string{`"reason":"window_closed","last_day":"2026-05-08"`, `"offer_human":true`}},
		{name: "check_return_eligibility in transit", shopper: &alice, tool: "check_return_eligibility", args: `{"order_id":"XE1000000003"}`,
			has: []string{`"reason":"not_delivered"`}},
		{name: "search_knowledge", shopper: &alice, tool: "search_knowledge", args: `{"query":"when will I get my money back"}`,
			check: func(t *testing.T, out bot.ToolOutcome) {
				if out.Content != "" || len(out.Hits) == 0 || len(out.Hits) > 5 || out.Hits[0].ID != "refund-time" {
					t.Errorf("search: content %q, %d hits (first %+v), want the refund entry and no content", out.Content, len(out.Hits), out.Hits)
				}
				for _, h := range out.Hits {
					if h.Confidence < 0.25 {
						t.Errorf("hit %s has confidence %.2f, under the suggestion floor", h.ID, h.Confidence)
					}
				}
			}},
		{name: "search_knowledge works for visitors", tool: "search_knowledge", args: `{"query":"how do I get an invoice"}`,
			check: func(t *testing.T, out bot.ToolOutcome) {
				if len(out.Hits) == 0 || out.Hits[0].ID != "invoice" {
					t.Errorf("hits = %+v, want the invoice entry", out.Hits)
				}
			}},
		{name: "search_knowledge query too long", tool: "search_knowledge", args: `{"query":"` + strings.Repeat("退", 201) + `"}`,
			failed: "invalid_arguments", has: []string{`"field":"query"`}},
		{name: "search_knowledge empty query", tool: "search_knowledge", args: `{"query":"  "}`, failed: "invalid_arguments"},
		{name: "handoff_to_human", tool: "handoff_to_human", args: `{"reason":"shopper disputes the item's condition"}`,
			check: func(t *testing.T, out bot.ToolOutcome) {
				if bot.TriggerModel != "bot_escalated" || out.Handoff != bot.TriggerModel || out.Reason != "shopper disputes the item's condition" {
					t.Errorf("handoff = %q, reason %q", out.Handoff, out.Reason)
				}
			}},
		{name: "handoff_to_human without a reason", tool: "handoff_to_human", args: `{}`, failed: "invalid_arguments"},
		{name: "request_return after the window", shopper: &alice, tool: "request_return", args: `{"order_id":"XE1000000002"}`,
			failed: "not_eligible", has: []string{`"reason":"window_closed"`, `"offer_human":true`}},
		{name: "request_return of an excluded item", shopper: &alice, tool: "request_return", args: `{"order_id":"XE1000000001","items":["SKU-HM-3002"]}`,
			failed: "not_eligible", has: []string{`"reason":"statutory_custom"`}},
		{name: "request_return of an order in transit", shopper: &alice, tool: "request_return", args: `{"order_id":"XE1000000003"}`,
			failed: "not_eligible", has: []string{`"reason":"not_delivered"`}},
		{name: "request_return of a SKU not in the order", shopper: &alice, tool: "request_return", args: `{"order_id":"XE1000000001","items":["SKU-NOPE"]}`,
			failed: "invalid_arguments", has: []string{`"field":"items"`}},
		{name: "request_return with a SKU twice", shopper: &alice, tool: "request_return", args: `{"order_id":"XE1000000001","items":["SKU-EL-1001","SKU-EL-1001"]}`,
			failed: "invalid_arguments"},
		{name: "request_return with a long reason", shopper: &alice, tool: "request_return", args: `{"order_id":"XE1000000001","reason":"` + strings.Repeat("a", 201) + `"}`,
			failed: "invalid_arguments", has: []string{`"field":"reason"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := f.run(tt.shopper, tt.tool, tt.args)
			if out.Failed != tt.failed {
				t.Fatalf("Failed = %q, want %q (content %s)", out.Failed, tt.failed, out.Content)
			}
			if out.Content != "" && !json.Valid([]byte(out.Content)) {
				t.Errorf("content is not JSON: %s", out.Content)
			}
			if tt.failed != "" && !strings.Contains(out.Content, `"error":"`+tt.failed+`"`) {
				t.Errorf("content %s does not give the model the code %s", out.Content, tt.failed)
			}
			for _, s := range tt.has {
				if !strings.Contains(out.Content, s) {
					t.Errorf("content lacks %s:\n%s", s, out.Content)
				}
			}
			for _, s := range append(slices.Clone(personal), tt.hasNot...) {
				if strings.Contains(out.Content, s) {
					t.Errorf("content has %q:\n%s", s, out.Content)
				}
			}
			if len(out.Cards) != tt.cards {
				t.Errorf("%d cards, want %d", len(out.Cards), tt.cards)
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
	if rs := f.returnRequests(t, alice.ID); len(rs) != 0 {
		t.Errorf("the tools made %d return requests, want none", len(rs))
	}
}

func TestToolsAnotherShoppersOrderLooksMissing(t *testing.T) {
	f := newToolsFixture(t)
	for _, tool := range []string{"get_order", "track_shipment", "check_return_eligibility", "request_return"} {
		t.Run(tool, func(t *testing.T) {
			missing := f.run(&alice, tool, `{"order_id":"XE9999999999"}`)
			before := len(f.log.String())
			foreign := f.run(&alice, tool, `{"order_id":"XE2000000001"}`)
			logged := f.log.String()[before:]
			if foreign.Failed != "not_found" || missing.Failed != "not_found" {
				t.Fatalf("Failed = %q (another's) and %q (missing), want not_found", foreign.Failed, missing.Failed)
			}
			if foreign.Content != missing.Content {
				t.Errorf("another shopper's order reads\n%s\nand a missing one\n%s", foreign.Content, missing.Content)
			}
			if len(foreign.Cards) != 0 || len(foreign.Hits) != 0 {
				t.Errorf("cards %+v for another shopper's order", foreign.Cards)
			}
			for _, s := range []string{"Running", "JD", "35900", "359.00", "2026-05-16", "XE2000000001"} {
				if strings.Contains(foreign.Content, s) || strings.Contains(logged, s) {
					t.Errorf("%q of another shopper's order leaked: content %s, log %s", s, foreign.Content, logged)
				}
			}
			if !strings.Contains(logged, "security: order lookup across shoppers refused") || !strings.Contains(logged, "XE******0001") {
				t.Errorf("no security line with the masked id: %q", logged)
			}
		})
	}
	if rs := f.returnRequests(t, bob.ID); len(rs) != 0 {
		t.Errorf("bob has %d return requests, want none", len(rs))
	}
}

func TestToolDefinitions(t *testing.T) {
	want := []string{"search_knowledge", "list_my_orders", "get_order", "track_shipment", "check_return_eligibility", "request_return", "handoff_to_human"}
	var got []string
	for _, tool := range bot.ToolDefinitions() {
		got = append(got, tool.Name)
		if tool.Description == "" {
			t.Errorf("%s has no description", tool.Name)
		}
		var schema map[string]any
		if err := json.Unmarshal(tool.Parameters, &schema); err != nil {
			t.Errorf("%s: parameters are not JSON: %v", tool.Name, err)
			continue
		}
		var walk func(path string, s map[string]any)
		walk = func(path string, s map[string]any) {
			if s["type"] == "object" {
				if s["additionalProperties"] != false {
					t.Errorf("%s: %s allows additional properties", tool.Name, path)
				}
				props, _ := s["properties"].(map[string]any)
				for name, p := range props {
					for _, bad := range []string{"shopper", "user", "customer", "account", "phone", "email", "address"} {
						if strings.Contains(strings.ToLower(name), bad) {
							t.Errorf("%s: parameter %s names a person", tool.Name, name)
						}
					}
					walk(path+"."+name, p.(map[string]any))
				}
			}
			if items, ok := s["items"].(map[string]any); ok {
				walk(path+"[]", items)
			}
		}
		walk("parameters", schema)
	}
	if !slices.Equal(got, want) {
		t.Errorf("tools %v, want %v", got, want)
	}
}

// propose makes a return proposal for alice's delivered order through the
// tool, and returns its card.
func (f *toolsFixture) propose(t *testing.T) bot.Card {
	t.Helper()
	out := f.run(&alice, "request_return", `{"order_id":"XE1000000001","reason":"changed my mind"}`)
	if out.Failed != "" || len(out.Cards) != 1 {
		t.Fatalf("request_return: %q, %d cards: %s", out.Failed, len(out.Cards), out.Content)
	}
	return out.Cards[0]
}

func TestRequestReturnOnlyProposesUntilTheShopperConfirms(t *testing.T) {
	f := newToolsFixture(t)
	out := f.run(&alice, "request_return", `{"order_id":"XE1000000001","reason":"changed my mind"}`)
	if out.Failed != "" || len(out.Cards) != 1 {
		t.Fatalf("request_return: %q, %d cards: %s", out.Failed, len(out.Cards), out.Content)
	}
	card := out.Cards[0]
	if card.Kind != "return" || card.Status != "proposed" || !strings.HasPrefix(card.ProposalID, "rp_") || card.ReturnID != "" ||
		card.OrderID != "XE1000000001" || card.ReturnUntil != "May 22" || card.Reason != "changed my mind" ||
		len(card.Items) != 1 || card.Items[0] != (bot.CardItem{Name: "Wireless Earbuds", Qty: 1}) {
		t.Errorf("card = %+v, want a proposed return of the earbuds only", card)
	}
	for _, s := range []string{"proposed; the shopper must press Confirm on the card; nothing has been submitted yet",
		`"not_included":[`, "statutory_custom", "confirmed_non_returnable_at_purchase", `"offer_human":true`,
		"within 7 days after the merchant receives the return"} {
		if !strings.Contains(out.Content, s) {
			t.Errorf("content lacks %q: %s", s, out.Content)
		}
	}
	if rs := f.returnRequests(t, alice.ID); len(rs) != 0 {
		t.Fatalf("a proposal made %d return requests, want none", len(rs))
	}

	// Typed words are text, never a confirmation.
	for i, words := range []string{"确认", "confirm", "yes please submit the return", "Confirm " + card.ProposalID} {
		id := "typed-" + string(rune('a'+i))
		if err := f.bot.Submit(bot.Turn{ConversationID: f.aliceConv.ID, Shopper: &alice, Lang: "en", ClientID: id, Text: words}); err != nil {
			t.Fatal(err)
		}
		for ev := f.next(t, bot.EventMessage); ev.Message.ReplyTo != id || ev.Message.Role == bot.RoleShopper; ev = f.next(t, bot.EventMessage) {
		}
	}
	if rs := f.returnRequests(t, alice.ID); len(rs) != 0 {
		t.Fatalf("typing made %d return requests, want none", len(rs))
	}
	if p, err := f.store.ReturnProposalOf(context.Background(), alice.ID, card.ProposalID); err != nil || p.Status != "proposed" {
		t.Fatalf("after typing, the proposal is %+v (%v), want still proposed", p, err)
	}

	// The card's button submits it, once, however often it is pressed.
	var returnID string
	for range 2 {
		if err := f.bot.Submit(bot.Turn{ConversationID: f.aliceConv.ID, Shopper: &alice, Lang: "en",
			Return: &bot.ReturnAction{ProposalID: card.ProposalID, Confirm: true}}); err != nil {
			t.Fatal(err)
		}
		// Replies still due to the typed words (two unsure answers in a row
		// ask for a person) come first: skip to the card's.
		ev := f.nextOf(t)
		for ev.Type == bot.EventMessage && len(ev.Message.Cards) == 0 && (ev.Message.Intent == bot.IntentHandoff || ev.Message.Intent == bot.IntentUnsure) {
			ev = f.nextOf(t)
		}
		if ev.Type != bot.EventMessage || len(ev.Message.Cards) != 1 {
			t.Fatalf("confirm: %+v, want a message with the return card", ev)
		}
		m, c := ev.Message, ev.Message.Cards[0]
		if c.Kind != "return" || c.Status != "confirmed" || !strings.HasPrefix(c.ReturnID, "r_") || c.ProposalID != card.ProposalID ||
			m.Intent != bot.IntentOrder || !strings.Contains(m.Text, c.ReturnID) ||
			!strings.Contains(m.Text, "within 7 days after the merchant receives the return") {
			t.Fatalf("confirmation = %+v with card %+v", m, c)
		}
		if returnID != "" && c.ReturnID != returnID {
			t.Errorf("the second confirmation gave return %s, the first %s", c.ReturnID, returnID)
		}
		returnID = c.ReturnID
	}
	rs := f.returnRequests(t, alice.ID)
	if len(rs) != 1 || rs[0].ID != returnID || rs[0].OrderID != "XE1000000001" || len(rs[0].Items) != 1 ||
		rs[0].Items[0] != (bot.ReturnItem{SKU: "SKU-EL-1001", Qty: 1}) || rs[0].Status != "submitted" {
		t.Fatalf("return requests = %+v, want the one confirmed", rs)
	}

	// A submitted return is not withdrawn with the card.
	if err := f.bot.Submit(bot.Turn{ConversationID: f.aliceConv.ID, Shopper: &alice, Lang: "en",
		Return: &bot.ReturnAction{ProposalID: card.ProposalID}}); err != nil {
		t.Fatal(err)
	}
	if ev := f.nextOf(t); ev.Type != bot.EventError || ev.Code != "already_submitted" {
		t.Errorf("cancel after confirm: %+v, want error already_submitted", ev)
	}
}

func TestReturnActionRefusals(t *testing.T) {
	f := newToolsFixture(t)
	ctx := context.Background()
	otherConv, err := f.store.OpenConversation(ctx, "s:"+alice.ID, alice.ID, "", "zh")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		turn     func(proposalID string) bot.Turn
		before   func(t *testing.T, proposalID string)
		wantCode string // an error event, or "" for a message
		check    func(t *testing.T, m *bot.Message)
	}{
		{name: "anonymous", wantCode: "login_required", turn: func(id string) bot.Turn {
			return bot.Turn{ConversationID: f.aliceConv.ID, Lang: "en", Return: &bot.ReturnAction{ProposalID: id, Confirm: true}}
		}},
		{name: "another shopper's proposal", wantCode: "not_found", turn: func(id string) bot.Turn {
			return bot.Turn{ConversationID: f.bobConv.ID, Shopper: &bob, Lang: "en", Return: &bot.ReturnAction{ProposalID: id, Confirm: true}}
		}},
		{name: "another shopper's proposal, cancelled", wantCode: "not_found", turn: func(id string) bot.Turn {
			return bot.Turn{ConversationID: f.bobConv.ID, Shopper: &bob, Lang: "en", Return: &bot.ReturnAction{ProposalID: id}}
		}},
		{name: "another conversation of the shopper", wantCode: "not_found", turn: func(id string) bot.Turn {
			return bot.Turn{ConversationID: otherConv.ID, Shopper: &alice, Lang: "zh", Return: &bot.ReturnAction{ProposalID: id, Confirm: true}}
		}},
		{name: "a missing proposal", wantCode: "not_found", turn: func(string) bot.Turn {
			return bot.Turn{ConversationID: f.aliceConv.ID, Shopper: &alice, Lang: "en", Return: &bot.ReturnAction{ProposalID: "rp_missing", Confirm: true}}
		}},
		{name: "confirm after cancel", wantCode: "proposal_cancelled",
			before: func(t *testing.T, id string) {
				if err := f.bot.Submit(bot.Turn{ConversationID: f.aliceConv.ID, Shopper: &alice, Lang: "en",
					Return: &bot.ReturnAction{ProposalID: id}}); err != nil {
					t.Fatal(err)
				}
				ev := f.nextOf(t)
				if ev.Type != bot.EventMessage || len(ev.Message.Cards) != 1 || ev.Message.Cards[0].Status != "cancelled" ||
					ev.Message.Text != "The return was cancelled; nothing was submitted." {
					t.Fatalf("cancel: %+v", ev)
				}
			},
			turn: func(id string) bot.Turn {
				return bot.Turn{ConversationID: f.aliceConv.ID, Shopper: &alice, Lang: "en", Return: &bot.ReturnAction{ProposalID: id, Confirm: true}}
			}},
		{name: "the window closed after the proposal",
			before: func(t *testing.T, _ string) { f.clock.Set(time.Date(2026, 5, 23, 0, 0, 0, 0, bot.ShopZone)) },
			turn: func(id string) bot.Turn {
				return bot.Turn{ConversationID: f.aliceConv.ID, Shopper: &alice, Lang: "zh", Return: &bot.ReturnAction{ProposalID: id, Confirm: true}}
			},
			check: func(t *testing.T, m *bot.Message) {
				if len(m.Cards) != 0 || !strings.Contains(m.Text, "5月22日") || !slices.Contains(m.Suggestions, "转人工") {
					t.Errorf("reply = %+v, want the closed window and the offer of a person", m)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Set(toolsNow)
			card := f.propose(t)
			if tt.before != nil {
				tt.before(t, card.ProposalID)
			}
			before := len(f.log.String())
			if err := f.bot.Submit(tt.turn(card.ProposalID)); err != nil {
				t.Fatal(err)
			}
			ev := f.nextOf(t)
			switch {
			case tt.wantCode != "":
				if ev.Type != bot.EventError || ev.Code != tt.wantCode || ev.Text == "" {
					t.Fatalf("event %+v, want error %s", ev, tt.wantCode)
				}
			case ev.Type != bot.EventMessage:
				t.Fatalf("event %+v, want a message", ev)
			default:
				tt.check(t, ev.Message)
			}
			if tt.name == "another shopper's proposal" {
				waitForLog(t, f.log, before, "security: return proposal of another shopper refused")
			}
			if rs := f.returnRequests(t, alice.ID); len(rs) != 0 {
				t.Errorf("%d return requests, want none", len(rs))
			}
			if rs := f.returnRequests(t, bob.ID); len(rs) != 0 {
				t.Errorf("bob has %d return requests, want none", len(rs))
			}
		})
	}
}

// waitForLog waits for a line after offset: the worker logs before it publishes, so
// the line is normally there already.
func waitForLog(t *testing.T, logs *syncBuffer, offset int, line string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String()[offset:], line) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q", line)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
