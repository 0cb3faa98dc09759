package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// TestHandoffTriggers: each reason to bring a person in is recorded on the
// conversation by name, and the shopper is told why in their language.
func TestHandoffTriggers(t *testing.T) {
	for _, c := range []struct {
		name, text, trigger, said string
		shopper                   *bot.Shopper
	}{
		{name: "asked in words", text: "can I talk to a real person", trigger: bot.TriggerWords},
		{name: "asked in Chinese", text: "转人工", trigger: bot.TriggerWords},
		{name: "upset", text: "This is RIDICULOUS, the WORST service EVER!!!", trigger: bot.TriggerUpset, said: "really sorry"},
		{name: "upset in Chinese", text: "你们这服务太差了，气死我了！！", trigger: bot.TriggerUpset, said: "非常抱歉"},
		{name: "legal threat", text: "I will sue you and take you to court", trigger: "sensitive_legal", said: "needs to handle"},
		{name: "safety", text: "充电器起火了，差点烫伤孩子", trigger: "sensitive_safety", said: "人工客服为您处理"},
		{name: "payment dispute", text: "I was charged twice for one order", trigger: "sensitive_payment_dispute", said: "needs to handle"},
		{name: "data deletion", text: "please delete my personal data", trigger: "sensitive_data_deletion", said: "needs to handle"},
		{name: "member tier skips the bot", text: "where is my parcel?", trigger: bot.TriggerTier,
			shopper: &bot.Shopper{ID: "vip-1", Name: "Ada", Tier: "VIP"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if c.trigger == bot.TriggerTier {
				// Tiers skip the bot only when someone is there to take them.
				u, err := f.store.CreateUser(context.Background(), auth.User{Username: "wang", Role: auth.RoleAgent,
					PasswordHash: []byte("x"), PasswordChangedAt: time.Now()})
				if err != nil {
					t.Fatal(err)
				}
				f.desk.Connect(u.ID)
			}
			if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Lang: "en", ClientID: "k1", Text: c.text, Shopper: c.shopper}); err != nil {
				t.Fatal(err)
			}
			var said []string
			for {
				ev := f.next(t, bot.EventMessage)
				if ev.Message.Role == bot.RoleBot {
					said = append(said, ev.Message.Text)
				}
				if ev.Message.Role == bot.RoleSystem && ev.Message.Intent == bot.IntentHandoff {
					break // the desk's word on what happens next
				}
			}
			cs, err := f.store.LastCaseOf(context.Background(), f.conv.ID)
			if err != nil || cs.Trigger != c.trigger {
				t.Fatalf("case %+v (%v), want trigger %q", cs, err, c.trigger)
			}
			if c.said != "" && (len(said) != 1 || !strings.Contains(said[0], c.said)) {
				t.Errorf("the bot said %q, want one line with %q", said, c.said)
			}
			if c.said == "" && len(said) != 0 {
				t.Errorf("the bot said %q before the handoff, want nothing but the desk's word", said)
			}
		})
	}
}

func TestTwoUnsureRepliesInARowBringAPerson(t *testing.T) {
	f := newFixture(t)
	first := f.replyTo(t, bot.Turn{ClientID: "u1", Text: "do you sell telescopes"})
	if first.Intent != bot.IntentUnsure {
		t.Fatalf("first reply intent %q, want unsure", first.Intent)
	}
	if _, err := f.store.LastCaseOf(context.Background(), f.conv.ID); err == nil {
		t.Fatal("one unsure reply already asked for a person")
	}
	second := f.replyTo(t, bot.Turn{ClientID: "u2", Text: "what about microscopes for birds"})
	if second.Intent != bot.IntentHandoff || !strings.Contains(second.Text, "still can't help") {
		t.Fatalf("second reply %+v, want the bot to step aside", second)
	}
	f.next(t, bot.EventHandoff)
	if cs, err := f.store.LastCaseOf(context.Background(), f.conv.ID); err != nil || cs.Trigger != bot.TriggerUnsure {
		t.Fatalf("case %+v (%v), want trigger %s", cs, err, bot.TriggerUnsure)
	}
}

// TestBotIsSilentWhileAPersonHasTheConversation: messages to an agent are
// stored and published, never answered by the bot; after the agent closes,
// the bot answers again.
func TestBotIsSilentWhileAPersonHasTheConversation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u, err := f.store.CreateUser(ctx, auth.User{Username: "wang", DisplayName: "Wang", Role: auth.RoleAgent,
		PasswordHash: []byte("x"), PasswordChangedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	wang := handoff.Staff{ID: u.ID, Name: "Wang"}
	f.desk.Connect(wang.ID)
	if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Lang: "en", Handoff: true}); err != nil {
		t.Fatal(err)
	}
	// The shopper hears of their place in the queue, then of the agent.
	if ev := f.next(t, bot.EventHandoff); ev.Handoff.Status != handoff.StatusQueued || ev.Handoff.Position != 1 {
		t.Fatalf("handoff %+v, want queued first", ev.Handoff)
	}
	if ev := f.next(t, bot.EventHandoff); ev.Handoff.Status != handoff.StatusAssigned || ev.Handoff.Agent != "Wang" {
		t.Fatalf("handoff %+v, want assigned to Wang", ev.Handoff)
	}
	if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Lang: "en", ClientID: "h1", Text: "How do I get an invoice?"}); err != nil {
		t.Fatal(err)
	}
	// A feedback turn on a missing message answers not_found after the
	// message's turn is over: a barrier, since turns run in order.
	if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Feedback: &bot.Feedback{MessageID: "m_none", Helpful: true}}); err != nil {
		t.Fatal(err)
	}
	for {
		ev := <-f.pub.got
		if ev.Type == bot.EventMessage && ev.Message.Role == bot.RoleBot {
			t.Fatalf("the bot answered while an agent had the conversation: %q", ev.Message.Text)
		}
		if ev.Type == bot.EventTyping {
			t.Fatal("the bot showed itself typing while an agent had the conversation")
		}
		if ev.Type == bot.EventError {
			break
		}
	}
	if _, err := f.desk.Close(ctx, wang, f.conv.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	if m := f.replyTo(t, bot.Turn{ClientID: "h2", Text: "How do I get an invoice?"}); m.Intent != bot.IntentFAQ {
		t.Fatalf("after the close the bot answered %+v, want the FAQ answer", m)
	}
}
