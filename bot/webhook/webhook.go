// Package webhook tells the shop's own systems what happened in Xiaoer
// (a return confirmed, a conversation handed to a person) by POSTing
// signed JSON events to a URL the shop configured.
//
// Delivery is at least once and never holds a conversation up: Emit only
// stores the event in an outbox (the database); the Sender's Run loop
// sends what is due, one event at a time, retrying failures with capped
// exponential backoff. Every event carries an id that stays the same
// across attempts, so a receiver drops the ones it has already handled.
// Receivers check the signature with Verify; docs/webhooks.md shows how.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

var _ bot.Webhooks = (*Sender)(nil)

// Headers of every delivery.
const (
	HeaderSignature = "X-Xiaoer-Signature" // t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
	HeaderEvent     = "X-Xiaoer-Event"     // the event's type
	HeaderEventID   = "X-Xiaoer-Event-Id"  // the event's id, the same on every attempt
	HeaderAttempt   = "X-Xiaoer-Attempt"   // 1 for the first attempt
)

// Event is what a receiver gets as the request body.
type Event struct {
	ID        string          `json:"id"` // "evt_…"
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// Pending is an event waiting in the outbox, with its attempts so far.
type Pending struct {
	Event
	Attempts int
}

// Outbox stores events until they are delivered; package bot/sqlite
// implements it.
type Outbox interface {
	// AddWebhookEvent stores a new event, due at once.
	AddWebhookEvent(ctx context.Context, e Event) error
	// DueWebhookEvents returns up to limit undelivered events due at now,
	// oldest first.
	DueWebhookEvents(ctx context.Context, now time.Time, limit int) ([]Pending, error)
	// WebhookDelivered marks an event delivered.
	WebhookDelivered(ctx context.Context, id string, attempts int, at time.Time) error
	// WebhookRetry records a failed attempt and when to try again.
	WebhookRetry(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error
	// WebhookGaveUp records the last failed attempt of an event that will
	// not be tried again.
	WebhookGaveUp(ctx context.Context, id string, attempts int, at time.Time, lastErr string) error
}

// Config configures a Sender. Zero values mean the documented defaults.
type Config struct {
	// URL receives the events; required.
	URL string
	// Secret signs every delivery; required, at least 16 bytes. It comes
	// from XIAOER_WEBHOOK_SECRET(_FILE), never from a flag.
	Secret []byte
	// Client sends the requests; nil means one with a 10 s timeout. The
	// Sender uses a copy that never follows redirects: a 3xx is a failed
	// attempt, since the receiver did not take the event.
	Client *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MinBackoff is the wait after a first failure, doubled after each
	// further one; zero means 10 s.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between attempts; zero means 1 hour.
	MaxBackoff time.Duration
	// MaxAttempts is how many attempts an event gets before it is given up
	// (and kept, marked failed, in the outbox); zero means 30, about a day
	// with the default backoff.
	MaxAttempts int
	// Poll is how often Run looks for due events besides being woken by
	// Emit; zero means 5 s.
	Poll time.Duration
}

// Sender stores events (Emit) and delivers them (Run).
type Sender struct {
	cfg    Config
	outbox Outbox
	log    *slog.Logger
	kick   chan struct{}
}

// New returns a Sender; Run must be called for anything to be delivered.
func New(cfg Config, outbox Outbox, log *slog.Logger) (*Sender, error) {
	if cfg.URL == "" {
		return nil, errors.New("webhook: no URL")
	}
	if !strings.HasPrefix(cfg.URL, "https://") && !strings.HasPrefix(cfg.URL, "http://") {
		return nil, fmt.Errorf("webhook: URL %q must start with https:// (or http:// on a private network)", redact(cfg.URL))
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("webhook: the secret must be at least 16 bytes (XIAOER_WEBHOOK_SECRET or XIAOER_WEBHOOK_SECRET_FILE)")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	// A redirect is not a delivery: followed, a 301/302 turns the POST into
	// a GET without the event, whose 200 would mark it delivered.
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &client
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 10 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Hour
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 30
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	return &Sender{cfg: cfg, outbox: outbox, log: log, kick: make(chan struct{}, 1)}, nil
}

// Emit stores an event of type eventType with data (marshalled as JSON)
// for delivery, and wakes Run (bot.Webhooks). It returns once the event
// is stored; delivery happens later.
func (s *Sender) Emit(ctx context.Context, eventType string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("webhook: %s: %w", eventType, err)
	}
	id := make([]byte, 16)
	rand.Read(id) // never fails (crypto/rand, Go ≥ 1.24)
	e := Event{ID: "evt_" + hex.EncodeToString(id), Type: eventType, CreatedAt: s.cfg.Now().UTC(), Data: b}
	if err := s.outbox.AddWebhookEvent(ctx, e); err != nil {
		return fmt.Errorf("webhook: store %s: %w", eventType, err)
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// Run delivers due events until ctx ends: at once when Emit wakes it,
// and every Poll for retries. It returns nil when ctx ends.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		if err := s.deliverDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("webhook outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kick:
		}
	}
}

// deliverDue tries every event due now, one after another.
func (s *Sender) deliverDue(ctx context.Context) error {
	for {
		due, err := s.outbox.DueWebhookEvents(ctx, s.cfg.Now(), 50)
		if err != nil {
			return err
		}
		for _, p := range due {
			if ctx.Err() != nil {
				return nil
			}
			if err := s.attempt(ctx, p); err != nil {
				return err
			}
		}
		if len(due) < 50 {
			return nil
		}
	}
}

// attempt sends one event and records the outcome; the error is the
// outbox's, a failed delivery is not an error.
func (s *Sender) attempt(ctx context.Context, p Pending) error {
	n := p.Attempts + 1
	log := s.log.With("event", p.ID, "type", p.Type, "attempt", n)
	err := s.send(ctx, p.Event, n)
	now := s.cfg.Now()
	if err == nil {
		log.Info("webhook delivered")
		return s.outbox.WebhookDelivered(ctx, p.ID, n, now)
	}
	if ctx.Err() != nil {
		return nil // stopping: the attempt does not count, it is retried after a restart
	}
	if n >= s.cfg.MaxAttempts {
		log.Error("webhook given up", "err", err)
		return s.outbox.WebhookGaveUp(ctx, p.ID, n, now, err.Error())
	}
	next := now.Add(s.backoff(n))
	log.Warn("webhook failed, will retry", "err", err, "next", next)
	return s.outbox.WebhookRetry(ctx, p.ID, n, next, err.Error())
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubled
// n-1 times, at most MaxBackoff.
func (s *Sender) backoff(n int) time.Duration {
	d := s.cfg.MinBackoff
	for i := 1; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxBackoff)
}

// send POSTs the event, signed at the time of sending; any 2xx is success.
func (s *Sender) send(ctx context.Context, e Event, attempt int) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Xiaoer-Webhook/1")
	req.Header.Set(HeaderEvent, e.Type)
	req.Header.Set(HeaderEventID, e.ID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	req.Header.Set(HeaderSignature, Sign(s.cfg.Secret, s.cfg.Now(), body))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		// Without the URL, which may carry credentials: it is logged and stored.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s: %w", ue.Op, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return fmt.Errorf("the receiver answered %s, a redirect to %q, which is not followed: set the webhook URL to where the receiver takes events",
			resp.Status, redact(resp.Header.Get("Location")))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}

// redact returns a URL without what may be a secret, its user info and
// query, for errors and logs. What does not parse is not shown at all.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	if u.Opaque != "" {
		u.Opaque = "redacted" // "user:password@host" parses as scheme "user"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// Sign returns the signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<body>">".
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook: bad signature")
	ErrStale        = errors.New("webhook: signature timestamp outside the tolerance")
)

// DefaultTolerance is the tolerance Verify uses when given zero.
const DefaultTolerance = 5 * time.Minute

// Verify checks a delivery for receivers: header is the X-Xiaoer-Signature
// value, body the raw request body (before any JSON decoding). It returns
// ErrBadSignature unless one v1 signature matches the secret, and ErrStale
// when the timestamp is further than tolerance (zero means 5 minutes) from
// the receiver's clock, which stops a captured request being replayed
// later. Receivers should still drop event ids they have handled.
func Verify(secret []byte, header string, body []byte, tolerance time.Duration) error {
	return verifyAt(secret, header, body, tolerance, time.Now())
}

func verifyAt(secret []byte, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	want := []byte(mac(secret, ts, body))
	ok := false
	for _, sig := range sigs {
		if hmac.Equal([]byte(sig), want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}
