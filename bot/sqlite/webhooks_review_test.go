package sqlite

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/webhook"
)

// TestReviewWebhookPendingSurvivesRestart: an event emitted while the
// shop's endpoint is down is stored in the real outbox and delivered by a
// new Sender (a restarted server) once the endpoint is back, once, with
// the same id and body. (This held up; kept as a regression test.)
func TestReviewWebhookPendingSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	s := mustOpen(t, path)
	secret := []byte("0123456789abcdef0123456789abcdef")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	first, err := webhook.New(webhook.Config{URL: down.URL, Secret: secret, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, s, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Emit(ctx, "return.confirmed", map[string]string{"return_id": "r_1"}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { first.Run(runCtx); close(done) }()
	time.Sleep(100 * time.Millisecond)
	stop()
	<-done
	down.Close()

	var mu sync.Mutex
	var bodies []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), b, 0) != nil {
			w.WriteHeader(401)
			return
		}
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer up.Close()
	second, err := webhook.New(webhook.Config{URL: up.URL, Secret: secret, Poll: 10 * time.Millisecond}, s, quiet)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop = context.WithCancel(ctx)
	done = make(chan struct{})
	go func() { second.Run(runCtx); close(done) }()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	stop()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("after a restart the pending event was delivered %d times, want once", len(bodies))
	}
}
