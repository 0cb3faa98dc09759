package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

type reviewConvs struct {
	Conversations // nil: only SaveRating is used
	mu            sync.Mutex
	ran           map[string][]int
}

func (c *reviewConvs) SaveRating(ctx context.Context, conv string, score int, _ string) error {
	time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
	c.mu.Lock()
	c.ran[conv] = append(c.ran[conv], score)
	c.mu.Unlock()
	return nil
}

type reviewPub struct{}

func (reviewPub) Publish(string, Event) {}

// TestSchedulerOrderAndShutdownUnderStress: many conversations submitting concurrently
// while Run is cancelled: per-conversation order holds, nothing runs after
// Run returns, pending returns to 0, no drainer goroutine is left.
func TestSchedulerOrderAndShutdownUnderStress(t *testing.T) {
	for round := 0; round < 20; round++ {
		base := runtime.NumGoroutine()
		convs := &reviewConvs{ran: map[string][]int{}}
		b := New(Config{Workers: 4, QueueLen: 200, ConversationQueueLen: 8}, Deps{Conversations: convs, Publish: reviewPub{}},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { b.Run(ctx); close(done) }()
		var wg sync.WaitGroup
		accepted := make([]map[string]int, 16)
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				accepted[g] = map[string]int{}
				conv := fmt.Sprintf("c%d", g%8)
				for i := 1; i <= 200; i++ {
					score := g*1000 + i
					if err := b.Submit(Turn{ConversationID: conv, Rating: &Rating{Score: score}}); err == nil {
						accepted[g][conv]++
					} else if err != ErrBusy && err != ErrStopped {
						t.Error(err)
					}
				}
			}()
		}
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		cancel()
		<-done
		wg.Wait()
		b.mu.Lock()
		if b.pending != 0 || len(b.queues) != 0 {
			t.Fatalf("after Run: pending %d, queues %d", b.pending, len(b.queues))
		}
		b.mu.Unlock()
		if err := b.Submit(Turn{ConversationID: "c0", Rating: &Rating{Score: 1}}); err != ErrStopped {
			t.Fatalf("Submit after Run = %v, want ErrStopped", err)
		}
		convs.mu.Lock()
		for conv, scores := range convs.ran {
			last := map[int]int{}
			for _, s := range scores {
				g := s / 1000
				if s <= last[g] {
					t.Fatalf("%s: turn %d ran after %d: out of order", conv, s, last[g])
				}
				last[g] = s
			}
		}
		convs.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		if n := runtime.NumGoroutine(); n > base+2 {
			t.Fatalf("goroutines %d, baseline %d", n, base)
		}
	}
}
