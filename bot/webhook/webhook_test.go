package webhook

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// memOutbox is an Outbox in memory.
type memOutbox struct {
	mu     sync.Mutex
	events map[string]*memEvent
}

type memEvent struct {
	Pending
	next      time.Time
	delivered bool
	gaveUp    bool
	lastErr   string
}

func newMemOutbox() *memOutbox { return &memOutbox{events: map[string]*memEvent{}} }

func (m *memOutbox) AddWebhookEvent(_ context.Context, e Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events[e.ID] = &memEvent{Pending: Pending{Event: e}, next: e.CreatedAt}
	return nil
}

func (m *memOutbox) DueWebhookEvents(_ context.Context, now time.Time, limit int) ([]Pending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Pending
	for _, e := range m.events {
		if !e.delivered && !e.gaveUp && !e.next.After(now) {
			out = append(out, e.Pending)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memOutbox) WebhookDelivered(_ context.Context, id string, attempts int, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events[id].delivered, m.events[id].Attempts = true, attempts
	return nil
}

func (m *memOutbox) WebhookRetry(_ context.Context, id string, attempts int, next time.Time, lastErr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.events[id]
	e.Attempts, e.next, e.lastErr = attempts, next, lastErr
	return nil
}

func (m *memOutbox) WebhookGaveUp(_ context.Context, id string, attempts int, _ time.Time, lastErr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.events[id]
	e.Attempts, e.gaveUp, e.lastErr = attempts, true, lastErr
	return nil
}

func (m *memOutbox) get(id string) memEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return *m.events[id]
}

// receiver is a shop endpoint that answers with the statuses given, then
// 200, and keeps what it got.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []delivery
}

type delivery struct {
	header http.Header
	body   []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, delivery{r.Header.Clone(), body})
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	w.WriteHeader(status)
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var secret = []byte("0123456789abcdef0123456789abcdef")

