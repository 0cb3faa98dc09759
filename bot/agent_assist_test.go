package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
)

// TestAgentAssistMasksAndRestores: the summary and the draft an agent gets
// are written from a masked transcript; the draft, which the agent sends to
// the shopper, gets the shopper's own data back.
func TestAgentAssistMasksAndRestores(t *testing.T) {
	f := newModelFixture(t, func(r *llmtest.Received) llmtest.Reply {
		if strings.Contains(r.Messages[0].Content, "summary") {
			return llmtest.Reply{Text: "The shopper wants a refund; call back on [PHONE_1]."}
		}
		return llmtest.Reply{Text: "We will call you on [PHONE_1] today."}
	}, bot.LLMConfig{})
	ctx := context.Background()
	if _, _, err := f.store.AppendMessage(ctx, bot.Message{ConversationID: f.conv.ID, Role: bot.RoleShopper,
		Text: "refund please, call me on 13812345678", ClientID: "k1"}); err != nil {
		t.Fatal(err)
	}
	sum, err := f.bot.SummarizeForAgent(ctx, f.conv.ID, "en")
	if err != nil || !strings.Contains(sum, "refund") || strings.Contains(sum, "13812345678") {
		t.Fatalf("summary %q (%v): want the model's words, the number still masked", sum, err)
	}
	draft, err := f.bot.DraftReply(ctx, f.conv.ID, "en", []bot.Reference{{Title: "Refunds", Answer: "Within 7 days."}})
	if err != nil || draft != "We will call you on 13812345678 today." {
		t.Fatalf("draft %q (%v): want the number restored", draft, err)
	}
	for _, r := range f.model.Requests() {
		if strings.Contains(string(r.Raw), "13812345678") {
			t.Fatalf("the model saw the phone number: %s", r.Raw)
		}
	}
	plain := newFixture(t)
	if _, err := plain.bot.SummarizeForAgent(ctx, plain.conv.ID, "en"); !errors.Is(err, bot.ErrNoModel) {
		t.Errorf("without a model: %v, want ErrNoModel", err)
	}
}
