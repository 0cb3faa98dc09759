package handoff_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// recorder is a bot.Publisher and handoff.Notifier that keeps everything.
type recorder struct {
	mu      sync.Mutex
	events  map[string][]bot.Event
	notices []handoff.Notice
}

func (r *recorder) Publish(conv string, ev bot.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events[conv] = append(r.events[conv], ev)
}

func (r *recorder) Notify(agent int64, n handoff.Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
}

// handoffs returns the handoff statuses published to a conversation.
func (r *recorder) handoffs(conv string) []bot.HandoffStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bot.HandoffStatus
	for _, ev := range r.events[conv] {
		if ev.Type == bot.EventHandoff {
			out = append(out, *ev.Handoff)
		}
	}
	return out
}

type fixture struct {
	store *sqlite.Store
	desk  *handoff.Desk
	pub   *recorder
	now   time.Time
}

func newFixture(t testing.TB, cfg handoff.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{pub: &recorder{events: map[string][]bot.Event{}}, now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f.store = store
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return f.now }
	}
	f.desk = handoff.NewDesk(cfg, handoff.Deps{Store: store, Publish: f.pub, Notify: f.pub}, slog.New(slog.DiscardHandler))
	return f
}

func (f *fixture) agent(t testing.TB, name string, role auth.Role) handoff.Staff {
	t.Helper()
	u, err := f.store.CreateUser(context.Background(), auth.User{Username: name, DisplayName: strings.ToUpper(name[:1]) + name[1:],
		Role: role, PasswordHash: []byte("x"), PasswordChangedAt: f.now})
	if err != nil {
		t.Fatal(err)
	}
	return handoff.Staff{ID: u.ID, Name: u.DisplayName, Admin: role == auth.RoleAdmin, Username: u.Username, Role: string(role)}
}

func (f *fixture) conversation(t testing.TB, lang string) string {
	t.Helper()
	c, err := f.store.OpenConversation(context.Background(), "v:visitor-"+lang+"-"+time.Now().Format("150405.000000000"), "", "", lang)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.AppendMessage(context.Background(), bot.Message{ConversationID: c.ID, Role: bot.RoleShopper,
		Text: "my order XE2026051388 never came, call me on 13812345678", ClientID: "q1"}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestNobodyThereThenTicketThenAnswered(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, handoff.Config{})
	conv := f.conversation(t, "zh")

	st, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerWords, Lang: "zh"})
	if err != nil || st.Status != handoff.StatusOffline || !strings.Contains(st.Text, "留下") {
		t.Fatalf("request with no agent: %+v, %v; want offline and an invitation to leave a message", st, err)
	}
	st, err = f.desk.LeaveMessage(ctx, conv, bot.LeftMessage{Text: "请尽快联系我", ContactVia: "email", Contact: "lin@example.com"})
	if err != nil || st.Status != handoff.StatusTicket || !strings.Contains(st.Text, "邮箱") {
		t.Fatalf("leave message: %+v, %v", st, err)
	}

	wang := f.agent(t, "wang", auth.RoleAgent)
	f.desk.Connect(wang.ID)
	b, err := f.desk.Board(ctx, wang)
	if err != nil || len(b.Tickets) != 1 || b.Tickets[0].ConversationID != conv {
		t.Fatalf("board: %+v, %v; want the ticket", b, err)
	}
	tk := b.Tickets[0]
	if tk.Trigger != bot.TriggerWords || tk.Ticket == nil || tk.Ticket.Contact == "lin@example.com" || !strings.HasSuffix(tk.Ticket.Contact, "@example.com") {
		t.Errorf("ticket %+v: want the request's trigger and the contact masked", tk.Ticket)
	}
	if strings.Contains(tk.LastText, "13812345678") {
		t.Errorf("the board shows an unmasked phone number: %q", tk.LastText)
	}
	if _, err := f.desk.Claim(ctx, wang, conv); err != nil {
		t.Fatal(err)
	}
	m, created, err := f.desk.Reply(ctx, wang, conv, "r1", "您好，已为您查询")
	if err != nil || !created || m.Role != bot.RoleAgent || m.AgentName != "Wang" || m.ClientID != "r1" {
		t.Fatalf("reply: %+v, %v", m, err)
	}
	again, created, err := f.desk.Reply(ctx, wang, conv, "r1", "您好，已为您查询")
	if err != nil || created || again.ID != m.ID {
		t.Fatalf("a resent reply was stored twice: %+v, %v", again, err)
	}
	// The shopper's next visit replays it: it is stored.
	msgs, _ := f.store.MessagesAfter(ctx, conv, 0, 100)
	if last := msgs[len(msgs)-1]; last.ID != m.ID || last.AgentName != "Wang" {
		t.Errorf("last stored message %+v, want the agent's reply", last)
	}
}

