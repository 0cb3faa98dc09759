package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// serveCountingHandlers serves srv on a second test server whose
// /ws/chat handler reports on returned each time it returns.
func serveCountingHandlers(t *testing.T, srv *Server) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	returned := make(chan struct{}, 100)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		if r.URL.Path == "/ws/chat" {
			returned <- struct{}{}
		}
	}))
	t.Cleanup(hs.Close)
	return hs, returned
}

func waitReturned(t *testing.T, returned <-chan struct{}, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-returned:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d chat handlers still running: the socket must not hold its HTTP handler", n-i, n)
		}
	}
}

// TestChatSocketOutlivesItsHandler: the HTTP handler returns once the
// socket is live (so net/http frees its per-connection buffers), and the
// socket keeps working: it reads frames, gets events, is pinged (a
// client that reads stays connected past PongWait) and still counts
// against the socket caps until it closes.
func TestChatSocketOutlivesItsHandler(t *testing.T) {
	const pongWait = 500 * time.Millisecond
	srv, _, rec, _ := newTestServer(t, Config{PongWait: pongWait, MaxSocketsPerIP: 1})
	hs, returned := serveCountingHandlers(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: "visitor-outlive-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitReturned(t, returned, 1)
	conv := c.Hello.Conversation

	if err := c.Send("m-1", "hello"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message to reach the bot", func() bool { return rec.count() == 1 })
	// The client reads (answering pings as gorilla does) but the server
	// sends nothing for several ping periods: only pings keep it open.
	frames, readErr := make(chan chatclient.Frame, 10), make(chan error, 1)
	// Owned by the test; ends when the socket closes.
	go func() {
		for {
			f, err := c.Next(ctx)
			if err != nil {
				readErr <- err
				return
			}
			frames <- f
		}
	}()
	time.Sleep(3 * pongWait)
	srv.deps.Hub.Publish(conv, bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_1", Seq: 1, Role: bot.RoleBot, Text: "hi"}})
	select {
	case f := <-frames:
		if f.Type != "message" || f.Seq != 1 {
			t.Fatalf("after the handler returned the socket read %s, want message seq 1", f.Raw)
		}
	case err := <-readErr:
		t.Fatalf("the socket closed after its handler returned: %v", err)
	case <-ctx.Done():
		t.Fatal("no frame")
	}
	// The cap of one socket per IP still counts this socket.
	if _, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{}); err == nil {
		t.Fatal("a second socket opened from the IP whose cap is 1")
	}
	c.Close()
	waitFor(t, "the socket's caps to be released", func() bool { return srv.socketCount.count("ip:127.0.0.1") == 0 })
	c2, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
	if err != nil {
		t.Fatalf("after the first socket closed, a new one was refused: %v", err)
	}
	c2.Close()
}

// TestIdleSocketsHoldOneGoroutine: an idle socket holds one goroutine,
// its reader, and no writer; a frame starts a writer that returns once it
// has written; closed sockets leave no goroutine behind.
func TestIdleSocketsHoldOneGoroutine(t *testing.T) {
	const n = 20
	srv, _, _, _ := newTestServer(t, Config{})
	hs, returned := serveCountingHandlers(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := runtime.NumGoroutine()
	clients := dialClients(ctx, t, hs, n)
	waitReturned(t, returned, n)
	// The clients (gorilla connections read on demand) run no goroutines.
	settled := func(want int) func() bool {
		return func() bool { return runtime.NumGoroutine() <= want }
	}
	waitFor(t, "one goroutine per idle socket", settled(base+n))

	// Frames wake a writer, which returns once the queue is empty.
	for _, c := range clients {
		srv.deps.Hub.Publish(c.Hello.Conversation, bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_1", Seq: 1, Role: bot.RoleBot, Text: "hi"}})
	}
	for _, c := range clients {
		if f, err := c.Next(ctx); err != nil || f.Seq != 1 {
			t.Fatalf("read %s (%v), want message seq 1", f.Raw, err)
		}
	}
	waitFor(t, "the writers to return after writing", settled(base+n))

	for _, c := range clients {
		c.Close()
	}
	waitFor(t, "no goroutine left by the closed sockets", settled(base))
	srv.mu.Lock()
	left := len(srv.sockets)
	srv.mu.Unlock()
	if left != 0 {
		t.Errorf("%d closed sockets still tracked", left)
	}
}

// TestShutdownClosesSocketsAfterTheirHandlersReturned: Shutdown closes
// every socket with 1001 and returns only once each has ended, with its
// goroutines gone and its caps released, although no HTTP handler is
// running for any of them any more.
func TestShutdownClosesSocketsAfterTheirHandlersReturned(t *testing.T) {
	const n = 10
	srv, _, _, _ := newTestServer(t, Config{})
	hs, returned := serveCountingHandlers(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := runtime.NumGoroutine()
	clients := dialClients(ctx, t, hs, n)
	waitReturned(t, returned, n)

	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// Shutdown waited for every socket: all of them have ended already.
	srv.mu.Lock()
	left := len(srv.sockets)
	srv.mu.Unlock()
	if left != 0 {
		t.Errorf("Shutdown returned with %d sockets still tracked", left)
	}
	if open := srv.socketCount.count("ip:127.0.0.1"); open != 0 {
		t.Errorf("Shutdown returned with %d sockets still counted against the IP cap", open)
	}
	for i, c := range clients {
		_, err := c.Next(ctx)
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("socket %d ended with %v, want close 1001", i, err)
		}
	}
	waitFor(t, "no goroutine left by the closed sockets", func() bool { return runtime.NumGoroutine() <= base })
	if _, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{}); err == nil {
		t.Error("a socket opened after shutdown")
	}
}

// TestLongFrameThroughSmallReadBuffer: a message of MaxTextRunes Chinese
// characters, a frame many times the socket's read buffer, arrives whole.
func TestLongFrameThroughSmallReadBuffer(t *testing.T) {
	_, hs, rec, _ := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	text := strings.Repeat("长", 2000)
	if len(text) < 10*chatReadBuffer {
		t.Fatalf("the frame (%d bytes) should be far larger than the read buffer (%d)", len(text), chatReadBuffer)
	}
	for i := range 3 {
		if err := c.Send(fmt.Sprintf("long-%d", i), text); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the long messages to reach the bot", func() bool { return rec.count() == 3 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, turn := range rec.turns {
		if turn.Text != text {
			t.Errorf("message %d arrived with %d bytes, want %d", i, len(turn.Text), len(text))
		}
	}
}

// TestWriterStartsAndStopsInOrder: frames published in bursts, between
// which the writer returns, with pings in between, all reach a reading
// client in order: one writer at a time (gorilla panics on concurrent
// writes, and the race detector watches the connection).
func TestWriterStartsAndStopsInOrder(t *testing.T) {
	const pongWait = time.Second // a ping every 900 ms
	srv, hs, _, _ := newTestServer(t, Config{PongWait: pongWait, SendQueue: 1024})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conv := c.Hello.Conversation
	waitFor(t, "the socket to be live", func() bool { return srv.deps.Hub.watchers(conv) == 1 })
	const total = 600
	got := make(chan int64, total)
	readErr := make(chan error, 1)
	// Owned by the test; ends when the socket closes or all frames came.
	go func() {
		for range total {
			f, err := c.Next(ctx)
			if err != nil {
				readErr <- err
				return
			}
			got <- f.Seq
		}
	}()
	text := strings.Repeat("x", 4<<10) // writes long enough to overlap, were there two writers
	for seq := int64(1); seq <= total; seq++ {
		srv.deps.Hub.Publish(conv, bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m", Seq: seq, Role: bot.RoleBot, Text: text}})
		if seq%10 == 0 {
			time.Sleep(20 * time.Millisecond) // the writer drains and returns
		}
	}
	for want := int64(1); want <= total; want++ {
		select {
		case s := <-got:
			if s != want {
				t.Fatalf("frame seq %d arrived where %d was due", s, want)
			}
		case err := <-readErr:
			t.Fatalf("the socket closed after %d frames: %v", want-1, err)
		}
	}
}

// dialClients opens n chat sockets to hs, closed when the test ends.
func dialClients(ctx context.Context, t *testing.T, hs *httptest.Server, n int) []*chatclient.Client {
	t.Helper()
	clients := make([]*chatclient.Client, n)
	for i := range clients {
		c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients[i] = c
	}
	return clients
}
