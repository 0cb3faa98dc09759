package handoff_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// emitted is a bot.Webhooks that keeps the events as JSON.
type emitted struct {
	mu     sync.Mutex
	events []string
}

func (e *emitted) Emit(_ context.Context, eventType string, data any) error {
	b, _ := json.Marshal(data)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, eventType+" "+string(b))
	return nil
}

// TestHandoffEmitsOneEventPerCase: a new case (missed, ticket, queued) is
// one conversation.handed_off event; asking again while it is open is none.
func TestHandoffEmitsOneEventPerCase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, handoff.Config{})
	hooks := &emitted{}
	desk := handoff.NewDesk(handoff.Config{Now: func() time.Time { return f.now }},
		handoff.Deps{Store: f.store, Publish: f.pub, Notify: f.pub, Webhooks: hooks}, slog.New(slog.DiscardHandler))
	conv := f.conversation(t, "zh")
	req := bot.HandoffRequest{ConversationID: conv, Trigger: bot.TriggerWords, Lang: "zh"}
	if _, err := desk.Request(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.LeaveMessage(ctx, conv, bot.LeftMessage{Text: "请联系我", ContactVia: "chat"}); err != nil {
		t.Fatal(err)
	}
	wang := f.agent(t, "wang", auth.RoleAgent)
	desk.Connect(wang.ID)
	other := f.conversation(t, "zh")
	req.ConversationID = other
	for range 2 {
		if _, err := desk.Request(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{`"conversation_id":"` + conv + `"`, `"case_status":"missed"`, `"case_status":"ticket"`,
		`"conversation_id":"` + other + `"`, `"case_status":"queued"`}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	if len(hooks.events) != 3 {
		t.Fatalf("events %q, want 3: missed, ticket, queued (asking again adds none)", hooks.events)
	}
	all := hooks.events[0] + hooks.events[1] + hooks.events[2]
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("events %q lack %s", hooks.events, w)
		}
	}
	for _, e := range hooks.events {
		if !strings.HasPrefix(e, bot.WebhookHandoff+" ") || strings.Contains(e, "13812345678") {
			t.Errorf("event %s", e)
		}
	}
}