func TestAutoRoutingAssignsAndCloseAsksForARating(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, handoff.Config{})
	wang := f.agent(t, "wang", auth.RoleAgent)
	f.desk.Connect(wang.ID)
	conv := f.conversation(t, "en")

	st, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerButton, Lang: "en"})
	if err != nil || st.Status != handoff.StatusAssigned || st.Agent != "Wang" {
		t.Fatalf("request: %+v, %v; want assigned to Wang", st, err)
	}
	if got, _ := f.desk.Status(ctx, conv); got.Status != handoff.StatusAssigned {
		t.Errorf("status = %+v", got)
	}
	// Someone else may not read it, reply to it, or close it.
	li := f.agent(t, "li", auth.RoleAgent)
	if _, err := f.desk.Conversation(ctx, li, conv); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("another agent read the conversation: %v", err)
	}
	if _, _, err := f.desk.Reply(ctx, li, conv, "x", "hi"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("another agent replied: %v", err)
	}
	if _, err := f.desk.AddNote(ctx, wang, conv, "VIP, handle with care"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.Close(ctx, wang, conv, "nonsense"); !errors.Is(err, handoff.ErrInvalid) {
		t.Errorf("close with an unknown resolution: %v", err)
	}
	if _, err := f.desk.Close(ctx, wang, conv, "resolved"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.desk.Status(ctx, conv); got.Status != "" {
		t.Errorf("after close the status is %+v, want back with the bot", got)
	}
	msgs, _ := f.store.MessagesAfter(ctx, conv, 0, 100)
	last := msgs[len(msgs)-1]
	if last.Role != bot.RoleBot || len(last.Cards) != 1 || last.Cards[0].Kind != "rating" {
		t.Errorf("last message %+v: want the bot asking for a rating", last)
	}
	for _, m := range msgs {
		if strings.Contains(m.Text, "handle with care") {
			t.Errorf("an internal note is in the transcript: %+v", m)
		}
	}
	// The agent who handled it still sees it (with the note); a new agent does not.
	v, err := f.desk.Conversation(ctx, wang, conv)
	if err != nil || len(v.Notes) != 1 || v.Case.Status != handoff.StatusClosed {
		t.Errorf("view after close: %+v, %v", v.Case, err)
	}
}

func TestQueueRanksAndNeverAssignsTwice(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, handoff.Config{Routing: handoff.RoutingClaim})
	wang, li := f.agent(t, "wang", auth.RoleAgent), f.agent(t, "li", auth.RoleAgent)
	f.desk.Connect(wang.ID)
	f.desk.Connect(li.ID)

	calm := f.conversation(t, "zh")
	if st, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: calm, Trigger: bot.TriggerButton, Lang: "zh"}); err != nil || st.Position != 1 || st.ETASeconds <= 0 {
		t.Fatalf("first request: %+v, %v", st, err)
	}
	f.now = f.now.Add(time.Minute)
	upset := f.conversation(t, "zh")
	st, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: upset, Trigger: bot.TriggerUpset, Lang: "zh"})
	if err != nil || st.Position != 1 {
		t.Fatalf("an upset shopper waiting 0 min should go before a calm one waiting 1 min: %+v, %v", st, err)
	}
	b, _ := f.desk.Board(ctx, wang)
	if len(b.Queue) != 2 || b.Queue[0].ConversationID != upset || b.Queue[1].Position != 2 {
		t.Fatalf("queue %+v", b.Queue)
	}

	// Two agents claim at once: exactly one gets it.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, a := range []handoff.Staff{wang, li} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.desk.Claim(ctx, a, calm)
		}()
	}
	wg.Wait()
	// The loser is told "not found", as for any conversation outside their
	// access: it is someone else's now.
	if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], handoff.ErrNotFound) || errors.Is(errs[1], handoff.ErrNotFound)) {
		t.Fatalf("claims: %v, %v; want exactly one success, the other not found", errs[0], errs[1])
	}
	// The shopper still queued is told their new place.
	hs := f.pub.handoffs(upset)
	if len(hs) == 0 || hs[len(hs)-1].Status != handoff.StatusQueued {
		t.Errorf("queued shopper frames %+v", hs)
	}
}

