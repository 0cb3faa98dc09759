package web

// Reviewer's tests for the shopper privacy API and its effect on open chat
// sockets (issue 6). Each says what the shopper would notice.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// newReviewMeEnv is newMeEnv with the bot's turn recorder at hand.
func newReviewMeEnv(t *testing.T) (*meEnv, *turnRecorder) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	signer, err := shoptoken.NewSigner([]byte("0123456789abcdef0123"), nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := NewHub()
	rec := &turnRecorder{}
	desk := handoff.NewDesk(handoff.Config{Routing: handoff.RoutingClaim}, handoff.Deps{Store: store, Publish: hub, Notify: hub}, log)
	srv := NewServer(Config{AllowedOrigins: []string{"https://shop.example"}}, Deps{Chat: store, Shoppers: store, Bot: rec,
		KB: noSearch{}, Hub: hub, Tokens: signer, Desk: desk, Privacy: store, Ready: store.Ping}, log)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Shutdown(context.Background())
	})
	return &meEnv{hs: hs, store: store, desk: desk, signer: signer}, rec
}

func (r *turnRecorder) last() bot.Turn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.turns[len(r.turns)-1]
}

// PASSES (pins behaviour). "Delete my data" closes the shopper's open chat
// socket with 4410; reconnecting with the old conversation id and an
// `after` replays nothing of it and starts a new, empty conversation; an
// expired token and another shopper's token get nothing of the data.
func TestReviewEraseClosesTheChatAndTheOldIDStartsAfresh(t *testing.T) {
	e, _ := newReviewMeEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok := e.token(t, "alice")
	c, err := chatclient.Dial(ctx, wsURL(e.hs), chatclient.Options{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := c.Hello.Conversation
	for _, text := range []string{"my address is 1 Secret Road", "and my phone 13800001111"} {
		if _, _, err := e.store.AppendMessage(ctx, bot.Message{ConversationID: old, Role: bot.RoleShopper, Text: text}); err != nil {
			t.Fatal(err)
		}
	}

	// Bob's token and an expired token of alice's get nothing.
	if resp, b := e.do(t, "GET", "/api/v1/me/data", e.token(t, "bob"), ""); resp.StatusCode != 200 || containsAny(b, "Secret Road", old) {
		t.Errorf("bob's export: %d %s", resp.StatusCode, b)
	}
	past, err := shoptoken.NewSigner([]byte("0123456789abcdef0123"), func() time.Time { return time.Now().Add(-2 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	expired, err := past.Sign("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if resp, b := e.do(t, "GET", "/api/v1/me/data", expired, ""); resp.StatusCode != 401 || errorCode(b) != "invalid_token" {
		t.Errorf("expired token: %d %s, want 401 invalid_token", resp.StatusCode, b)
	}

	if resp, b := e.do(t, "DELETE", "/api/v1/me/data", tok, `{"confirm":true}`); resp.StatusCode != 200 {
		t.Fatalf("erase: %d %s", resp.StatusCode, b)
	}
	for {
		_, err := c.Next(ctx)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != closeErased {
			t.Fatalf("socket ended with %v, want close %d", err, closeErased)
		}
		break
	}
	again, err := chatclient.Dial(ctx, wsURL(e.hs), chatclient.Options{Token: tok, Conversation: old, After: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Hello.Conversation == old || again.Hello.LastSeq != 0 {
		t.Errorf("reconnect with the erased id: hello %+v, want a new empty conversation", again.Hello)
	}
}

func containsAny(b []byte, subs ...string) bool {
	for _, s := range subs {
		if s != "" && strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}
