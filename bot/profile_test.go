package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// profileNow is the clock of the personalisation tests.
var profileNow = time.Date(2026, 11, 12, 10, 0, 0, 0, bot.ShopZone)

// profileFixture is a bot with Profiles over the real store and knowledge
// base, a small catalog, a returns FAQ with a gold tier policy, and a
// shopper whose profile each test sets.
type profileFixture struct {
	store *sqlite.Store
	bot   *bot.Bot
	pub   *checkingPublisher
	n     int
}

func newProfileFixture(t *testing.T) *profileFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "x.db"), sqlite.Options{Now: func() time.Time { return profileNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ix, err := knowledge.OpenIndex(filepath.Join(dir, "index"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	kb := knowledge.NewBase(store, ix, nil)
	if _, err := kb.Import(ctx, []knowledge.Entry{
		{ID: "return-shipping", Locale: "en", Category: "returns", Question: "Who pays for return shipping?",
			Alternates: []string{"do I pay the return shipping fee"}, Answer: "You pay the shipping for a no-reason return."},
		{ID: "return-shipping-gold", Locale: "en", Category: "returns", Tags: []string{"tier:gold"},
			Question: "Who pays for return shipping? (Gold members)", Alternates: []string{"do I pay the return shipping fee"},
			Answer: "As a Gold member: return shipping is free; choose a pickup when you ask for the return."},
		{ID: "return-shipping-zh", Locale: "zh-CN", Category: "returns", Question: "退货运费谁出？",
			Alternates: []string{"退货要我出运费吗"}, Answer: "七天无理由退货的寄回运费由您承担。"},
		{ID: "return-shipping-gold-zh", Locale: "zh-CN", Category: "returns", Tags: []string{"tier:gold"},
			Question: "退货运费谁出？（金卡会员）", Alternates: []string{"退货要我出运费吗"}, Answer: "金卡会员专享：退货运费全免。"},
		{ID: "invoice", Locale: "en", Category: "invoices", Question: "How do I get an invoice?", Answer: "Request it under My Orders."},
	}, knowledge.ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if err := store.PutShop(ctx, sqlite.Shop{Products: []bot.Product{
		{SKU: "RUN-SHOES", NameZH: "缓震跑步鞋", NameEN: "Cushioned Running Shoes", Category: "apparel", PriceCents: 35900},
		{SKU: "RUN-BAND", NameZH: "跑步腰包", NameEN: "Running Waist Pack", Category: "sports", PriceCents: 5900},
		{SKU: "RUN-SOCKS", NameZH: "跑步袜", NameEN: "Running Socks", Category: "apparel", PriceCents: 2900},
		{SKU: "TEA", NameZH: "西湖龙井", NameEN: "Longjing Green Tea", Category: "food", PriceCents: 12800},
		{SKU: "MUG", NameZH: "陶瓷马克杯", NameEN: "Ceramic Mug", Category: "home", PriceCents: 4900},
		{SKU: "CREAM", NameZH: "保湿面霜", NameEN: "Hydrating Cream", Category: "beauty", PriceCents: 18900},
	}}); err != nil {
		t.Fatal(err)
	}
	pub := &checkingPublisher{t: t, store: store, got: make(chan bot.Event, 100)}
	desk := handoff.NewDesk(handoff.Config{}, handoff.Deps{Store: store, Publish: pub}, slog.New(slog.DiscardHandler))
	b := bot.New(bot.Config{Workers: 2, Now: func() time.Time { return profileNow }},
		bot.Deps{Conversations: store, Orders: store, Knowledge: kb, Gaps: kb, Handoff: desk, Publish: pub, Profiles: store, Returns: store},
		slog.New(slog.DiscardHandler))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return &profileFixture{store: store, bot: b, pub: pub}
}

// shopper stores sh and returns it as the handshake gives it.
func (f *profileFixture) shopper(t *testing.T, sh bot.Shopper) *bot.Shopper {
	t.Helper()
	if err := f.store.PutShopper(context.Background(), sh); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.SetConsent(context.Background(), sh.ID, bot.ConsentPersonalize, sh.Personalize, "widget"); err != nil {
		t.Fatal(err)
	}
	return &sh
}

// ask sends text as sh in a new conversation and returns the bot's reply.
func (f *profileFixture) ask(t *testing.T, sh *bot.Shopper, lang, text string) *bot.Message {
	t.Helper()
	ctx := context.Background()
	f.n++
	conv, err := f.store.OpenConversation(ctx, "s:"+sh.ID, sh.ID, "", lang)
	if err != nil {
		t.Fatal(err)
	}
	id := "c" + string(rune('a'+f.n))
	if err := f.bot.Submit(bot.Turn{ConversationID: conv.ID, Shopper: sh, Lang: lang, ClientID: id, Text: text}); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-f.pub.got:
			if ev.Type == bot.EventMessage && ev.Message.Role != bot.RoleShopper && ev.Message.ReplyTo == id {
				return ev.Message
			}
		case <-timeout:
			t.Fatalf("no reply to %q", text)
		}
	}
}

func TestGreetingUsesTheNameOnlyWithConsent(t *testing.T) {
	f := newProfileFixture(t)
	emma := f.shopper(t, bot.Shopper{ID: "emma", Name: "Emma Clarke", Lang: "en", Tier: "gold", AgeBand: "35-44",
		Gender: "female", Interests: []string{"running"}})

	m := f.ask(t, emma, "en", "hello")
	if strings.Contains(m.Text, "Emma") || strings.Contains(m.Text, "Clarke") || len(m.Personalized) != 0 {
		t.Errorf("without consent: %q personalized %v; want no name and nothing personalised", m.Text, m.Personalized)
	}

	// The consent switched on in the store counts at the next turn, though
	// the handshake's copy of the profile still says no.
	emma.Personalize = true
	f.shopper(t, *emma)
	emma.Personalize = false
	m = f.ask(t, emma, "en", "hello")
	if !strings.HasPrefix(m.Text, "Hi Emma!") || !slices.Equal(m.Personalized, []string{bot.ProfileFieldName}) {
		t.Errorf("with consent: %q personalized %v; want \"Hi Emma!\" and [name]", m.Text, m.Personalized)
	}

	// 45 and over: formal, with the honorific from the gender.
	wang := f.shopper(t, bot.Shopper{ID: "wang", Name: "王建国", Lang: "zh", AgeBand: "45-54", Gender: "male", Personalize: true})
	m = f.ask(t, wang, "zh", "你好")
	if !strings.HasPrefix(m.Text, "王先生，您好") || !slices.Contains(m.Personalized, bot.ProfileFieldAgeBand) {
		t.Errorf("formal zh greeting: %q personalized %v", m.Text, m.Personalized)
	}
	clarke := f.shopper(t, bot.Shopper{ID: "clarke", Name: "Margaret Clarke", Lang: "en", AgeBand: "55+", Gender: "female", Personalize: true})
	if m = f.ask(t, clarke, "en", "hi"); !strings.HasPrefix(m.Text, "Good day, Ms Clarke.") {
		t.Errorf("formal en greeting: %q", m.Text)
	}
}

func TestTierPolicyOnlyForConsentedMembersOfTheTier(t *testing.T) {
	f := newProfileFixture(t)
	gold := f.shopper(t, bot.Shopper{ID: "g", Name: "Gold", Lang: "en", Tier: "gold", Personalize: true})
	m := f.ask(t, gold, "en", "Do I pay the return shipping fee?")
	if !strings.Contains(m.Text, "return shipping is free") || !slices.Contains(m.Personalized, bot.ProfileFieldTier) {
		t.Errorf("gold member: %q personalized %v; want the free return shipping policy and tier", m.Text, m.Personalized)
	}
	if len(m.Sources) != 2 || m.Sources[0].ID != "return-shipping" || m.Sources[1].ID != "return-shipping-gold" {
		t.Errorf("gold member sources %+v, want the policy and the tier policy", m.Sources)
	}
	m = f.ask(t, gold, "zh", "退货要我出运费吗")
	if !strings.Contains(m.Text, "退货运费全免") {
		t.Errorf("gold member in zh: %q", m.Text)
	}
	// Another topic gets no tier policy.
	if m = f.ask(t, gold, "en", "How do I get an invoice?"); strings.Contains(m.Text, "Gold") || len(m.Personalized) != 0 {
		t.Errorf("gold member, invoice: %q personalized %v", m.Text, m.Personalized)
	}

	for _, sh := range []bot.Shopper{
		{ID: "s", Name: "Silver", Lang: "en", Tier: "silver", Personalize: true},
		{ID: "g2", Name: "Gold without consent", Lang: "en", Tier: "gold"},
	} {
		m := f.ask(t, f.shopper(t, sh), "en", "Do I pay the return shipping fee?")
		if m.Intent != bot.IntentFAQ || strings.Contains(m.Text, "free") || len(m.Personalized) != 0 || len(m.Sources) != 1 {
			t.Errorf("%s: %q personalized %v sources %v; want the plain policy only", sh.Name, m.Text, m.Personalized, m.Sources)
		}
	}
}

func TestRecommendationsFromInterestsWithoutWhatWasBought(t *testing.T) {
	f := newProfileFixture(t)
	ctx := context.Background()
	runner := f.shopper(t, bot.Shopper{ID: "r", Name: "Runner", Lang: "en", Interests: []string{"running"}, Personalize: true})
	if err := f.store.PutOrder(ctx, bot.Order{ID: "XE1000001", ShopperID: "r", Status: bot.StatusDelivered, Currency: "CNY",
		TotalCents: 35900, PlacedAt: profileNow.AddDate(0, 0, -40), DeliveredAt: profileNow.AddDate(0, 0, -38),
		Items: []bot.OrderItem{{SKU: "RUN-SHOES", Qty: 1, PriceCents: 35900}}}); err != nil {
		t.Fatal(err)
	}
	m := f.ask(t, runner, "en", "recommend something")
	if m.Intent != bot.IntentRecommend || len(m.Cards) == 0 || len(m.Cards) > 3 {
		t.Fatalf("reply %q intent %q cards %+v; want 1 to 3 product cards", m.Text, m.Intent, m.Cards)
	}
	for _, c := range m.Cards {
		if c.Kind != "product" || c.SKU == "RUN-SHOES" || !strings.Contains(c.Name, "Running") || c.Price == "" || c.Reason == "" {
			t.Errorf("card %+v: want an unbought running product with price and reason", c)
		}
	}
	if !slices.Contains(m.Personalized, bot.ProfileFieldInterests) || !slices.Contains(m.Personalized, bot.ProfileFieldHistory) {
		t.Errorf("personalized %v, want interests and purchase_history", m.Personalized)
	}
	// Socks first: they match the interest and the favourite category
	// (apparel, from the shoes bought); the waist pack only the interest.
	m = f.ask(t, runner, "zh", "有什么推荐")
	if len(m.Cards) != 2 || m.Cards[0].Name != "跑步袜" || m.Cards[1].Name != "跑步腰包" || m.Cards[1].Price != "¥59.00" {
		t.Errorf("zh recommendations %+v, want socks then the waist pack, named in Chinese, priced like order totals", m.Cards)
	}

	// Upset: a person, never a sales pitch.
	if m = f.ask(t, runner, "en", "recommend something?? your shoes were garbage, I'm fed up!!"); len(m.Cards) != 0 {
		t.Errorf("upset shopper got cards: %+v", m.Cards)
	}

	// Thanks at the close: picks with consent.
	if m = f.ask(t, runner, "en", "thanks"); len(m.Cards) == 0 || m.Cards[0].Kind != "product" {
		t.Errorf("thanks with consent: %q cards %+v, want recommendations", m.Text, m.Cards)
	}

	// Without consent: catalog items, a word on the switch, nothing personal.
	stranger := f.shopper(t, bot.Shopper{ID: "x", Name: "Stranger", Lang: "en", Interests: []string{"running"}})
	m = f.ask(t, stranger, "en", "any suggestions?")
	if len(m.Cards) == 0 || len(m.Personalized) != 0 || !strings.Contains(m.Text, "menu") {
		t.Errorf("without consent: %q cards %d personalized %v", m.Text, len(m.Cards), m.Personalized)
	}
	for _, c := range m.Cards {
		if c.Reason != "" {
			t.Errorf("without consent a card says why: %+v", c)
		}
	}
	if m = f.ask(t, stranger, "en", "thanks"); len(m.Cards) != 0 {
		t.Errorf("thanks without consent got cards: %+v", m.Cards)
	}
}

func TestDeliveredOrderOffersTheNextStep(t *testing.T) {
	f := newProfileFixture(t)
	sh := f.shopper(t, bot.Shopper{ID: "d", Name: "D", Lang: "en"})
	// Signed for on Nov 10 (Beijing): the window runs to the end of Nov 17;
	// on Nov 12, 6 days are left, today included.
	if err := f.store.PutOrder(context.Background(), bot.Order{ID: "XE2000001", ShopperID: "d", Status: bot.StatusDelivered,
		Currency: "CNY", TotalCents: 4900, PlacedAt: profileNow.AddDate(0, 0, -5),
		DeliveredAt: time.Date(2026, 11, 10, 15, 0, 0, 0, bot.ShopZone), Items: []bot.OrderItem{{SKU: "MUG", Qty: 1, PriceCents: 4900}}}); err != nil {
		t.Fatal(err)
	}
	m := f.ask(t, sh, "en", "where is my order XE2000001?")
	if !strings.Contains(m.Text, "6 days left to return it") || !strings.Contains(m.Text, "review") || !slices.Contains(m.Suggestions, "I want to return it") {
		t.Errorf("reply %q suggestions %v; want the days left, a review and a return chip", m.Text, m.Suggestions)
	}
	if len(m.Personalized) != 0 {
		t.Errorf("the next step uses the order, not the profile: personalized %v", m.Personalized)
	}
	m = f.ask(t, sh, "zh", "订单 XE2000001 到哪了")
	if !strings.Contains(m.Text, "还剩 6 天") {
		t.Errorf("zh reply %q, want 还剩 6 天", m.Text)
	}
}

// TestNoReturnNextStepAfterAConfirmedReturn: once the shopper confirmed a
// return of the delivered order, its answer no longer counts down the
// days left to return it nor offers a return chip; a cancelled proposal
// does not count.
func TestNoReturnNextStepAfterAConfirmedReturn(t *testing.T) {
	f := newProfileFixture(t)
	ctx := context.Background()
	sh := f.shopper(t, bot.Shopper{ID: "d", Name: "D", Lang: "en"})
	if err := f.store.PutOrder(ctx, bot.Order{ID: "XE2000001", ShopperID: "d", Status: bot.StatusDelivered,
		Currency: "CNY", TotalCents: 4900, PlacedAt: profileNow.AddDate(0, 0, -5),
		DeliveredAt: time.Date(2026, 11, 10, 15, 0, 0, 0, bot.ShopZone), Items: []bot.OrderItem{{SKU: "MUG", Qty: 1, PriceCents: 4900}}}); err != nil {
		t.Fatal(err)
	}
	propose := func() bot.ReturnProposal {
		t.Helper()
		p, err := f.store.ProposeReturn(ctx, bot.ReturnProposal{ConversationID: "c", ShopperID: "d", OrderID: "XE2000001",
			Items: []bot.ReturnItem{{SKU: "MUG", Qty: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := f.store.CancelReturn(ctx, "d", propose().ID); err != nil {
		t.Fatal(err)
	}
	if m := f.ask(t, sh, "en", "where is my order XE2000001?"); !strings.Contains(m.Text, "days left to return it") {
		t.Errorf("after a cancelled proposal: %q, want the days left", m.Text)
	}
	if _, _, err := f.store.ConfirmReturn(ctx, "d", propose().ID); err != nil {
		t.Fatal(err)
	}
	m := f.ask(t, sh, "en", "where is my order XE2000001?")
	if strings.Contains(m.Text, "days left to return it") || slices.Contains(m.Suggestions, "I want to return it") {
		t.Errorf("after a confirmed return: %q suggestions %v; want no return countdown or chip", m.Text, m.Suggestions)
	}
}

// TestConsentWithdrawnCountsAtTheNextTurn: the shopper switches
// personalisation off in the widget's menu while the chat is open; the
// very next reply uses nothing of the profile, though the copy of the
// profile the connection took at its handshake still says yes.
func TestConsentWithdrawnCountsAtTheNextTurn(t *testing.T) {
	f := newProfileFixture(t)
	emma := f.shopper(t, bot.Shopper{ID: "emma", Name: "Emma Clarke", Lang: "en", Tier: "gold", Interests: []string{"running"}, Personalize: true})
	if m := f.ask(t, emma, "en", "hello"); !strings.Contains(m.Text, "Emma") || len(m.Personalized) == 0 {
		t.Fatalf("with consent: %q personalized %v; want her name", m.Text, m.Personalized)
	}
	if _, err := f.store.SetConsent(context.Background(), "emma", bot.ConsentPersonalize, false, "widget"); err != nil {
		t.Fatal(err)
	}
	if !emma.Personalize {
		t.Fatal("the handshake copy should still say yes")
	}
	for _, q := range []string{"hello", "Who pays for return shipping?", "recommend something"} {
		m := f.ask(t, emma, "en", q)
		if strings.Contains(m.Text, "Emma") || strings.Contains(m.Text, "Gold") || len(m.Personalized) != 0 {
			t.Errorf("%q after withdrawing consent: %q personalized %v; want nothing of the profile", q, m.Text, m.Personalized)
		}
		for _, c := range m.Cards {
			if strings.Contains(c.Reason, "running") {
				t.Errorf("%q after withdrawing consent: a card recommended for her interests: %+v", q, c)
			}
		}
	}
}

// TestVisitorRecommendationsWithoutMenuHint: a visitor gets the shop's
// first picks, in either language, without the hint about a menu switch
// that only verified shoppers have.
func TestVisitorRecommendationsWithoutMenuHint(t *testing.T) {
	f := newProfileFixture(t)
	ctx := context.Background()
	for i, c := range []struct{ lang, text, menu string }{
		{"zh", "有什么推荐", "菜单"},
		{"en", "recommend something", "menu"},
	} {
		conv, err := f.store.OpenConversation(ctx, fmt.Sprintf("v:visitor-%d", i), "", "", c.lang)
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("v%d", i)
		if err := f.bot.Submit(bot.Turn{ConversationID: conv.ID, Lang: c.lang, ClientID: id, Text: c.text}); err != nil {
			t.Fatal(err)
		}
		m := waitReply(t, f.pub.got, id)
		if m.Intent != bot.IntentRecommend || len(m.Cards) == 0 || strings.Contains(m.Text, c.menu) || len(m.Personalized) != 0 {
			t.Errorf("%s visitor: intent %q text %q cards %d personalized %v; want the shop's picks, no menu hint, nothing personal",
				c.lang, m.Intent, m.Text, len(m.Cards), m.Personalized)
		}
	}
}

// waitReply waits for the reply to the shopper message clientID.
func waitReply(t *testing.T, got <-chan bot.Event, clientID string) *bot.Message {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-got:
			if ev.Type == bot.EventMessage && ev.Message.Role != bot.RoleShopper && ev.Message.ReplyTo == clientID {
				return ev.Message
			}
		case <-timeout:
			t.Fatalf("no reply to %s", clientID)
		}
	}
}
