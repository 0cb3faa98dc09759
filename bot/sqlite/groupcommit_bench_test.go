package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// BenchmarkAppendMessageParallel appends messages from many goroutines (32
// per GOMAXPROCS, like many chat turns at once) to 256 conversations of an
// on-disk database with WAL and synchronous=FULL. Every message has its own
// client_id, so each one is a real write with its own fsync'd commit.
func BenchmarkAppendMessageParallel(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
	convs := make([]string, 256)
	for i := range convs {
		c, err := s.OpenConversation(ctx, fmt.Sprintf("v:bench-%d", i), "", "", "en")
		if err != nil {
			b.Fatal(err)
		}
		convs[i] = c.ID
	}
	var next atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			_, dup, err := s.AppendMessage(ctx, bot.Message{ConversationID: convs[n%int64(len(convs))], Role: bot.RoleShopper,
				Text: "where is my order?", ClientID: fmt.Sprintf("m%d", n)})
			if err != nil || dup {
				b.Errorf("append %d: dup %v, err %v", n, dup, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkConversationReadParallel reads what a turn reads of its
// conversation (the conversation row, then the messages after a seq)
// from many goroutines: the cost of the read pool's statements.
func BenchmarkConversationReadParallel(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
	convs := make([]string, 64)
	for i := range convs {
		c, err := s.OpenConversation(ctx, fmt.Sprintf("v:bench-%d", i), "", "", "en")
		if err != nil {
			b.Fatal(err)
		}
		convs[i] = c.ID
		for j := range 4 {
			if _, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: "hi", ClientID: fmt.Sprint(j)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := convs[next.Add(1)%int64(len(convs))]
			if _, err := s.Conversation(ctx, id); err != nil {
				b.Error(err)
				return
			}
			if msgs, err := s.MessagesAfter(ctx, id, 2, 10); err != nil || len(msgs) != 2 {
				b.Errorf("messages after 2: %d, %v", len(msgs), err)
				return
			}
		}
	})
}
