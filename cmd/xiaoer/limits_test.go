package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// TestServeSocketCapFlags: the caps reach the server from the environment
// and from flags, and a malformed value stops serve before it starts.
func TestServeSocketCapFlags(t *testing.T) {
	s := startServerEnv(t, t.TempDir(), map[string]string{"XIAOER_MAX_SOCKETS_PER_SHOPPER": "1"}, "--demo", "--max-sockets-per-ip", "2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := chatclient.Dial(ctx, s.WS, chatclient.Options{Visitor: "visitor-cap-flag-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	refused := func(what string, opts chatclient.Options) {
		t.Helper()
		var he *chatclient.HandshakeError
		if c, err := chatclient.Dial(ctx, s.WS, opts); !errors.As(err, &he) || he.Status != http.StatusTooManyRequests {
			if c != nil {
				c.Close()
			}
			t.Errorf("%s: %v, want 429", what, err)
		}
	}
	refused("a second socket of one visitor", chatclient.Options{Visitor: "visitor-cap-flag-1"})
	second, err := chatclient.Dial(ctx, s.WS, chatclient.Options{Visitor: "visitor-cap-flag-2"})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	refused("a third socket from one IP", chatclient.Options{Visitor: "visitor-cap-flag-3"})

	for _, tt := range []struct {
		env  map[string]string
		args []string
	}{
		{map[string]string{"XIAOER_MAX_SOCKETS_PER_IP": "many"}, nil},
		{nil, []string{"--ip-messages-per-minute", "0"}},
	} {
		getenv := func(k string) string { return tt.env[k] }
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, tt.args...)
		err := run(ctx, args, getenv, io.Discard, io.Discard)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "at least 1") {
			t.Errorf("env %v args %v: %v, want a usage error", tt.env, tt.args, err)
		}
	}
}
