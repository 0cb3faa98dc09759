package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// TestCheckpointerCopiesTheWAL: committed messages reach the database file
// itself soon after their commits, well before the write connection's own
// checkpoint threshold (walBackstopPages), so the writer never has to
// copy them on its critical path; and the store reads them back intact.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	before := size(path)
	conv := openConversations(t, s, 1)[0]
	text := strings.Repeat("退货运费谁出 ", 60) // ~1 KiB
	const n = 300                         // ~100 pages of WAL: far below either threshold
	for i := 0; i < n; i++ {
		if _, _, err := s.AppendMessage(context.Background(), bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if wal := size(path + "-wal"); wal > walBackstopPages*4096 {
		t.Fatalf("the WAL is %d bytes: over the backstop already, the test proves nothing", wal)
	}
	deadline := time.Now().Add(5 * time.Second)
	for size(path) < before+int64(n)*int64(len(text))/2 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes (%d before) 5 s after %d messages: nothing checkpointed them", size(path), before, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := len(allMessages(t, s, conv)); got != n {
		t.Errorf("%d messages read back, want %d", got, n)
	}
}
