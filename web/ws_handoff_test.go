package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

func TestLeaveMessageFrames(t *testing.T) {
	_, hs, rec, _ := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	leave := func(cid, text, via, contact string) map[string]any {
		f := map[string]any{"type": "leave_message", "text": text}
		if cid != "" {
			f["client_id"] = cid
		}
		if via != "" {
			f["contact_via"] = via
		}
		if contact != "" {
			f["contact"] = contact
		}
		return f
	}
	tests := []struct {
		name  string
		frame map[string]any
		code  string // the error frame expected, or "" for a turn
		want  bot.LeftMessage
	}{
		{"no client_id", leave("", "hello", "", ""), "invalid_message", bot.LeftMessage{}},
		{"blank text", leave("lm-1", " \n ", "", ""), "invalid_message", bot.LeftMessage{}},
		{"too long", leave("lm-2", strings.Repeat("长", 2001), "", ""), "too_long", bot.LeftMessage{}},
		{"unknown contact_via", leave("lm-3", "hello", "fax", "12345"), "invalid_contact", bot.LeftMessage{}},
		{"e-mail without an address", leave("lm-4", "hello", "email", ""), "invalid_contact", bot.LeftMessage{}},
		{"e-mail not an address", leave("lm-5", "hello", "email", "someone at example"), "invalid_contact", bot.LeftMessage{}},
		{"e-mail too long", leave("lm-6", "hello", "email", strings.Repeat("a", 190)+"@example.com"), "invalid_contact", bot.LeftMessage{}},
		{"phone with letters", leave("lm-7", "hello", "phone", "138 abcd 0000"), "invalid_contact", bot.LeftMessage{}},
		{"phone too short", leave("lm-8", "hello", "phone", "1234"), "invalid_contact", bot.LeftMessage{}},
		{"phone too long", leave("lm-9", "hello", "phone", "123456789012345678901"), "invalid_contact", bot.LeftMessage{}},
		{"phone without digits enough", leave("lm-10", "hello", "phone", "+1 - - 2"), "invalid_contact", bot.LeftMessage{}},
		{"default is chat", leave("lm-11", "  请回电  ", "", ""), "", bot.LeftMessage{Text: "请回电", ContactVia: "chat"}},
		{"chat drops the contact", leave("lm-12", "hello", "chat", "me@example.com"), "", bot.LeftMessage{Text: "hello", ContactVia: "chat"}},
		{"e-mail", leave("lm-13", "hello", "email", " me@example.com "), "", bot.LeftMessage{Text: "hello", ContactVia: "email", Contact: "me@example.com"}},
		{"phone", leave("lm-14", "hello", "phone", "+86 138-0013-8000"), "", bot.LeftMessage{Text: "hello", ContactVia: "phone", Contact: "+86 138-0013-8000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rec.count()
			if err := c.SendFrame(tt.frame); err != nil {
				t.Fatal(err)
			}
			if tt.code != "" {
				f, err := c.Next(ctx)
				if err != nil || f.Type != "error" || f.Code != tt.code || f.Message == "" {
					t.Fatalf("got %+v (%v), want error %s", f, err, tt.code)
				}
				if cid, _ := tt.frame["client_id"].(string); f.ClientID != cid {
					t.Errorf("error client_id = %q, want %q", f.ClientID, cid)
				}
				// The socket keeps working: a message still reaches the bot.
				if err := c.Send(chatclient.NewClientID(), "hello"); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the next message to reach the bot", func() bool { return rec.count() == before+1 })
				return
			}
			waitFor(t, "the left message to reach the bot", func() bool { return rec.count() == before+1 })
			rec.mu.Lock()
			turn := rec.turns[len(rec.turns)-1]
			rec.mu.Unlock()
			if turn.Leave == nil || *turn.Leave != tt.want || turn.ClientID != tt.frame["client_id"] ||
				turn.Text != tt.want.Text || turn.ConversationID != c.Hello.Conversation || turn.Lang == "" {
				t.Errorf("turn = %+v (leave %+v), want %+v with the frame's client_id", turn, turn.Leave, tt.want)
			}
		})
	}
}