func newSender(t *testing.T, url string, now func() time.Time, out Outbox) *Sender {
	t.Helper()
	s, err := New(Config{URL: url, Secret: secret, Now: now, MinBackoff: time.Second, MaxBackoff: 4 * time.Second, MaxAttempts: 5},
		out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeliverySignedAndVerifiable(t *testing.T) {
	rc := &receiver{}
	hs := httptest.NewServer(rc)
	defer hs.Close()
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	out := newMemOutbox()
	s := newSender(t, hs.URL, clk.Now, out)
	ctx := context.Background()
	if err := s.Emit(ctx, "return.confirmed", map[string]string{"return_id": "r_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.deliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	got := rc.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	var e Event
	if err := json.Unmarshal(d.body, &e); err != nil || e.Type != "return.confirmed" || string(e.Data) != `{"return_id":"r_1"}` ||
		d.header.Get(HeaderEventID) != e.ID || d.header.Get(HeaderEvent) != e.Type || d.header.Get(HeaderAttempt) != "1" {
		t.Fatalf("delivery %s %v: %v", d.body, d.header, err)
	}
	sig := d.header.Get(HeaderSignature)
	if err := verifyAt(secret, sig, d.body, 0, clk.Now()); err != nil {
		t.Errorf("the signature does not verify with the secret: %v", err)
	}
	if err := verifyAt([]byte("another secret, sixteen+ bytes"), sig, d.body, 0, clk.Now()); err != ErrBadSignature {
		t.Errorf("with another secret: %v, want ErrBadSignature", err)
	}
	tampered := append([]byte(nil), d.body...)
	tampered[len(tampered)-2] = 'X'
	if err := verifyAt(secret, sig, tampered, 0, clk.Now()); err != ErrBadSignature {
		t.Errorf("with a changed body: %v, want ErrBadSignature", err)
	}
	if err := verifyAt(secret, sig, d.body, time.Minute, clk.Now().Add(2*time.Minute)); err != ErrStale {
		t.Errorf("replayed 2 minutes later with a 1 minute tolerance: %v, want ErrStale", err)
	}
	if err := Verify(secret, "v1=abc", d.body, 0); err != ErrBadSignature {
		t.Errorf("no timestamp: %v", err)
	}
}

func TestRetriesWithBackoffThenDeliversOnce(t *testing.T) {
	rc := &receiver{statuses: []int{500, 503}}
	hs := httptest.NewServer(rc)
	defer hs.Close()
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	out := newMemOutbox()
	s := newSender(t, hs.URL, clk.Now, out)
	ctx := context.Background()
	s.Emit(ctx, "conversation.handed_off", map[string]string{"conversation_id": "c1"})
	s.deliverDue(ctx) // 500
	if n := len(rc.deliveries()); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
	s.deliverDue(ctx) // not due yet: backoff 1 s
	if n := len(rc.deliveries()); n != 1 {
		t.Fatalf("retried before the backoff: %d attempts", n)
	}
	clk.Add(time.Second)
	s.deliverDue(ctx) // 503; next wait 2 s
	clk.Add(time.Second)
	s.deliverDue(ctx)
	if n := len(rc.deliveries()); n != 2 {
		t.Fatalf("%d attempts after 2 s, want 2 (the backoff doubles)", n)
	}
	clk.Add(time.Second)
	s.deliverDue(ctx) // 200
	clk.Add(time.Hour)
	s.deliverDue(ctx) // nothing left
	got := rc.deliveries()
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3: two failures, one success, none after", len(got))
	}
	if got[0].header.Get(HeaderEventID) != got[2].header.Get(HeaderEventID) || string(got[0].body) != string(got[2].body) ||
		got[2].header.Get(HeaderAttempt) != "3" {
		t.Error("a retry is not the same event, or its attempt is not counted")
	}
	for _, d := range got {
		if err := verifyAt(secret, d.header.Get(HeaderSignature), d.body, 0, clk.Now().Add(-time.Hour)); err != nil {
			t.Errorf("attempt %s: %v", d.header.Get(HeaderAttempt), err)
		}
	}
	var id string
	json.Unmarshal(got[0].body, &struct{ ID *string }{&id})
	if e := out.get(id); !e.delivered || e.Attempts != 3 {
		t.Errorf("outbox %+v, want delivered after 3 attempts", e)
	}
}

func TestBackoffIsCappedAndGivesUp(t *testing.T) {
	rc := &receiver{statuses: []int{500, 500, 500, 500, 500, 500}}
	hs := httptest.NewServer(rc)
	defer hs.Close()
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	out := newMemOutbox()
	s := newSender(t, hs.URL, clk.Now, out)
	for n, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		if got := s.backoff(n + 1); got != want {
			t.Errorf("backoff after %d failures: %v, want %v", n+1, got, want)
		}
	}
	ctx := context.Background()
	s.Emit(ctx, "return.confirmed", nil)
	for range 10 {
		s.deliverDue(ctx)
		clk.Add(5 * time.Second)
	}
	if n := len(rc.deliveries()); n != 5 {
		t.Errorf("%d attempts, want MaxAttempts (5)", n)
	}
}

// TestRunDeliversWhenEmitted: the running dispatcher sends an event as soon
// as it is emitted, and stops with its context.
func TestRunDeliversWhenEmitted(t *testing.T) {
	rc := &receiver{}
	hs := httptest.NewServer(rc)
	defer hs.Close()
	s := newSender(t, hs.URL, nil, newMemOutbox())
	s.cfg.Poll = time.Hour // only Emit's wake-up can deliver
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	// Owned by the test: exits when cancel is called.
	go func() { done <- s.Run(ctx) }()
	s.Emit(ctx, "return.confirmed", map[string]int{"n": 1})
	deadline := time.Now().Add(10 * time.Second)
	for len(rc.deliveries()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not delivered within 10 s of Emit")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestRedirectErrorAndNewErrorHideCredentials: the last_error of a
// redirect says what happened without the Location's secrets, and New's
// error for a bad URL does not echo its credentials.
func TestRedirectErrorAndNewErrorHideCredentials(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://bob:hunter2@shop.example/in?key=s3cret", http.StatusMovedPermanently)
	}))
	defer hs.Close()
	out := newMemOutbox()
	s := newSender(t, hs.URL, nil, out)
	ctx := context.Background()
	if err := s.Emit(ctx, "return.confirmed", map[string]string{"return_id": "r_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.deliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	for id := range out.events {
		e := out.get(id)
		if e.delivered || !strings.Contains(e.lastErr, "301") || !strings.Contains(e.lastErr, "redirect") ||
			strings.Contains(e.lastErr, "hunter2") || strings.Contains(e.lastErr, "s3cret") {
			t.Errorf("after a 301: delivered %v, last error %q; want a failure naming the redirect without its secrets", e.delivered, e.lastErr)
		}
	}
	for _, u := range []string{"ftp://bob:hunter2@shop.example/in?key=s3cret", "bob:hunter2@shop.example/in"} {
		_, err := New(Config{URL: u, Secret: secret}, out, nil)
		if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%q): %v, want an error without the credentials", u, err)
		}
	}
}