func TestRoutingPrefersLanguageAndRoom(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, handoff.Config{})
	zhOnly, en := f.agent(t, "zhonly", auth.RoleAgent), f.agent(t, "english", auth.RoleAgent)
	if _, err := f.desk.SetAgent(ctx, zhOnly.ID, []string{"zh"}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.SetAgent(ctx, en.ID, []string{"en", "zh"}, 1); err != nil {
		t.Fatal(err)
	}
	f.desk.Connect(zhOnly.ID)
	f.desk.Connect(en.ID)
	enConv := f.conversation(t, "en")
	st, _ := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: enConv, Trigger: bot.TriggerButton, Lang: "en"})
	if st.Agent != "English" {
		t.Fatalf("an English conversation went to %q", st.Agent)
	}
	zhConv := f.conversation(t, "zh")
	st, _ = f.desk.Request(ctx, bot.HandoffRequest{ConversationID: zhConv, Trigger: bot.TriggerButton, Lang: "zh"})
	if st.Agent != "Zhonly" {
		t.Fatalf("a Chinese conversation went to %q", st.Agent)
	}
	// Both full: the next one waits.
	third := f.conversation(t, "zh")
	st, _ = f.desk.Request(ctx, bot.HandoffRequest{ConversationID: third, Trigger: bot.TriggerButton, Lang: "zh"})
	if st.Status != handoff.StatusQueued {
		t.Fatalf("with every agent full: %+v, want queued", st)
	}
	// An agent who goes away keeps their conversations but gets no new ones.
	if err := f.desk.SetPresence(ctx, en.ID, handoff.Away); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.Close(ctx, en, enConv, "resolved"); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.desk.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	time.Sleep(50 * time.Millisecond) // one routing pass; the assertion below holds whether it ran or not
	if got, _ := f.desk.Status(ctx, third); got.Status != handoff.StatusQueued {
		t.Errorf("an away agent was given a conversation: %+v", got)
	}
	if err := f.desk.SetPresence(ctx, en.ID, handoff.Online); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := f.desk.Status(ctx, third)
		if got.Status == handoff.StatusAssigned {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("back online with room, the waiting conversation was not routed: %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutsideServiceHours(t *testing.T) {
	ctx := context.Background()
	hours, err := handoff.ParseHours("mon-fri 09:00-18:00; sat 10:00-12:00", "Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, handoff.Config{Hours: hours})
	wang := f.agent(t, "wang", auth.RoleAgent)
	f.desk.Connect(wang.ID)
	f.now = time.Date(2026, 5, 3, 4, 0, 0, 0, time.UTC) // Sunday 12:00 in Shanghai
	conv := f.conversation(t, "en")
	st, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerButton, Lang: "en"})
	if err != nil || st.Status != handoff.StatusOffline || !strings.Contains(st.Text, "mon-fri 09:00-18:00") {
		t.Fatalf("on Sunday: %+v, %v; want offline with the hours", st, err)
	}
}

func TestParseHours(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	h, err := handoff.ParseHours("mon-fri 09:00-12:00,13:00-18:00; sat 10:00-16:00; fri-sun 20:00-24:00", "Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 5, 4, 9, 0, 0, 0, sh), true},        // Monday 09:00
		{time.Date(2026, 5, 4, 8, 59, 0, 0, sh), false},      // before
		{time.Date(2026, 5, 4, 12, 30, 0, 0, sh), false},     // lunch
		{time.Date(2026, 5, 4, 18, 0, 0, 0, sh), false},      // the end is exclusive
		{time.Date(2026, 5, 9, 15, 0, 0, 0, sh), true},       // Saturday
		{time.Date(2026, 5, 10, 23, 59, 0, 0, sh), true},     // Sunday night, via fri-sun
		{time.Date(2026, 5, 10, 12, 0, 0, 0, sh), false},     // Sunday noon
		{time.Date(2026, 5, 4, 1, 30, 0, 0, time.UTC), true}, // 09:30 in Shanghai
	} {
		if got := h.Open(c.at); got != c.open {
			t.Errorf("Open(%v) = %v, want %v", c.at, got, c.open)
		}
	}
	if next := h.NextOpen(time.Date(2026, 5, 4, 12, 30, 0, 0, sh)); !next.Equal(time.Date(2026, 5, 4, 13, 0, 0, 0, sh)) {
		t.Errorf("NextOpen at lunch = %v", next)
	}
	for _, bad := range []string{"mon", "funday 09:00-10:00", "mon 10:00-09:00", "mon 25:00-26:00", "mon 09:00"} {
		if _, err := handoff.ParseHours(bad, "Asia/Shanghai"); err == nil {
			t.Errorf("ParseHours(%q) accepted", bad)
		}
	}
	if h, err := handoff.ParseHours("always", ""); err != nil || h != nil || !h.Open(time.Now()) {
		t.Errorf("always: %v, %v", h, err)
	}
}

