package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

func TestBucketLimiter(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	l := newBucketLimiter(60, 3) // one a second, bursts of 3
	for i := range 3 {
		if _, ok := l.Reserve("s:a", start); !ok {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if _, ok := l.Reserve("s:a", start); ok {
		t.Fatal("a 4th message in the same instant passed a burst of 3")
	}
	if _, ok := l.Reserve("s:b", start); !ok {
		t.Fatal("another key shares the first key's bucket")
	}
	if _, ok := l.Reserve("s:a", start.Add(time.Second)); !ok {
		t.Fatal("refused after a second's refill")
	}
	// A cancelled reservation gives the token back.
	undo, ok := l.Reserve("s:c", start)
	if !ok {
		t.Fatal("refused a new key")
	}
	undo()
	for i := range 3 {
		if _, ok := l.Reserve("s:c", start); !ok {
			t.Fatalf("message %d refused after a cancel", i+1)
		}
	}
	// Memory is bounded: a sweep a while later drops every refilled bucket.
	for i := range 1000 {
		l.Reserve(fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256), start)
	}
	if n := l.size(); n < 1000 {
		t.Fatalf("%d buckets, want the 1003 in use", n)
	}
	l.Reserve("s:late", start.Add(10*time.Minute))
	if n := l.size(); n != 1 {
		t.Errorf("after a sweep %d buckets are kept, want 1 (the new one)", n)
	}
}

// sendAndCount sends n messages on c and returns how many were refused
// with rate_limited. A frame of unknown type follows them: the socket
// answers frames in order, so its error marks the end.
func sendAndCount(t *testing.T, ctx context.Context, c *chatclient.Client, prefix string, n int) (limited int) {
	t.Helper()
	for i := range n {
		if err := c.Send(fmt.Sprintf("%s-%d", prefix, i), "hello"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SendFrame(map[string]any{"type": "end-of-test"}); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("after %d rate_limited: %v", limited, err)
		}
		if f.Type != "error" {
			continue
		}
		switch f.Code {
		case "unknown_type":
			return limited
		case "rate_limited":
			if f.Message == "" {
				t.Errorf("rate_limited without a message: %+v", f)
			}
			limited++
		default:
			t.Fatalf("error %+v, want rate_limited", f)
		}
	}
}

func TestSharedRateLimits(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		visitors [2]string // the two sockets' visitor ids
	}{
		{"one shopper's two sockets share a budget", Config{ShopperMessagesPerMinute: 5}, [2]string{"visitor-same-1", "visitor-same-1"}},
		{"two shoppers on one IP share its budget", Config{IPMessagesPerMinute: 5}, [2]string{"visitor-ip-001", "visitor-ip-002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, hs, rec, _ := newTestServer(t, tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			limited := 0
			for i, v := range tt.visitors {
				c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: v, Lang: "en"})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				limited += sendAndCount(t, ctx, c, fmt.Sprintf("m%d", i), 4)
			}
			// 8 sent, 5 fit the shared budget (each socket alone allows 100).
			if limited != 3 {
				t.Errorf("%d rate_limited errors, want 3", limited)
			}
			// The bot (which stores and answers) saw only those 5.
			if n := rec.count(); n != 5 {
				t.Errorf("%d messages reached the bot, want 5", n)
			}
		})
	}
}

func TestRateLimitedTextFollowsTheLanguage(t *testing.T) {
	_, hs, _, _ := newTestServer(t, Config{ShopperMessagesPerMinute: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Lang: "zh"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Send("zh-1", "你好")
	c.Send("zh-2", "你好")
	for {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == "error" {
			if f.Code != "rate_limited" || f.ClientID != "zh-2" || f.Message != rateLimitedText[false] {
				t.Errorf("got %+v, want rate_limited for zh-2 in Chinese", f)
			}
			return
		}
	}
}

func wantHandshakeStatus(t *testing.T, err error, status int) {
	t.Helper()
	var he *chatclient.HandshakeError
	if !errors.As(err, &he) || he.Status != status {
		t.Fatalf("dial: %v, want the handshake refused with %d", err, status)
	}
}

func TestSocketCaps(t *testing.T) {
	srv, hs, _, _ := newTestServer(t, Config{MaxSocketsPerShopper: 2, MaxSocketsPerIP: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token, err := srv.deps.Tokens.Sign("shopper-cap-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var open []*chatclient.Client
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for range 2 {
		c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	// A third socket of the same shopper is refused; another shopper's is not.
	_, err = chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Token: token})
	wantHandshakeStatus(t, err, http.StatusTooManyRequests)
	c, err := chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: "visitor-cap-01"})
	if err != nil {
		t.Fatalf("another shopper was refused: %v", err)
	}
	open = append(open, c)
	// That made 3 from 127.0.0.1: the IP cap refuses a 4th, whoever it is.
	_, err = chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Visitor: "visitor-cap-02"})
	wantHandshakeStatus(t, err, http.StatusTooManyRequests)

	// Closing a socket gives its place back.
	open[0].Close()
	waitFor(t, "the closed socket to be uncounted", func() bool { return srv.socketCount.count("ip:127.0.0.1") == 2 })
	c, err = chatclient.Dial(ctx, wsURL(hs), chatclient.Options{Token: token})
	if err != nil {
		t.Fatalf("after a close the shopper was still refused: %v", err)
	}
	open = append(open, c)
	for _, c := range open {
		c.Close()
	}
	open = nil
	waitFor(t, "every socket to be uncounted", func() bool {
		srv.socketCount.mu.Lock()
		defer srv.socketCount.mu.Unlock()
		return len(srv.socketCount.open) == 0
	})
}

func TestForwardedForIsTrustedOnlyWhenConfigured(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprint("trust=", trust), func(t *testing.T) {
			_, hs, _, _ := newTestServer(t, Config{MaxSocketsPerIP: 1, TrustForwardedFor: trust})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			dial := func(xff string) (*websocket.Conn, int, error) {
				h := http.Header{"Origin": {hs.URL}, "X-Forwarded-For": {xff}}
				ws, resp, err := websocket.DefaultDialer.DialContext(ctx, wsURL(hs), h)
				if resp != nil {
					return ws, resp.StatusCode, err
				}
				return ws, 0, err
			}
			first, _, err := dial("203.0.113.7")
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			// The client forges the first address; the proxy appended the last.
			second, status, err := dial("203.0.113.7, 198.51.100.9")
			if trust {
				if err != nil {
					t.Fatalf("a second address was refused (%d): %v", status, err)
				}
				second.Close()
				if _, status, _ := dial("198.51.100.1, 203.0.113.7"); status != http.StatusTooManyRequests {
					t.Errorf("a forged first address got past the cap: %d", status)
				}
				return
			}
			if status != http.StatusTooManyRequests {
				t.Errorf("without TrustForwardedFor the header changed the IP: %d (%v)", status, err)
			}
		})
	}
}
