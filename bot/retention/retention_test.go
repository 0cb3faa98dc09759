package retention

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type refresher struct {
	mu  sync.Mutex
	got []time.Time
}

func (r *refresher) RefreshFeatures(_ context.Context, now time.Time) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, now)
	return 1, nil
}

func (r *refresher) calls() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.got) }

func TestRetentionDeletesOldConversationsOnly(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	chat := func(owner string) string {
		c, err := store.OpenConversation(ctx, owner, "", "", "zh")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: "你好"}); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	old := chat("v:old-visitor-1")
	clk.add(100 * 24 * time.Hour)
	revived := chat("v:revived-visitor")
	clk.add(-100 * 24 * time.Hour)
	older := chat("v:old-visitor-2")
	clk.add(100 * 24 * time.Hour)
	// The old conversation that got a new message counts from that message.
	if _, _, err := store.AppendMessage(ctx, bot.Message{ConversationID: older, Role: bot.RoleShopper, Text: "还在吗"}); err != nil {
		t.Fatal(err)
	}
	clk.add(90 * 24 * time.Hour) // 190 days after old, 90 after revived and older's last message

	ref := &refresher{}
	var told []string // who shows conversations is told which were deleted
	deleted := func(_ context.Context, ids []string) { told = append(told, ids...) }
	job := New(Config{Keep: 180 * 24 * time.Hour, Now: clk.Now, Deleted: deleted}, store, ref, slog.New(slog.NewTextHandler(io.Discard, nil)))
	n, err := job.Once(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Once = %d, %v; want 1 deleted", n, err)
	}
	if len(told) != 1 || told[0] != old {
		t.Errorf("Deleted was told %v, want [%s]", told, old)
	}
	if _, err := store.Conversation(ctx, old); err == nil {
		t.Error("the conversation idle for 190 days is still there")
	}
	for _, id := range []string{revived, older} {
		if _, err := store.Conversation(ctx, id); err != nil {
			t.Errorf("conversation %s idle for 90 days: %v, want kept", id, err)
		}
	}
	if ref.calls() != 1 || !ref.got[0].Equal(clk.Now()) {
		t.Errorf("features refreshed at %v, want once at %v", ref.got, clk.Now())
	}

	// Zero keeps everything.
	clk.add(365 * 24 * time.Hour)
	if n, err := New(Config{Now: clk.Now}, store, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Once(ctx); err != nil || n != 0 {
		t.Errorf("Keep 0: Once = %d, %v; want nothing deleted", n, err)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	ref := &refresher{}
	job := New(Config{Tick: time.Millisecond}, storeFunc(func(context.Context, time.Time) ([]string, error) { return nil, nil }),
		ref, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- job.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for ref.calls() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the job did not run on its ticks")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type storeFunc func(ctx context.Context, cutoff time.Time) ([]string, error)

func (f storeFunc) DeleteIdleConversations(ctx context.Context, cutoff time.Time) ([]string, error) {
	return f(ctx, cutoff)
}
