package handoff_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// BenchmarkRequest measures a request for a person that joins a queue
// of 200 (claim routing): the case stored, ranked, estimated and the
// shopper told.
func BenchmarkRequest(b *testing.B) {
	ctx := context.Background()
	t := b
	f := newFixture(t, handoff.Config{Routing: handoff.RoutingClaim})
	a := f.agent(t, "wang", auth.RoleAgent)
	f.desk.Connect(a.ID)
	for range 200 {
		if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: f.conversation(t, "zh"), Trigger: bot.TriggerButton}); err != nil {
			b.Fatal(err)
		}
	}
	convs := make([]string, b.N)
	for i := range convs {
		convs[i] = f.conversation(t, "zh")
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: convs[i], Trigger: bot.TriggerButton}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoard measures one console's board with 200 queued cases and
// 20 agents.
func BenchmarkBoard(b *testing.B) {
	ctx := context.Background()
	t := b
	f := newFixture(t, handoff.Config{Routing: handoff.RoutingClaim})
	var me handoff.Staff
	for i := range 20 {
		me = f.agent(t, fmt.Sprintf("agent%02d", i), auth.RoleAgent)
		f.desk.Connect(me.ID)
	}
	for range 200 {
		if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: f.conversation(t, "zh"), Trigger: bot.TriggerButton}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		if board, err := f.desk.Board(ctx, me); err != nil || len(board.Queue) != 200 {
			b.Fatalf("board: %d queued, %v", len(board.Queue), err)
		}
	}
}

// BenchmarkStatus measures what every shopper message costs the desk: the
// bot asks where the conversation stands (here with 1,000 closed cases in
// the database and an agent online).
func BenchmarkStatus(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, handoff.Config{})
	a := f.agent(b, "wang", auth.RoleAgent)
	f.desk.Connect(a.ID)
	var conv string
	for range 1000 {
		conv = f.conversation(b, "zh")
		if _, err := f.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerButton}); err != nil {
			b.Fatal(err)
		}
		if _, err := f.desk.Close(ctx, a, conv, "resolved"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		if st, err := f.desk.Status(ctx, conv); err != nil || st.Status != "" || !st.Available {
			b.Fatalf("status %+v, %v", st, err)
		}
	}
}
