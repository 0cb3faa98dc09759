package web

import (
	"io"
	"log/slog"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// After an erasure or the retention job deleted a conversation, agent
// sockets watching it get none of its events any more, and the shopper's
// socket on it is closed with 4410; other conversations are untouched.
func TestHubForgetDropsWatchers(t *testing.T) {
	cfg := Config{}
	cfg.setDefaults()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	shopper, agent, other := newConn(nil, &cfg, log), newConn(nil, &cfg, log), newConn(nil, &cfg, log)
	for _, c := range []*conn{shopper, agent, other} {
		c.goLive()
	}
	h := NewHub()
	h.add("c_1", shopper)
	h.watch("c_1", agent)
	h.watch("c_2", other)

	h.Forget([]string{"c_1"})
	h.Publish("c_1", bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_1", Seq: 1, Role: bot.RoleBot, Text: "late reply"}})
	if n := agent.queued(); n != 0 {
		t.Errorf("the agent got %d frames of the deleted conversation", n)
	}
	if n := h.agentWatchers("c_1"); n != 0 {
		t.Errorf("%d agent sockets still watch the deleted conversation", n)
	}
	shopper.mu.Lock()
	closed, code := shopper.closed, shopper.closeCode
	shopper.mu.Unlock()
	if !closed || code != closeErased {
		t.Errorf("the shopper's socket: closed %v with %d, want closed with %d", closed, code, closeErased)
	}
	h.Publish("c_2", bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_2", Seq: 1, Role: bot.RoleBot, Text: "hi"}})
	if n := other.queued(); n != 1 {
		t.Errorf("the agent on another conversation got %d frames, want 1", n)
	}
}
