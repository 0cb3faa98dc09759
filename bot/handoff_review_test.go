package bot_test

import (
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// TestDirectTierAnsweredWhenNobodyIsThere: a member tier in DirectTiers
// skips the bot so that a person answers. With no agent online (at night,
// outside the hours) nobody will; the bot then answers nothing at all, and
// every question of the best customers gets "no agent is online, leave a
// message", each recorded as another missed request, while any other
// shopper gets the answer.
func TestDirectTierAnsweredWhenNobodyIsThere(t *testing.T) {
	f := newFixture(t) // DirectTiers: vip; no agent connected
	vip := &bot.Shopper{ID: "vip-1", Name: "Ada", Tier: "VIP"}
	for _, id := range []string{"k1", "k2"} {
		if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Lang: "en", ClientID: id, Text: "How long does a refund take?", Shopper: vip}); err != nil {
			t.Fatal(err)
		}
	}
	// A feedback turn on a missing message answers not_found after the
	// turns before it: a barrier, since turns run in order.
	if err := f.bot.Submit(bot.Turn{ConversationID: f.conv.ID, Feedback: &bot.Feedback{MessageID: "m_none", Helpful: true}}); err != nil {
		t.Fatal(err)
	}
	var botReplies, offline int
	for {
		ev := <-f.pub.got
		if ev.Type == bot.EventMessage && ev.Message.Role == bot.RoleBot {
			botReplies++
		}
		if ev.Type == bot.EventHandoff && ev.Handoff.Status == "offline" {
			offline++
		}
		if ev.Type == bot.EventError {
			break
		}
	}
	if botReplies == 0 {
		t.Errorf("with no agent online a %s shopper's two questions got %d offline notices and no answer from the bot", vip.Tier, offline)
	}
}
