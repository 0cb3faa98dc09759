package chatclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// scripted serves a socket that greets, acks every message and replies
// "re: <text>", or refuses the handshake with 401 when the token is "bad".
func scripted(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") == "bad" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.WriteJSON(map[string]any{"type": "hello", "conversation": "c1", "last_seq": 0, "shopper": nil, "lang": r.URL.Query().Get("lang")})
		seq := 0
		for {
			var f map[string]any
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			id, _ := f["client_id"].(string)
			text, _ := f["text"].(string)
			if text == "" {
				ws.WriteJSON(map[string]any{"type": "error", "code": "empty_message", "client_id": id})
				continue
			}
			seq++
			ws.WriteJSON(map[string]any{"type": "ack", "client_id": id, "seq": seq})
			ws.WriteJSON(map[string]any{"type": "typing", "role": "bot"})
			seq++
			ws.WriteJSON(map[string]any{"type": "message", "seq": seq, "role": "bot", "text": "re: " + text, "reply_to": id,
				"sources": []map[string]string{{"id": "e1", "title": "T"}}})
		}
	}))
	t.Cleanup(s.Close)
	return "ws" + strings.TrimPrefix(s.URL, "http")
}

func TestAskWaitsForAckAndReply(t *testing.T) {
	u := scripted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, u, Options{Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Hello.Conversation != "c1" || c.Hello.Lang != "en" {
		t.Fatalf("hello = %+v", c.Hello)
	}
	ex, err := c.Ask(ctx, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Ack.Seq != 1 || ex.Reply.Text != "re: hi" || ex.Reply.Seq != 2 || len(ex.Reply.Sources) != 1 || len(ex.Frames) != 3 {
		t.Fatalf("exchange = %+v", ex)
	}
	if _, err := c.Ask(ctx, ""); !errors.Is(err, ErrFrame) {
		t.Fatalf("empty message: err = %v, want ErrFrame", err)
	}
}

func TestDialReportsRefusedHandshake(t *testing.T) {
	u := scripted(t)
	_, err := Dial(context.Background(), u, Options{Token: "bad"})
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a HandshakeError with 401", err)
	}
}
