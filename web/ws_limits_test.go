package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// TestSlowConsumerPolicy pins the order in which a queue under pressure
// gives way: typing frames go first (from half full), messages only when
// the queue is full, and then the socket is closed with 4008 so the
// client resumes from its last seq. deliver never blocks the caller.
func TestSlowConsumerPolicy(t *testing.T) {
	cfg := Config{SendQueue: 8}
	cfg.setDefaults()
	c := newConn(nil, &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.goLive()
	typing := outFrame{data: []byte(`{"type":"typing"}`), ephemeral: true}
	for i := range 4 {
		c.deliver(outFrame{data: []byte(`{"type":"message"}`), seq: int64(i + 1)})
	}
	c.deliver(typing)
	if n := c.queued(); n != 4 {
		t.Fatalf("a typing frame was queued into a half-full queue: %d frames, want 4", n)
	}
	for i := 4; i < 8; i++ {
		c.deliver(outFrame{data: []byte(`{"type":"message"}`), seq: int64(i + 1)})
	}
	if n := c.queued(); n != 8 || c.closed {
		t.Fatalf("messages were dropped before the queue was full: %d frames, closed %v", n, c.closed)
	}
	done := make(chan struct{})
	go func() {
		c.deliver(outFrame{data: []byte(`{"type":"message"}`), seq: 9})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("deliver blocked on a full queue")
	}
	if !c.closed || c.closeCode != CloseSlowConsumer {
		t.Errorf("a full queue left the socket open (closed %v, code %d), want close %d", c.closed, c.closeCode, CloseSlowConsumer)
	}
}

// TestDeadPeerIsDropped: a client that stops answering pings (it never
// reads, so never sees them) is dropped after PongWait, while one that
// reads (gorilla answers pings as it reads) stays connected well past it.
func TestDeadPeerIsDropped(t *testing.T) {
	const pongWait = time.Second
	srv, hs, _, _ := newTestServer(t, Config{PongWait: pongWait})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	alive, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: "visitor-alive-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Close()
	readErr := make(chan error, 1)
	// Owned by the test; ends when the socket closes.
	go func() {
		for {
			if _, err := alive.Next(ctx); err != nil {
				readErr <- err
				return
			}
		}
	}()
	dead, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: "visitor-dead-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	deadConv := dead.Hello.Conversation
	waitFor(t, "the silent socket to be live", func() bool { return srv.deps.Hub.watchers(deadConv) == 1 })
	start := time.Now()
	waitFor(t, "the silent socket to be dropped", func() bool { return srv.deps.Hub.watchers(deadConv) == 0 })
	if took := time.Since(start); took > 5*pongWait {
		t.Errorf("the dead peer was dropped after %v, want about %v", took, pongWait)
	}
	time.Sleep(3 * pongWait)
	select {
	case err := <-readErr:
		t.Fatalf("the client answering pings was dropped: %v", err)
	default:
	}
	if n := srv.deps.Hub.watchers(alive.Hello.Conversation); n != 1 {
		t.Errorf("the live client's conversation has %d watchers, want 1", n)
	}
}

// TestChatSocketNeverCompresses: a client offering permessage-deflate
// gets a plain socket (compression side channels, OWASP).
func TestChatSocketNeverCompresses(t *testing.T) {
	_, hs, _, _ := newTestServer(t, Config{})
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(wsURL(hs), http.Header{"Origin": {hs.URL}})
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Errorf("the handshake negotiated %q, want no extension", ext)
	}
}

// TestChatOriginAllowList: the chat socket opens from the server's own
// host and the exact configured shop origins, and nothing else: not a
// look-alike host, another scheme or port, a suffix, "null", nor
// anything because of a "*" entry.
func TestChatOriginAllowList(t *testing.T) {
	srv := NewServer(Config{AllowedOrigins: []string{"https://shop.example.com", "*", "https://m.shop.example.com/"}}, Deps{},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		origin string
		want   bool
	}{
		{"", true}, // not a browser
		{"http://xiaoer.example:8080", true},
		{"https://shop.example.com", true},
		{"HTTPS://SHOP.EXAMPLE.COM", true},
		{"https://m.shop.example.com", true},
		{"http://shop.example.com", false},
		{"https://shop.example.com:8443", false},
		{"https://shop.example.com.evil.com", false},
		{"https://evilshop.example.com", false},
		{"https://evil.example", false},
		{"http://xiaoer.example:8080.evil.com", false},
		{"null", false},
		{"*", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://xiaoer.example:8080/ws/chat", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if got := srv.checkOrigin(r); got != tt.want {
			t.Errorf("Origin %q: allowed %v, want %v", tt.origin, got, tt.want)
		}
	}
}

// pop takes the oldest queued frame, as the writer would; tests call it
// only when queued() > 0.
func (c *conn) pop() outFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.queue[0]
	c.queue = c.queue[1:]
	return f
}
