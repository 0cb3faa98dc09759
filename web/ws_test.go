package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// turnRecorder is a TurnSubmitter that keeps the turns it is given.
type turnRecorder struct {
	mu    sync.Mutex
	turns []bot.Turn
}

func (r *turnRecorder) Submit(t bot.Turn) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.turns = append(r.turns, t)
	return nil
}

func (r *turnRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.turns)
}

type noSearch struct{}

func (noSearch) Search(context.Context, string, knowledge.SearchOptions) (knowledge.Result, error) {
	return knowledge.Result{}, nil
}

// newTestServer serves a web.Server over a real SQLite store, with a
// recorder in place of the bot.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server, *turnRecorder, *sqlite.Store) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	signer, err := shoptoken.NewSigner([]byte("0123456789abcdef0123"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &turnRecorder{}
	srv := NewServer(cfg, Deps{Chat: store, Shoppers: store, Bot: rec, KB: noSearch{}, Hub: NewHub(), Tokens: signer,
		Ready: store.Ping}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Shutdown(context.Background())
	})
	return srv, hs, rec, store
}

func wsURL(hs *httptest.Server) string { return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws/chat" }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSlowConsumerIsDisconnectedWithoutBlockingOthers(t *testing.T) {
	// The write deadline is generous so that the reading client, on a
	// loaded machine under the race detector, is never the one that falls
	// behind: the slow client is dropped by its full queue, not by time.
	srv, hs, _, _ := newTestServer(t, Config{SendQueue: 16, WriteWait: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := chatclient.Options{Visitor: "visitor-slow-1"}
	slow, err := chatclient.Dial(ctx, wsURL(hs), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	conv := slow.Hello.Conversation
	opts.Conversation = conv
	reader, err := chatclient.Dial(ctx, wsURL(hs), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	waitFor(t, "both sockets to watch the conversation", func() bool { return srv.deps.Hub.watchers(conv) == 2 })

	// The reader keeps up with every message; the slow client never reads.
	// The publisher waits for the reader to follow (so only a client that
	// does not read can fall behind), but never for the slow client.
	progress := make(chan int64, 1000)
	go func() {
		defer close(progress)
		for {
			f, err := reader.Next(ctx)
			if err != nil {
				return
			}
			if f.Type == "message" {
				progress <- f.Seq
			}
		}
	}()
	big := strings.Repeat("x", 32<<10) // 32 MiB in all: more than loopback socket buffers hold
	var seen int64
	for i := int64(1); i <= 1000; i++ {
		srv.deps.Hub.Publish(conv, bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m", Seq: i, Role: bot.RoleBot, Text: big}})
		for seen < i-4 {
			s, ok := <-progress
			if !ok {
				t.Fatalf("the reading client was cut off at seq %d", seen)
			}
			seen = s
		}
	}
	for seen < 1000 {
		s, ok := <-progress
		if !ok {
			t.Fatalf("the reading client was cut off at seq %d", seen)
		}
		seen = s
	}
	waitFor(t, "the slow client to be dropped", func() bool { return srv.deps.Hub.watchers(conv) == 1 })
}

func TestRateLimitRefusesTheExcess(t *testing.T) {
	_, hs, rec, _ := newTestServer(t, Config{MessagesPerMinute: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	limited := 0
	for i := range 12 {
		if err := c.Send("rl-"+string(rune('a'+i)), "hello"); err != nil {
			t.Fatal(err)
		}
	}
	// 10 fit in the minute: the other 2 are refused.
	for limited < 2 {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("after %d rate_limited errors: %v", limited, err)
		}
		if f.Type == "error" && f.Code == "rate_limited" {
			limited++
		}
	}
	if n := rec.count(); n != 10 {
		t.Errorf("%d messages reached the bot, want 10", n)
	}
}

func TestShutdownClosesSockets(t *testing.T) {
	srv, hs, _, _ := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := c.Next(ctx); err == nil || !strings.Contains(err.Error(), "1001") {
		t.Errorf("after shutdown the client read %v, want close 1001", err)
	}
	if _, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{}); err == nil {
		t.Error("a socket opened after shutdown")
	}
}

func TestMessageFramesAlwaysCarryArrays(t *testing.T) {
	f := messageOut(bot.Message{ID: "m_1", Seq: 3, Role: bot.RoleBot, Text: "hi"})
	var got map[string]any
	if err := json.Unmarshal(f.data, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sources", "cards", "suggestions"} {
		if v, ok := got[k].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %#v, want []", k, got[k])
		}
	}
	if got["type"] != "message" || got["seq"] != 3.0 || got["text"] != "hi" || f.seq != 3 {
		t.Errorf("frame = %s", f.data)
	}
	f = messageOut(bot.Message{ID: "m_2", Seq: 4, Sources: []bot.Source{{ID: "a", Title: "A"}}})
	if !strings.Contains(string(f.data), `"sources":[{"id":"a","title":"A"}]`) {
		t.Errorf("frame = %s", f.data)
	}
}

func TestReturnFrames(t *testing.T) {
	srv, hs, rec, _ := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token, err := srv.deps.Tokens.Sign("shopper-ret-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	shopper, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer shopper.Close()
	visitor, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer visitor.Close()

	tests := []struct {
		name  string
		c     *chatclient.Client
		frame map[string]any
		code  string // the error frame expected, or "" for a turn
		want  bot.ReturnAction
	}{
		{"no proposal_id", shopper, map[string]any{"type": "return_confirm"}, "invalid_return", bot.ReturnAction{}},
		{"a proposal_id with a slash", shopper, map[string]any{"type": "return_confirm", "proposal_id": "rp_1/../2"}, "invalid_return", bot.ReturnAction{}},
		{"a proposal_id too long", shopper, map[string]any{"type": "return_cancel", "proposal_id": strings.Repeat("a", 65)}, "invalid_return", bot.ReturnAction{}},
		{"a number", shopper, map[string]any{"type": "return_confirm", "proposal_id": 12}, "bad_json", bot.ReturnAction{}},
		{"a visitor", visitor, map[string]any{"type": "return_confirm", "proposal_id": "rp_abc"}, "login_required", bot.ReturnAction{}},
		{"confirm", shopper, map[string]any{"type": "return_confirm", "proposal_id": "rp_0123abcd"}, "", bot.ReturnAction{ProposalID: "rp_0123abcd", Confirm: true}},
		{"cancel", shopper, map[string]any{"type": "return_cancel", "proposal_id": "rp_0123abcd"}, "", bot.ReturnAction{ProposalID: "rp_0123abcd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rec.count()
			if err := tt.c.SendFrame(tt.frame); err != nil {
				t.Fatal(err)
			}
			if tt.code != "" {
				f, err := tt.c.Next(ctx)
				if err != nil || f.Type != "error" || f.Code != tt.code || f.Message == "" {
					t.Fatalf("got %+v (%v), want error %s", f, err, tt.code)
				}
				// The socket keeps working: a message still reaches the bot.
				if err := tt.c.Send(chatclient.NewClientID(), "hello"); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the next message to reach the bot", func() bool { return rec.count() == before+1 })
				return
			}
			waitFor(t, "the return action to reach the bot", func() bool { return rec.count() == before+1 })
			rec.mu.Lock()
			turn := rec.turns[len(rec.turns)-1]
			rec.mu.Unlock()
			if turn.Return == nil || *turn.Return != tt.want || turn.Shopper == nil || turn.Shopper.ID != "shopper-ret-1" ||
				turn.ConversationID != shopper.Hello.Conversation || turn.Text != "" {
				t.Errorf("turn = %+v (return %+v), want %+v for the shopper's conversation", turn, turn.Return, tt.want)
			}
		})
	}
}
