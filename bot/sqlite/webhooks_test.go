package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot/webhook"
)

func TestWebhookOutbox(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, id := range []string{"evt_a", "evt_b"} {
		e := webhook.Event{ID: id, Type: "return.confirmed", CreatedAt: t0.Add(time.Duration(i) * time.Second), Data: []byte(`{"x":1}`)}
		if err := s.AddWebhookEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.DueWebhookEvents(ctx, t0.Add(time.Second), 10)
	if err != nil || len(due) != 2 || due[0].ID != "evt_a" || string(due[0].Data) != `{"x":1}` || !due[0].CreatedAt.Equal(t0) {
		t.Fatalf("due %+v %v", due, err)
	}
	s.WebhookRetry(ctx, "evt_a", 1, t0.Add(time.Minute), "500")
	s.WebhookDelivered(ctx, "evt_b", 1, t0)
	if due, _ = s.DueWebhookEvents(ctx, t0.Add(30*time.Second), 10); len(due) != 0 {
		t.Errorf("due before the retry time: %+v", due)
	}
	if due, _ = s.DueWebhookEvents(ctx, t0.Add(time.Minute), 10); len(due) != 1 || due[0].ID != "evt_a" || due[0].Attempts != 1 {
		t.Errorf("due at the retry time: %+v", due)
	}
	s.WebhookGaveUp(ctx, "evt_a", 2, t0, "500")
	if due, _ = s.DueWebhookEvents(ctx, t0.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("given-up event still due: %+v", due)
	}
}

// TestTruncateKeepsUTF8: a last_error cut to its limit stays valid UTF-8.
func TestTruncateKeepsUTF8(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"服务不可用", 4, "服"}, // 3 bytes a character
		{"服务不可用", 6, "服务"},
		{"服务不可用", 2, ""},
	} {
		if got := truncate(c.s, c.n); got != c.want || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
