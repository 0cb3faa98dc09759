package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// dialAgent opens /ws/agent with the client's session cookie (none for a
// client without a jar) and the given Origin ("" for none).
func (sc *staffClient) dialAgent(origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if sc.c.Jar != nil {
		u, _ := url.Parse(sc.base)
		for _, c := range sc.c.Jar.Cookies(u) {
			h.Add("Cookie", c.Name+"="+c.Value)
		}
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, EnableCompression: true}
	ws, resp, err := d.Dial("ws"+strings.TrimPrefix(sc.base, "http")+"/ws/agent", h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return ws, resp, err
}

// openAgent opens an agent socket from the console's own origin and reads hello.
func (sc *staffClient) openAgent(t *testing.T) (*websocket.Conn, agentFrame) {
	t.Helper()
	ws, resp, err := sc.dialAgent(sc.base)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial /ws/agent: %v (status %d)", err, status)
	}
	t.Cleanup(func() { ws.Close() })
	hello := nextFrame(t, ws)
	if hello.Type != "hello" {
		t.Fatalf("first frame %s, want hello", hello.raw)
	}
	return ws, hello
}

// agentFrame is any frame of the agent socket.
type agentFrame struct {
	Type         string         `json:"type"`
	Conversation string         `json:"conversation"`
	Agent        *handoff.Agent `json:"agent"`
	Role         string         `json:"role"`
	Text         string         `json:"text"`
	Seq          int64          `json:"seq"`
	Code         string         `json:"code"`
	Sources      []bot.Source   `json:"sources"`
	raw          string
}

func nextFrame(t *testing.T, ws *websocket.Conn) agentFrame {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read a frame: %v", err)
	}
	var f agentFrame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %s: %v", data, err)
	}
	f.raw = string(data)
	return f
}

// nextOf returns the next frame of one of the types, skipping board
// notices, which the desk sends whenever the queue changes; it fails on
// any other frame.
func nextOf(t *testing.T, ws *websocket.Conn, types ...string) agentFrame {
	t.Helper()
	for {
		f := nextFrame(t, ws)
		for _, typ := range types {
			if f.Type == typ {
				return f
			}
		}
		if f.Type != "board" {
			t.Fatalf("got %s, want a frame of type %v", f.raw, types)
		}
	}
}

// waitClose reads until the socket closes and returns the close code.
func waitClose(t *testing.T, ws *websocket.Conn, within time.Duration) int {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(within))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("the socket did not close with a code within %s: %v", within, err)
	}
}

func TestAgentSocketHandshake(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	agent := e.login(t, "agnes")
	host := strings.TrimPrefix(e.hs.URL, "http://")
	for _, origin := range []string{"https://evil.example", "http://" + host + ".evil.com", "https://" + host, "null"} {
		ws, resp, err := agent.dialAgent(origin)
		if err == nil {
			ws.Close()
			t.Errorf("Origin %s: the socket opened", origin)
			continue
		}
		if resp == nil || resp.StatusCode != 403 {
			t.Errorf("Origin %s: %v, want 403", origin, resp)
		}
	}
	anon := &staffClient{t: t, base: e.hs.URL, c: http.DefaultClient}
	if _, resp, err := anon.dialAgent(e.hs.URL); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("without a session: %v, want 401", resp)
	}
	editor := e.login(t, "alice")
	if _, resp, err := editor.dialAgent(e.hs.URL); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("as an editor: %v, want 403", resp)
	}
	// From the console's own origin the handshake succeeds, uncompressed
	// even when the client offers compression.
	ws, resp, err := agent.dialAgent(e.hs.URL)
	if err != nil {
		t.Fatalf("from the console's origin: %v", err)
	}
	ws.Close()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Errorf("the handshake negotiated %q, want no compression", ext)
	}
}