func TestRevealIsAuditedAndTheAuditLogIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, handoff.Config{})
	if err := f.store.PutShopper(ctx, bot.Shopper{ID: "s1", Name: "林小雨", Phone: "13812345678", Address: "上海市浦东新区世纪大道100号"}); err != nil {
		t.Fatal(err)
	}
	c, _ := f.store.OpenConversation(ctx, "s:s1", "s1", "", "zh")
	wang := f.agent(t, "wang", auth.RoleAgent)
	f.desk.Connect(wang.ID)
	if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: c.ID, Trigger: bot.TriggerButton, Lang: "zh", Shopper: &bot.Shopper{ID: "s1"}}); err != nil {
		t.Fatal(err)
	}
	v, err := f.desk.Conversation(ctx, wang, c.ID)
	if err != nil || v.Shopper == nil || v.Shopper.Phone == "13812345678" || !strings.HasSuffix(v.Shopper.Phone, "5678") {
		t.Fatalf("view shopper %+v, %v: want the phone masked", v.Shopper, err)
	}
	vals, err := f.desk.Reveal(ctx, wang, c.ID, []string{"phone"}, "127.0.0.1")
	if err != nil || vals["phone"] != "13812345678" {
		t.Fatalf("reveal: %v, %v", vals, err)
	}
	log, err := f.store.AuditLog(ctx, 10)
	if err != nil || len(log) != 1 || log[0].Actor != "wang" || log[0].ShopperID != "s1" || log[0].Fields[0] != "phone" || log[0].IP != "127.0.0.1" {
		t.Fatalf("audit log %+v, %v", log, err)
	}
	if _, err := f.desk.Reveal(ctx, wang, c.ID, []string{"password"}, ""); !errors.Is(err, handoff.ErrInvalid) {
		t.Errorf("reveal of an unknown field: %v", err)
	}
}

// TestAbsentAgentsConversationsAreTakenBack: an agent who closes every
// console keeps their conversations through a reload, but not for long:
// after AbandonAfter they go to someone else, or become tickets when
// nobody is there.
func TestAbsentAgentsConversationsAreTakenBack(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newFixture(t, handoff.Config{Now: clock, Tick: 5 * time.Millisecond, AbandonAfter: 3 * time.Minute})
	wang, li := f.agent(t, "wang", auth.RoleAgent), f.agent(t, "lina", auth.RoleAgent)
	f.desk.Connect(wang.ID)
	first, second := f.conversation(t, "zh"), f.conversation(t, "en")
	for _, c := range []string{first, second} {
		if st, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: c, Trigger: bot.TriggerButton}); err != nil || st.Agent != "Wang" {
			t.Fatalf("request: %+v, %v", st, err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.desk.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	waitFor := func(conv, status, agent string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, _ := f.desk.Status(ctx, conv)
			if st.Status == status && st.Agent == agent {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: status %+v, want %s %q", conv, st, status, agent)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	f.desk.Disconnect(wang.ID) // a reload...
	advance(time.Minute)
	f.desk.Connect(wang.ID) // ...comes back in time
	f.desk.Disconnect(wang.ID)
	advance(2 * time.Minute)
	f.desk.Connect(li.ID)
	time.Sleep(30 * time.Millisecond) // several routing passes: wang has been gone 2 minutes only
	waitFor(first, handoff.StatusAssigned, "Wang")

	advance(2 * time.Minute) // gone 4 minutes: both go to Lina, who is online
	waitFor(first, handoff.StatusAssigned, "Lina")
	waitFor(second, handoff.StatusAssigned, "Lina")

	f.desk.Disconnect(li.ID)
	advance(4 * time.Minute) // nobody there: tickets
	waitFor(first, handoff.StatusTicket, "")
	waitFor(second, handoff.StatusTicket, "")
}

// TestTicketJoinsTheQueueWhenSomeoneIsThere: a shopper who left a message
// and asks for a person again once an agent is online is routed at once.
func TestTicketJoinsTheQueueWhenSomeoneIsThere(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, handoff.Config{})
	conv := f.conversation(t, "en")
	if st, _ := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerButton}); st.Status != handoff.StatusOffline {
		t.Fatalf("status %+v, want offline", st)
	}
	if st, _ := f.desk.LeaveMessage(ctx, conv, bot.LeftMessage{Text: "call me"}); st.Status != handoff.StatusTicket {
		t.Fatalf("status %+v, want ticket", st)
	}
	// Asking again with nobody there keeps the ticket.
	if st, _ := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerButton}); st.Status != handoff.StatusTicket {
		t.Fatalf("status %+v, want the ticket still", st)
	}
	wang := f.agent(t, "wang", auth.RoleAgent)
	f.desk.Connect(wang.ID)
	st, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerButton})
	if err != nil || st.Status != handoff.StatusAssigned || st.Agent != "Wang" {
		t.Fatalf("with an agent online: %+v, %v; want assigned", st, err)
	}
}
