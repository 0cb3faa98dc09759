package handoff_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// storeStatus is what the store says about a conversation: its open case's
// status, or "" when it has none.
func storeStatus(t *testing.T, f *fixture, conv string) string {
	t.Helper()
	c, err := f.store.OpenCaseOf(context.Background(), conv)
	if errors.Is(err, handoff.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

// TestStatusFollowsEveryChange walks conversations through every change
// of a case the desk makes (open, ticket, queue, assign, send back, close,
// missed request, erasure, a restart with a case open) and checks after
// each that Status, which answers a conversation with the bot from memory,
// says exactly what the store says.
func TestStatusFollowsEveryChange(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := "one node"
		if shared {
			name = "shared store"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, handoff.Config{Routing: handoff.RoutingClaim, SharedStore: shared})
			a, b := f.conversation(t, "zh"), f.conversation(t, "en")
			check := func(step, conv, want string) {
				t.Helper()
				if got := storeStatus(t, f, conv); got != want {
					t.Fatalf("%s: the store says %q, want %q", step, got, want)
				}
				st, err := f.desk.Status(ctx, conv)
				if err != nil || st.Status != want {
					t.Fatalf("%s: Status = %+v, %v; the store says %q", step, st, err, want)
				}
			}
			check("with the bot", a, "")

			// Nobody there: a missed request is stored closed, then a
			// message left makes a ticket.
			if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: a, Trigger: bot.TriggerButton}); err != nil {
				t.Fatal(err)
			}
			check("missed request", a, "")
			if _, err := f.desk.LeaveMessage(ctx, a, bot.LeftMessage{Text: "call me", ContactVia: "chat"}); err != nil {
				t.Fatal(err)
			}
			check("ticket", a, handoff.StatusTicket)

			// An agent arrives: a new request queues; the ticket queues on
			// the shopper's next request.
			wang := f.agent(t, "wang", auth.RoleAgent)
			f.desk.Connect(wang.ID)
			if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: b, Trigger: bot.TriggerButton}); err != nil {
				t.Fatal(err)
			}
			check("queued", b, handoff.StatusQueued)
			if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: a, Trigger: bot.TriggerButton}); err != nil {
				t.Fatal(err)
			}
			check("ticket back in the queue", a, handoff.StatusQueued)

			if _, err := f.desk.Claim(ctx, wang, b); err != nil {
				t.Fatal(err)
			}
			check("assigned", b, handoff.StatusAssigned)
			if _, err := f.desk.Transfer(ctx, wang, b, 0); err != nil {
				t.Fatal(err)
			}
			check("sent back to the queue", b, handoff.StatusQueued)
			if _, err := f.desk.Claim(ctx, wang, b); err != nil {
				t.Fatal(err)
			}
			if _, err := f.desk.Close(ctx, wang, b, "resolved"); err != nil {
				t.Fatal(err)
			}
			check("closed", b, "")
			if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: b, Trigger: bot.TriggerButton}); err != nil {
				t.Fatal(err)
			}
			check("asks again after the close", b, handoff.StatusQueued)

			// A restart: a new desk on the same store finds the open cases.
			f.desk = handoff.NewDesk(handoff.Config{Routing: handoff.RoutingClaim, SharedStore: shared, Now: func() time.Time { return f.now }},
				handoff.Deps{Store: f.store, Publish: f.pub, Notify: f.pub}, slog.New(slog.DiscardHandler))
			check("after a restart", a, handoff.StatusQueued)
			check("after a restart", b, handoff.StatusQueued)
			c := f.conversation(t, "zh")
			check("new conversation after a restart", c, "")
			f.desk.Connect(wang.ID)

			// The shopper's "delete my data" deletes the conversation
			// with its open case; the desk is told to forget it.
			if err := f.store.PutShopper(ctx, bot.Shopper{ID: "s1", Name: "Lin"}); err != nil {
				t.Fatal(err)
			}
			conv, err := f.store.OpenConversation(ctx, "s:s1", "s1", "", "zh")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv.ID, Trigger: bot.TriggerButton}); err != nil {
				t.Fatal(err)
			}
			check("shopper queued", conv.ID, handoff.StatusQueued)
			e, err := f.store.EraseShopper(ctx, "s1", "")
			if err != nil {
				t.Fatal(err)
			}
			check("erased, before the desk is told", conv.ID, "")
			if err := f.desk.Forget(ctx, e.Conversations); err != nil {
				t.Fatal(err)
			}
			check("erased", conv.ID, "")
			check("others stay", a, handoff.StatusQueued)
		})
	}
}

// TestSharedStoreSeesOtherWriters: with SharedStore, a case another node
// opened in the same store is seen at once.
func TestSharedStoreSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, handoff.Config{SharedStore: true})
	conv := f.conversation(t, "zh")
	if st, err := f.desk.Status(ctx, conv); err != nil || st.Status != "" {
		t.Fatalf("status %+v, %v; want with the bot", st, err)
	}
	// Another node's desk on the same store.
	other := handoff.NewDesk(handoff.Config{SharedStore: true, Now: func() time.Time { return f.now }}, handoff.Deps{Store: f.store, Publish: f.pub, Notify: f.pub}, slog.New(slog.DiscardHandler))
	wang := f.agent(t, "wang", auth.RoleAgent)
	other.Connect(wang.ID)
	if _, err := other.Request(ctx, bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerButton}); err != nil {
		t.Fatal(err)
	}
	want := storeStatus(t, f, conv)
	if st, err := f.desk.Status(ctx, conv); err != nil || st.Status != want || want == "" {
		t.Errorf("status %+v, %v; the store says %q", st, err, want)
	}
}
