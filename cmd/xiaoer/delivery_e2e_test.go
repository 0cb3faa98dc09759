package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// The delivery guarantees of docs/delivery.md, as a shopper notices them.
// The crash suite (crash_test.go, tag crash) checks the same under SIGKILL.

// TestAgentRepliesWaitForTheShopper: an agent answers while the shopper is
// away; reconnecting with conversation and after brings exactly those
// replies, in order, then the resumed handoff, and nothing seen before.
func TestAgentRepliesWaitForTheShopper(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--demo")
	wang := signIn(t, s, "wang", addAgent(t, dir, "agent", "wang"), true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c := dial(t, ctx, s.WS, chatclient.Options{Lang: "en"})
	ask(t, ctx, c, "How long does shipping take?")
	if err := c.Send(chatclient.NewClientID(), "talk to a person"); err != nil {
		t.Fatal(err)
	}
	var seen int64
	for {
		f, _ := until(t, c, func(f chatclient.Frame) bool { return f.Type == "message" || f.Type == "handoff" })
		if f.Type == "message" {
			seen = f.Seq
			continue
		}
		if f.Status == "assigned" {
			break
		}
	}
	conv, visitor := c.Hello.Conversation, c.Hello.Visitor
	c.Close()

	replies := []string{"Hello, this is Wang.", "Your parcel left the warehouse this morning."}
	for i, text := range replies {
		if code := wang.do("POST", "/api/v1/console/conversations/"+conv+"/messages",
			map[string]string{"client_id": "wang-" + string(rune('a'+i)), "text": text}, nil); code != 201 {
			t.Fatalf("agent reply %d: HTTP %d", i, code)
		}
	}

	back := dial(t, ctx, s.WS, chatclient.Options{Visitor: visitor, Conversation: conv, After: seen, Lang: "en"})
	if back.Hello.Conversation != conv || back.Hello.LastSeq != seen+int64(len(replies)) {
		t.Fatalf("hello %s, want conversation %s at seq %d", back.Hello.Raw, conv, seen+int64(len(replies)))
	}
	for i, text := range replies {
		f, err := back.Next(ctx)
		if err != nil || f.Type != "message" || f.Seq != seen+int64(i)+1 || f.Role != "agent" || f.Text != text {
			t.Fatalf("replay frame %d: %s %v, want the agent's %q at seq %d", i, f.Raw, err, text, seen+int64(i)+1)
		}
	}
	if f, err := back.Next(ctx); err != nil || f.Type != "handoff" || f.Status != "assigned" || !strings.Contains(string(f.Raw), `"resumed":true`) {
		t.Fatalf("after the replay: %s %v, want the resumed assigned handoff", f.Raw, err)
	}
	// Nothing else is queued for the socket: the next frame is the ack of
	// the next message.
	if err := back.Send("after-replay", "thanks"); err != nil {
		t.Fatal(err)
	}
	if f, err := back.Next(ctx); err != nil || f.Type != "ack" || f.ClientID != "after-replay" || f.Seq != seen+int64(len(replies))+1 {
		t.Fatalf("after the replay: %s %v, want the ack of the next message at seq %d", f.Raw, err, seen+int64(len(replies))+1)
	}
}

// TestResendAfterReconnect: the widget sends a message and loses the
// socket before the ack; after reconnecting it sends it again with the
// same client_id, as it does. The message is stored once and answered once,
// whichever of the two attempts the server saw first.
func TestResendAfterReconnect(t *testing.T) {
	s := startServer(t, t.TempDir(), "--demo")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const cid, text = "resend-after-reconnect", "退款多久到账"
	first := dial(t, ctx, s.WS, chatclient.Options{})
	if err := first.Send(cid, text); err != nil {
		t.Fatal(err)
	}
	first.Close() // gone before the ack
	opts := chatclient.Options{Visitor: first.Hello.Visitor, Conversation: first.Hello.Conversation}

	again := dial(t, ctx, s.WS, opts)
	ack, err := again.Resend(ctx, cid, text)
	if err != nil {
		t.Fatal(err)
	}
	// A reply, live or replayed, arrives unless the replay already had it;
	// then a new message goes through as usual.
	next := ask(t, ctx, again, "谢谢")

	full := dial(t, ctx, s.WS, opts) // after 0: the whole conversation
	var stored, answered int
	for want := int64(1); want <= next.Seq; want++ {
		f, err := full.Next(ctx)
		if err != nil || f.Type != "message" || f.Seq != want {
			t.Fatalf("replay: %s %v, want message seq %d", f.Raw, err, want)
		}
		if f.Role == "shopper" && f.ClientID == cid {
			stored++
			if f.Seq != ack.Seq {
				t.Errorf("stored at seq %d, acknowledged as %d", f.Seq, ack.Seq)
			}
		}
		if f.ReplyTo == cid {
			answered++
		}
	}
	if stored != 1 || answered != 1 {
		t.Errorf("the message was stored %d times and answered %d times, want once each", stored, answered)
	}
	if full.Hello.LastSeq != next.Seq {
		t.Errorf("last_seq %d, want %d: something was stored after the last reply", full.Hello.LastSeq, next.Seq)
	}
}

// TestShutdownFinishesTheTurnInFlight: the server stops (as on SIGTERM)
// while a slow model is still phrasing a reply to an acknowledged message.
// The shopper's socket closes at once with 1001 (going away, reconnect),
// the server exits within its grace period, and the reply was stored: the
// shopper finds it after the restart.
func TestShutdownFinishesTheTurnInFlight(t *testing.T) {
	const slow = 1500 * time.Millisecond
	model := llmtest.NewServer(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Text: "Shipping takes two to four days [1].", FirstDelay: slow}
	})
	dir := t.TempDir()
	s := startServer(t, dir, "--demo", "--llm-url", model.URL, "--llm-model", "scripted")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tok := token(t, dir, "demo-en")
	c := dial(t, ctx, s.WS, chatclient.Options{Token: tok})
	const cid = "in-flight-1"
	if err := c.Send(cid, "How long does shipping take?"); err != nil {
		t.Fatal(err)
	}
	ack, _ := until(t, c, func(f chatclient.Frame) bool { return f.Type == "ack" && f.ClientID == cid })

	began := time.Now()
	stopped := make(chan error, 1)
	// Owned by the test: returns when run does.
	go func() { stopped <- s.Stop() }()
	for {
		f, err := c.Next(ctx)
		if err == nil {
			if f.Type == "message" && f.ReplyTo == cid {
				t.Fatalf("the reply came before the socket closed; make the model slower than %v", slow)
			}
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || (ce.Code != 1001 && ce.Code != 1012) {
			t.Fatalf("the socket ended with %v, want close 1001 or 1012", err)
		}
		if took := time.Since(began); took > time.Second {
			t.Errorf("the socket closed %v after the stop, want at once", took)
		}
		break
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v\nlogs:\n%s", err, s.Logs)
	}
	if took := time.Since(began); took < slow/2 || took > shutdownGrace {
		t.Errorf("the server stopped %v after the signal, want after the turn in flight (%v) and within %v", took, slow, shutdownGrace)
	}

	s = startServer(t, dir, "--demo", "--llm-url", model.URL, "--llm-model", "scripted")
	back := dial(t, ctx, s.WS, chatclient.Options{Token: tok, Conversation: c.Hello.Conversation, After: ack.Seq})
	f, err := back.Next(ctx)
	if err != nil || f.Type != "message" || f.ReplyTo != cid || f.Seq != ack.Seq+1 {
		t.Fatalf("after the restart: %s %v, want the reply to %s at seq %d", f.Raw, err, cid, ack.Seq+1)
	}
}
