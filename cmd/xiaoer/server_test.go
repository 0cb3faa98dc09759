package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// testServer is `xiaoer serve` started through run on a free loopback port.
type testServer struct {
	Base   string // http://127.0.0.1:PORT
	WS     string // ws://127.0.0.1:PORT/ws/chat
	Data   string
	Logs   *syncBuffer
	stop   context.CancelFunc
	done   chan error
	getenv func(string) string
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServer runs `xiaoer serve --addr ... --data dir extra...` and waits
// for /healthz. The server is stopped (as by SIGTERM) when the test ends.
func startServer(t testing.TB, dir string, extra ...string) *testServer {
	t.Helper()
	return startServerEnv(t, dir, nil, extra...)
}

// startServerEnv is startServer with more environment variables.
func startServerEnv(t testing.TB, dir string, moreEnv map[string]string, extra ...string) *testServer {
	t.Helper()
	addr := freeAddr(t)
	// Staff passwords hash at bcrypt's lowest cost: the default takes
	// seconds under the race detector.
	env := map[string]string{"XIAOER_BCRYPT_COST": "4"}
	for k, v := range moreEnv {
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{Base: "http://" + addr, WS: "ws://" + addr + "/ws/chat", Data: dir, Logs: &syncBuffer{},
		stop: cancel, done: make(chan error, 1), getenv: getenv}
	args := append([]string{"serve", "--addr", addr, "--data", dir}, extra...)
	// Owned by the test: exits when stop cancels ctx.
	go func() { s.done <- run(ctx, args, getenv, s.Logs, s.Logs) }()
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("server stopped with %v\nlogs:\n%s", err, s.Logs)
		}
		// Whatever the test did, the server's logs carry no personal data.
		for _, f := range pii.Find(s.Logs.String()) {
			t.Errorf("the server logged unmasked personal data (%s): %q", f.Kind, f.Value)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-s.done:
			t.Fatalf("server exited before it was healthy: %v\nlogs:\n%s", err, s.Logs)
		default:
		}
		resp, err := http.Get(s.Base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no healthy /healthz within 30 s\nlogs:\n%s", s.Logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down as SIGTERM would and returns run's error.
// It is safe to call more than once.
func (s *testServer) Stop() error {
	s.stop()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
			return err
		}
		return nil
	case <-time.After(20 * time.Second):
		return context.DeadlineExceeded
	}
}

// xiaoer runs a command (not serve) and returns its output.
func xiaoer(t testing.TB, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return strings.TrimSpace(out.String()), errOut.String(), err
}

// token signs a shopper token with the data folder's secret, as the
// integrator's `xiaoer token` does.
func token(t testing.TB, dir, shopper string) string {
	t.Helper()
	out, errOut, err := xiaoer(t, "token", "--data", dir, "--shopper", shopper)
	if err != nil || out == "" {
		t.Fatalf("xiaoer token: %v %s", err, errOut)
	}
	return out
}