func TestAgentSocketClosesAtLogout(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	agent := e.login(t, "agnes")
	ws, hello := agent.openAgent(t)
	if hello.Agent == nil || hello.Agent.ID != e.users["agnes"].ID || !hello.Agent.Connected {
		t.Errorf("hello = %s, want agnes, connected", hello.raw)
	}
	if st := agent.do("POST", "/api/v1/auth/logout", nil, nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	if code := waitClose(t, ws, 5*time.Second); code != websocket.ClosePolicyViolation {
		t.Errorf("closed with %d, want 1008", code)
	}
	waitFor(t, "the desk to see the console closed", func() bool {
		b, err := e.desk.Board(context.Background(), e.me("root"))
		if err != nil {
			return false
		}
		for _, a := range b.Agents {
			if a.ID == e.users["agnes"].ID {
				return !a.Connected
			}
		}
		return true
	})
}

// TestAgentSocketRevalidates: an account disabled by another process (the
// CLI), which the server is not told of, closes the socket at the next check.
func TestAgentSocketRevalidates(t *testing.T) {
	e := newConsoleEnv(t, Config{SessionRecheck: 100 * time.Millisecond})
	agent := e.login(t, "bruno")
	ws, _ := agent.openAgent(t)
	cli, err := auth.New(auth.Config{BcryptCost: 4}, e.store, e.store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	disabled := true
	if _, err := cli.UpdateUser(context.Background(), e.users["bruno"].ID, auth.UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if code := waitClose(t, ws, 5*time.Second); code != websocket.ClosePolicyViolation {
		t.Errorf("closed with %d, want 1008", code)
	}
}

func TestAgentSocketWatches(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	mine := e.assignedTo(t, "visitor-watch-1", "bruno")
	queued := e.queued(t, "visitor-watch-2", "agnes")
	bruno := e.login(t, "bruno")
	bws, _ := bruno.openAgent(t)
	waitFor(t, "bruno's socket to watch his conversation", func() bool { return e.hub.agentWatchers(mine) == 1 })

	// A shopper's message reaches the assigned agent, naming the conversation.
	e.hub.Publish(mine, bot.Event{Type: bot.EventTyping, Role: bot.RoleShopper})
	if f := nextOf(t, bws, "typing"); f.Conversation != mine || f.Role != bot.RoleShopper {
		t.Errorf("typing = %s", f.raw)
	}
	e.hub.Publish(mine, bot.Event{Type: bot.EventDelta, MessageID: "m_x", Text: "par"})
	e.hub.Publish(mine, bot.Event{Type: bot.EventAck, ClientID: "c1", Seq: 9})
	e.hub.Publish(mine, bot.Event{Type: bot.EventError, Code: "busy", Text: "busy"})
	e.hub.Publish(mine, bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_1", Seq: 10, Role: bot.RoleShopper, Text: "where is my parcel"}})
	f := nextOf(t, bws, "message")
	if f.Conversation != mine || f.Text != "where is my parcel" || f.Role != bot.RoleShopper || f.Seq != 10 || f.Sources == nil {
		t.Errorf("message = %s", f.raw)
	}
	e.hub.Publish(mine, bot.Event{Type: bot.EventHandoff, Handoff: &bot.HandoffStatus{Status: handoff.StatusAssigned}})
	if f := nextOf(t, bws, "case"); f.Conversation != mine {
		t.Errorf("case = %s", f.raw)
	}

	// The agent's own typing goes to the shopper and to the watching consoles.
	bws.WriteJSON(map[string]string{"type": "typing", "conversation": mine})
	if f := nextOf(t, bws, "typing"); f.Conversation != mine || f.Role != bot.RoleAgent {
		t.Errorf("own typing = %s", f.raw)
	}

	// Bad frames get error frames; the socket keeps working.
	for _, frame := range []string{"nope", `{"type":"dance"}`, `{"type":"watch"}`, `{"type":"presence","status":"asleep"}`, "\xff"} {
		if err := bws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		if f := nextOf(t, bws, "error"); f.Code == "" {
			t.Errorf("%q: %s", frame, f.raw)
		}
	}

	// agnes may watch the queued conversation, not bruno's.
	agnes := e.login(t, "agnes")
	aws, _ := agnes.openAgent(t)
	aws.WriteJSON(map[string]string{"type": "watch", "conversation": mine})
	if f := nextOf(t, aws, "error"); f.Code != "not_found" {
		t.Errorf("watching another agent's conversation: %s, want not_found", f.raw)
	}
	aws.WriteJSON(map[string]string{"type": "watch", "conversation": queued})
	waitFor(t, "agnes to watch the queued conversation", func() bool { return e.hub.agentWatchers(queued) == 1 })
	e.hub.Publish(queued, bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_2", Seq: 3, Role: bot.RoleShopper, Text: "anyone?"}})
	if f := nextOf(t, aws, "message"); f.Conversation != queued || f.Seq != 3 {
		t.Errorf("watched message = %s", f.raw)
	}
	if n := e.hub.agentWatchers(mine); n != 1 {
		t.Errorf("%d sockets watch bruno's conversation, want 1", n)
	}

	// An assigned notice makes the socket watch at once.
	e.hub.Notify(e.users["agnes"].ID, handoff.Notice{Kind: "assigned", ConversationID: "c_notice"})
	if f := nextOf(t, aws, "assigned"); f.Conversation != "c_notice" {
		t.Errorf("assigned = %s", f.raw)
	}
	// Seqs are per conversation: a lower seq than one seen elsewhere is
	// not taken for a duplicate.
	e.hub.Publish("c_notice", bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_3", Seq: 1, Role: bot.RoleShopper, Text: "hi"}})
	if f := nextOf(t, aws, "message"); f.Conversation != "c_notice" || f.Seq != 1 {
		t.Errorf("message after assigned = %s", f.raw)
	}
	// ... and a case notice for a conversation no longer mine drops it.
	e.hub.Notify(e.users["agnes"].ID, handoff.Notice{Kind: "case", ConversationID: "c_notice"})
	nextOf(t, aws, "case")
	waitFor(t, "the re-check to drop the conversation", func() bool { return e.hub.agentWatchers("c_notice") == 0 })

	// Notices to everyone reach every console.
	e.hub.Notify(0, handoff.Notice{Kind: "board"})
	nextOf(t, aws, "board")
	nextOf(t, bws, "board")

	// Closing the socket stops the watching.
	bws.Close()
	waitFor(t, "bruno's socket to be forgotten", func() bool { return e.hub.agentWatchers(mine) == 0 })
}

// TestHubAudiences checks the hub's fan-out without sockets: the shopper's
// typing goes to agents only, and agents get no acks, deltas or errors.
func TestHubAudiences(t *testing.T) {
	cfg := Config{}
	cfg.setDefaults()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	shopper, agent := newConn(nil, &cfg, log), newConn(nil, &cfg, log)
	shopper.goLive()
	agent.goLive()
	h := NewHub()
	h.add("c_1", shopper)
	h.watch("c_1", agent)
	recv := func(c *conn) []string {
		var out []string
		for c.queued() > 0 {
			out = append(out, string(c.pop().data))
		}
		return out
	}
	h.Publish("c_1", bot.Event{Type: bot.EventTyping, Role: bot.RoleShopper})
	if got := recv(shopper); len(got) != 0 {
		t.Errorf("the shopper's socket got %q for the shopper's own typing", got)
	}
	if got := recv(agent); len(got) != 1 || got[0] != `{"type":"typing","conversation":"c_1","role":"shopper"}` {
		t.Errorf("the agent got %q", got)
	}
	h.Publish("c_1", bot.Event{Type: bot.EventTyping, Role: bot.RoleAgent})
	if got := recv(shopper); len(got) != 1 || got[0] != `{"type":"typing","role":"agent"}` {
		t.Errorf("the shopper got %q for the agent's typing", got)
	}
	recv(agent)
	for _, ev := range []bot.Event{
		{Type: bot.EventAck, ClientID: "x", Seq: 1},
		{Type: bot.EventDelta, MessageID: "m", Text: "a"},
		{Type: bot.EventError, Code: "busy"},
	} {
		h.Publish("c_1", ev)
		if got := recv(agent); len(got) != 0 {
			t.Errorf("%s reached the agent: %q", ev.Type, got)
		}
		if got := recv(shopper); len(got) != 1 {
			t.Errorf("%s reached the shopper %d times", ev.Type, len(got))
		}
	}
	h.Publish("c_1", bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_1", Seq: 5, Role: bot.RoleBot, Text: "hi"}})
	got := recv(agent)
	if len(got) != 1 || !strings.HasPrefix(got[0], `{"type":"message","conversation":"c_1","id":"m_1","seq":5,"role":"bot","text":"hi",`) ||
		!strings.Contains(got[0], `"sources":[],"cards":[],"suggestions":[]`) {
		t.Errorf("the agent got %q", got)
	}
	if got := recv(shopper); len(got) != 1 || strings.Contains(got[0], "conversation") {
		t.Errorf("the shopper got %q", got)
	}
}

func TestAgentSocketShutdown(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	ws, _ := e.login(t, "agnes").openAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if code := waitClose(t, ws, 5*time.Second); code != websocket.CloseGoingAway {
		t.Errorf("closed with %d, want 1001", code)
	}
}

// TestAgentSocketLimitsFrames: a console socket flooding watch frames gets
// rate_limited errors once over agentFramesPerMinute, each frame answered,
// and the socket keeps working for what the limit does not cover.
func TestAgentSocketLimitsFrames(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	mine := e.assignedTo(t, "visitor-flood-1", "bruno")
	bruno := e.login(t, "bruno")
	bws, _ := bruno.openAgent(t)
	waitFor(t, "bruno's socket to watch his conversation", func() bool { return e.hub.agentWatchers(mine) == 1 })
	const extra = 5
	for i := 0; i < agentFramesPerMinute+extra; i++ {
		// Another agent's or an unknown conversation: each is answered with
		// an error, not_found while within the limit.
		if err := bws.WriteJSON(map[string]string{"type": "watch", "conversation": fmt.Sprintf("c_nope_%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	limited := 0
	for i := 0; i < agentFramesPerMinute+extra; i++ {
		f := nextOf(t, bws, "error")
		switch f.Code {
		case "rate_limited":
			limited++
		case "not_found":
		default:
			t.Fatalf("frame %d: %s", i, f.raw)
		}
	}
	if limited != extra {
		t.Errorf("%d watch frames were rate limited, want %d", limited, extra)
	}
	// Typing is not counted: it still reaches the watchers.
	bws.WriteJSON(map[string]string{"type": "typing", "conversation": mine})
	if f := nextOf(t, bws, "typing"); f.Conversation != mine {
		t.Errorf("typing after the flood = %s", f.raw)
	}
}