func TestLeaveMessageCountsAgainstTheRateLimit(t *testing.T) {
	_, hs, rec, _ := newTestServer(t, Config{MessagesPerMinute: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cid := range []string{"rl-1", "rl-2", "rl-3"} {
		if err := c.SendFrame(map[string]any{"type": "leave_message", "client_id": cid, "text": "call me"}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := c.Next(ctx)
	if err != nil || f.Type != "error" || f.Code != "rate_limited" || f.ClientID != "rl-3" {
		t.Fatalf("got %+v (%v), want rate_limited for rl-3", f, err)
	}
	if n := rec.count(); n != 2 {
		t.Errorf("%d left messages reached the bot, want 2", n)
	}
}

func TestShopperTypingReachesAgentsOnlyAndIsNotRateLimited(t *testing.T) {
	srv, hs, rec, _ := newTestServer(t, Config{MessagesPerMinute: 5})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := chatclient.Options{Visitor: "visitor-typing-1"}
	a, err := chatclient.Dial(ctx, wsURL(hs), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	conv := a.Hello.Conversation
	opts.Conversation = conv
	b, err := chatclient.Dial(ctx, wsURL(hs), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitFor(t, "both sockets to watch the conversation", func() bool { return srv.deps.Hub.watchers(conv) == 2 })
	// An agent's socket watching the conversation (its queue, unwritten).
	agent := newConn(nil, &srv.cfg, srv.log)
	agent.goLive()
	srv.deps.Hub.watch(conv, agent)
	defer srv.deps.Hub.unwatch(conv, agent)

	start := time.Now()
	for range 50 {
		if err := a.SendFrame(map[string]any{"type": "typing"}); err != nil {
			t.Fatal(err)
		}
	}
	// A message after the typing frames reaches the bot: typing is not
	// counted against the 5 messages a minute, and got no error frame.
	if err := a.Send("after-typing", "hello"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message to reach the bot", func() bool { return rec.count() == 1 })
	elapsed := time.Since(start)
	// The first frame either socket reads is what is published next, not
	// the shopper's typing nor an error.
	srv.deps.Hub.Publish(conv, bot.Event{Type: bot.EventTyping, Role: bot.RoleBot})
	for _, c := range []*chatclient.Client{a, b} {
		f, err := c.Next(ctx)
		if err != nil || f.Type != "typing" || string(f.Raw) != `{"type":"typing","role":"bot"}` {
			t.Errorf("read %s (%v), want the bot's typing", f.Raw, err)
		}
	}
	// The agent got the shopper's typing once a second: once, unless the
	// machine took over a second to read the 50 frames.
	forwarded := 0
	for agent.queued() > 0 {
		if f := agent.pop(); strings.Contains(string(f.data), `"role":"shopper"`) {
			forwarded++
		}
	}
	if most := 1 + int(elapsed/time.Second); forwarded < 1 || forwarded > most {
		t.Errorf("the agent got the shopper's typing %d times in %v, want 1 to %d", forwarded, elapsed, most)
	}
}

func TestShopperTypingIsForwardedOnceASecond(t *testing.T) {
	srv := NewServer(Config{}, Deps{Hub: NewHub()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	k := &chatSocket{srv: srv, conv: bot.Conversation{ID: "c_1"}}
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Duration
		sent time.Duration // when the last forwarded event was sent
	}{
		{0, 0},
		{300 * time.Millisecond, 0},
		{999 * time.Millisecond, 0},
		{time.Second, time.Second},
		{1500 * time.Millisecond, time.Second},
		{2100 * time.Millisecond, 2100 * time.Millisecond},
	}
	for _, s := range steps {
		k.onTyping(t0.Add(s.at))
		if got := k.lastTyping.Sub(t0); got != s.sent {
			t.Errorf("typing at +%v: last forwarded at +%v, want +%v", s.at, got, s.sent)
		}
	}
}

func TestHelloPrechat(t *testing.T) {
	for _, on := range []bool{false, true} {
		_, hs, _, _ := newTestServer(t, Config{Prechat: on})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		var hello map[string]any
		if err := json.Unmarshal(c.Hello.Raw, &hello); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if v, ok := hello["prechat"]; on && v != true || !on && ok {
			t.Errorf("Prechat %v: hello = %s", on, c.Hello.Raw)
		}
	}
}

func TestHandoffFrameEncoding(t *testing.T) {
	tests := []struct {
		st   bot.HandoffStatus
		want string
	}{
		{bot.HandoffStatus{Status: "queued", Position: 3, ETASeconds: 240, Text: "排队中"},
			`{"type":"handoff","status":"queued","position":3,"eta_seconds":240}`},
		{bot.HandoffStatus{Status: "queued", Position: 1},
			`{"type":"handoff","status":"queued","position":1}`},
		{bot.HandoffStatus{Status: "assigned", Agent: "王芳"},
			`{"type":"handoff","status":"assigned","position":0,"agent":"王芳"}`},
		{bot.HandoffStatus{Status: "ticket"}, `{"type":"handoff","status":"ticket","position":0}`},
		{bot.HandoffStatus{Status: "closed"}, `{"type":"handoff","status":"closed","position":0}`},
		{bot.HandoffStatus{Status: "offline"}, `{"type":"handoff","status":"offline","position":0}`},
	}
	for _, tt := range tests {
		st := tt.st
		f, ok := encodeEvent(bot.Event{Type: bot.EventHandoff, Handoff: &st})
		if !ok || string(f.data) != tt.want || f.ephemeral || f.seq != 0 {
			t.Errorf("handoff %+v = %s (ok %v, ephemeral %v), want %s", tt.st, f.data, ok, f.ephemeral, tt.want)
		}
	}
	f := handoffOut(bot.HandoffStatus{Status: "assigned", Agent: "Amy"}, true)
	if want := `{"type":"handoff","status":"assigned","position":0,"agent":"Amy","resumed":true}`; string(f.data) != want {
		t.Errorf("resumed frame = %s, want %s", f.data, want)
	}
	if _, ok := encodeEvent(bot.Event{Type: bot.EventHandoff}); ok {
		t.Error("a handoff event without a status encoded a frame")
	}

	if f, ok := encodeEvent(bot.Event{Type: bot.EventTyping, Role: bot.RoleShopper}); ok {
		t.Errorf("the shopper's typing encoded %s for shopper sockets", f.data)
	}
	for _, role := range []string{bot.RoleBot, bot.RoleAgent} {
		f, ok := encodeEvent(bot.Event{Type: bot.EventTyping, Role: role})
		if want := `{"type":"typing","role":"` + role + `"}`; !ok || string(f.data) != want || !f.ephemeral {
			t.Errorf("%s typing = %s (ok %v, ephemeral %v), want %s", role, f.data, ok, f.ephemeral, want)
		}
	}
}

// failingCases is a handoff store whose case queries fail; any other call
// panics (the embedded interface is nil), which a status query must not make.
type failingCases struct{ handoff.Store }

var errDiskOnFire = errors.New("disk on fire")

func (failingCases) OpenCaseOf(context.Context, string) (handoff.Case, error) {
	return handoff.Case{}, errDiskOnFire
}

func (failingCases) LastCaseOf(context.Context, string) (handoff.Case, error) {
	return handoff.Case{}, errDiskOnFire
}

func (failingCases) Cases(context.Context, ...string) ([]handoff.Case, error) {
	return nil, errDiskOnFire
}

// A desk that cannot say where a conversation stands costs the socket
// nothing: hello, the replay and live frames go on, with no handoff frame.
func TestResumeSurvivesAFailingDesk(t *testing.T) {
	srv, hs, rec, store := newTestServer(t, Config{})
	srv.deps.Desk = handoff.NewDesk(handoff.Config{}, handoff.Deps{Store: failingCases{}, Publish: srv.deps.Hub}, srv.log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: "visitor-resume-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conv := c.Hello.Conversation
	if _, _, err := store.AppendMessage(ctx, bot.Message{ConversationID: conv, Role: bot.RoleBot, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: "visitor-resume-1", Conversation: conv})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, err := c.Next(ctx)
	if err != nil || f.Type != "message" || f.Text != "hi" {
		t.Fatalf("after hello read %s (%v), want the replayed message", f.Raw, err)
	}
	srv.deps.Hub.Publish(conv, bot.Event{Type: bot.EventTyping, Role: bot.RoleBot})
	if f, err := c.Next(ctx); err != nil || f.Type != "typing" {
		t.Fatalf("after the replay read %s (%v), want the live typing frame", f.Raw, err)
	}
	if err := c.Send("after-resume", "hello"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message to reach the bot", func() bool { return rec.count() == 1 })
}

// After a reconnect's replay, a conversation with an open case gets one
// handoff frame marked resumed, after the stored messages and before any
// live frame; a conversation with the bot gets none.
func TestResumedHandoff(t *testing.T) {
	srv, hs, _, store := newTestServer(t, Config{})
	srv.deps.Desk = handoff.NewDesk(handoff.Config{}, handoff.Deps{Store: store, Publish: srv.deps.Hub}, srv.log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	dial := func(visitor, conv string) *chatclient.Client {
		t.Helper()
		c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: visitor, Conversation: conv})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// next reads frames up to the live typing frame published after the
	// socket is watching, which marks the end of what the reconnect sent.
	next := func(c *chatclient.Client) []chatclient.Frame {
		t.Helper()
		conv := c.Hello.Conversation
		waitFor(t, "the socket to watch", func() bool { return srv.deps.Hub.watchers(conv) == 1 })
		srv.deps.Hub.Publish(conv, bot.Event{Type: bot.EventTyping, Role: bot.RoleBot})
		var got []chatclient.Frame
		for {
			f, err := c.Next(ctx)
			if err != nil {
				t.Fatalf("after %d frames: %v", len(got), err)
			}
			if f.Type == "typing" {
				return got
			}
			got = append(got, f)
		}
	}

	ticket := dial("visitor-ticket-1", "")
	conv := ticket.Hello.Conversation
	if _, err := srv.deps.Desk.LeaveMessage(ctx, conv, bot.LeftMessage{Text: "请回电", ContactVia: "phone", Contact: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	ticket.Close()
	waitFor(t, "the first socket to go", func() bool { return srv.deps.Hub.watchers(conv) == 0 })
	got := next(dial("visitor-ticket-1", conv))
	if len(got) != 2 || got[0].Type != "message" || got[0].Role != bot.RoleSystem ||
		string(got[1].Raw) != `{"type":"handoff","status":"ticket","position":0,"resumed":true}` {
		t.Errorf("the reconnect sent %d frames, want the system message then the resumed ticket:", len(got))
		for _, f := range got {
			t.Logf("  %s", f.Raw)
		}
	}

	plain := dial("visitor-plain-1", "")
	if _, _, err := store.AppendMessage(ctx, bot.Message{ConversationID: plain.Hello.Conversation, Role: bot.RoleBot, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	plain.Close()
	waitFor(t, "the first socket to go", func() bool { return srv.deps.Hub.watchers(plain.Hello.Conversation) == 0 })
	got = next(dial("visitor-plain-1", plain.Hello.Conversation))
	if len(got) != 1 || got[0].Type != "message" {
		t.Errorf("a conversation with the bot got %d frames on reconnect, want only its message", len(got))
		for _, f := range got {
			t.Logf("  %s", f.Raw)
		}
	}
}
