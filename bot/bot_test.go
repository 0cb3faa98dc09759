package bot_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// checkingPublisher records events and checks, for every message event,
// that the message is already committed to the store.
type checkingPublisher struct {
	t     testing.TB
	store *sqlite.Store
	got   chan bot.Event
}

func (p *checkingPublisher) Publish(conv string, ev bot.Event) {
	if ev.Type == bot.EventMessage {
		msgs, err := p.store.MessagesAfter(context.Background(), conv, ev.Message.Seq-1, 1)
		if err != nil || len(msgs) != 1 || msgs[0].ID != ev.Message.ID {
			p.t.Errorf("message %s published before it was stored (%v)", ev.Message.ID, err)
		}
	}
	p.got <- ev
}

type fixture struct {
	kb    *knowledge.Base
	store *sqlite.Store
	bot   *bot.Bot
	pub   *checkingPublisher
	conv  bot.Conversation
	desk  *handoff.Desk
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "x.db"), sqlite.Options{})
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
		{ID: "refund-time", Locale: "en", Question: "How long does a refund take?", Alternates: []string{"when will I get my money back"}, Answer: "Within 7 days of receiving the return."},
		{ID: "invoice", Locale: "en", Question: "How do I get an invoice?", Alternates: []string{"I need a receipt for my company"}, Answer: "Request it under My Orders."},
	}, knowledge.ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	pub := &checkingPublisher{t: t, store: store, got: make(chan bot.Event, 100)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	desk := handoff.NewDesk(handoff.Config{}, handoff.Deps{Store: store, Publish: pub}, slog.New(slog.DiscardHandler))
	b := bot.New(bot.Config{Workers: 2, DirectTiers: []string{"vip"}}, bot.Deps{Conversations: store, Orders: store, Knowledge: kb, Gaps: kb,
		Handoff: desk, Publish: pub}, log)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	conv, err := store.OpenConversation(ctx, "v:visitor-fixture", "", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{kb: kb, store: store, bot: b, pub: pub, conv: conv, desk: desk}
}

// next returns the next event of the given type.
func (f *fixture) next(t testing.TB, typ string) bot.Event {
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

func TestTurnStoresThenAnswersWithSource(t *testing.T) {
	f := newFixture(t)
	if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Lang: "en", ClientID: "k1", Text: "when do I get my refund?"}); err != nil {
		t.Fatal(err)
	}
	ack := f.next(t, bot.EventAck)
	if ack.ClientID != "k1" || ack.Seq != 1 {
		t.Fatalf("ack = %+v", ack)
	}
	f.next(t, bot.EventMessage) // the shopper's own message
	reply := f.next(t, bot.EventMessage).Message
	if reply.Role != bot.RoleBot || reply.ReplyTo != "k1" || len(reply.Sources) != 1 || reply.Sources[0].ID != "refund-time" {
		t.Fatalf("reply = %+v", reply)
	}
}

func TestResendAfterALostReplyIsAnsweredOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// The server stored the message and died before replying.
	if _, _, err := f.store.AppendMessage(ctx, bot.Message{ConversationID: f.conv.ID, Role: bot.RoleShopper, ClientID: "k1", Text: "How do I get an invoice?"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Lang: "en", ClientID: "k1", Text: "How do I get an invoice?"}); err != nil {
			t.Fatal(err)
		}
		if ack := f.next(t, bot.EventAck); ack.Seq != 1 {
			t.Fatalf("resend ack seq = %d, want 1", ack.Seq)
		}
	}
	// A later message's reply proves the resends were fully handled: turns
	// of one conversation run in order.
	if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Lang: "en", ClientID: "k2", Text: "thanks"}); err != nil {
		t.Fatal(err)
	}
	for ev := f.next(t, bot.EventMessage); ev.Message.ReplyTo != "k2"; ev = f.next(t, bot.EventMessage) {
	}
	msgs, err := f.store.MessagesAfter(ctx, f.conv.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	for _, m := range msgs {
		if m.ReplyTo == "k1" {
			replies++
			if len(m.Sources) == 0 {
				t.Errorf("the reply to k1 has no source: %+v", m)
			}
		}
	}
	if replies != 1 {
		t.Fatalf("stored %d replies to k1, want exactly one", replies)
	}
}

// replyTo submits a turn and returns the bot's (or system's) reply to it.
func (f *fixture) replyTo(t *testing.T, turn bot.Turn) *bot.Message {
	t.Helper()
	turn.ConversationID, turn.Lang = f.conv.ID, "en"
	if err := f.bot.Submit(turn); err != nil {
		t.Fatal(err)
	}
	for {
		ev := f.next(t, bot.EventMessage)
		if ev.Message.Role != bot.RoleShopper && (ev.Message.ReplyTo == turn.ClientID || turn.ClientID == "") {
			return ev.Message
		}
	}
}

func TestGapsRecordedForUnsureThumbsDownAndHandoff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gap := func(text string) knowledge.Gap {
		t.Helper()
		gs, err := f.kb.Gaps(ctx, knowledge.GapFilter{Status: "all"})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			if g.Text == text {
				return g
			}
		}
		return knowledge.Gap{}
	}

	// No confident answer: counted as unanswered.
	unsure := f.replyTo(t, bot.Turn{ClientID: "u1", Text: "Do you sell telescopes for my phone 13812345678?"})
	if unsure.Intent != bot.IntentUnsure {
		t.Fatalf("reply intent %q, want unsure", unsure.Intent)
	}
	g := gap("do you sell telescopes for my phone [number]")
	if g.Count != 1 || g.Unanswered != 1 || g.Locale != "en" {
		t.Errorf("unsure gap = %+v, want counted once as unanswered, the number masked", g)
	}

	// A thumbs-down on an answer counts its question, with the answer's entry as the best candidate.
	answered := f.replyTo(t, bot.Turn{ClientID: "a1", Text: "How do I get an invoice?"})
	if answered.Intent != bot.IntentFAQ {
		t.Fatalf("reply intent %q, want faq", answered.Intent)
	}
	if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Feedback: &bot.Feedback{MessageID: answered.ID, Helpful: false}}); err != nil {
		t.Fatal(err)
	}
	// A thumbs-up is not a gap.
	if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Feedback: &bot.Feedback{MessageID: unsure.ID, Helpful: true}}); err != nil {
		t.Fatal(err)
	}
	// Asking for a person counts the last question, as ended in a handoff.
	f.replyTo(t, bot.Turn{ClientID: "h1", Text: "talk to a person"})
	g = gap("how do i get an invoice")
	if g.ThumbsDown != 1 || g.Handoff != 1 || g.Count != 2 || g.BestID != "invoice" {
		t.Errorf("invoice gap = %+v, want one thumbs-down and one handoff with best candidate invoice", g)
	}
	if g := gap("talk to a person"); g.Count != 0 {
		t.Errorf("the handoff request itself was counted as a gap: %+v", g)
	}
	if g := gap("do you sell telescopes for my phone [number]"); g.Count != 1 {
		t.Errorf("a thumbs-up changed a gap: %+v", g)
	}
}

// BenchmarkTurn measures one FAQ turn end to end: store the shopper's
// message (a committed SQLite transaction), search, store and publish the reply.
func BenchmarkTurn(b *testing.B) {
	f := newFixture(b)
	i := 0
	for b.Loop() {
		i++
		id := "k" + strconv.Itoa(i)
		if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Lang: "en", ClientID: id, Text: "when will I get my money back"}); err != nil {
			b.Fatal(err)
		}
		for {
			ev := f.next(b, bot.EventMessage)
			if ev.Message.ReplyTo == id {
				break
			}
		}
	}
}
