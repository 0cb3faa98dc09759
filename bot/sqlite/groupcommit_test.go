package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// openConversations opens n conversations and returns their ids.
func openConversations(t testing.TB, s *Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		c, err := s.OpenConversation(context.Background(), fmt.Sprintf("v:visitor-%d", i), "", "", "en")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	return ids
}

// holdWriter takes the write pool's only connection until the returned
// func is called, so the group-commit writer waits and writes pile up.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	tx, err := s.write.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// allMessages returns every message of the conversation, in seq order.
func allMessages(t *testing.T, s *Store, conversationID string) []bot.Message {
	t.Helper()
	msgs, err := s.MessagesAfter(context.Background(), conversationID, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestGroupCommitConcurrentAppends has many goroutines append to many
// conversations at once, each message sent twice (a client resend), and
// checks every message is stored exactly once with dense seqs 1..n.
func TestGroupCommitConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	convs := openConversations(t, s, 16)
	const senders, perSender = 64, 20
	type sent struct{ id, conv string }
	results := make(chan sent, senders*perSender)
	errs := make(chan error, senders*perSender*2)
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perSender {
				m := bot.Message{ConversationID: convs[(g+i)%len(convs)], Role: bot.RoleShopper,
					Text: fmt.Sprintf("question %d from %d", i, g), ClientID: fmt.Sprintf("g%d-%d", g, i)}
				first, dup, err := s.AppendMessage(ctx, m)
				if err != nil || dup {
					errs <- fmt.Errorf("send %s: dup %v, err %v", m.ClientID, dup, err)
					continue
				}
				again, dup, err := s.AppendMessage(ctx, m)
				if err != nil || !dup || again.ID != first.ID || again.Seq != first.Seq {
					errs <- fmt.Errorf("resend %s: got %s seq %d dup %v err %v, want %s seq %d", m.ClientID, again.ID, again.Seq, dup, err, first.ID, first.Seq)
				}
				results <- sent{first.ID, m.ConversationID}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(results)
	for err := range errs {
		t.Error(err)
	}
	want := map[string]string{}
	for r := range results {
		want[r.id] = r.conv
	}
	total := 0
	for _, conv := range convs {
		msgs := allMessages(t, s, conv)
		total += len(msgs)
		for i, m := range msgs {
			if m.Seq != int64(i+1) {
				t.Fatalf("conversation %s: message %d has seq %d, want %d (seqs must be dense)", conv, i, m.Seq, i+1)
			}
			if want[m.ID] != conv {
				t.Errorf("stored message %s (%s) in %s was never acknowledged there", m.ID, m.ClientID, conv)
			}
		}
		c, err := s.Conversation(ctx, conv)
		if err != nil || c.LastSeq != int64(len(msgs)) {
			t.Errorf("conversation %s: last_seq %d (err %v), want %d", conv, c.LastSeq, err, len(msgs))
		}
	}
	if total != senders*perSender || len(want) != senders*perSender {
		t.Fatalf("stored %d messages, acknowledged %d, want %d of each", total, len(want), senders*perSender)
	}
}

// appendWrite is an AppendMessage as one write of a batch the test builds.
func appendWrite(s *Store, m bot.Message) (*write, *bot.Message, *bool) {
	var out bot.Message
	var dup bool
	w := &write{ctx: context.Background(), done: make(chan error, 1), run: func(ctx context.Context, tx *batchTx) (err error) {
		out, dup, err = s.appendMessage(ctx, tx, m, "{}")
		return err
	}}
	return w, &out, &dup
}

// TestGroupCommitBatchIsolatesFailures runs one batch holding good writes,
// a write to an unknown conversation, a write that fails after taking a
// seq, and two copies of one client_id, and checks each gets its own result.
func TestGroupCommitBatchIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	conv := openConversations(t, s, 1)[0]
	existing, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "first"})
	if err != nil {
		t.Fatal(err)
	}

	good, goodOut, _ := appendWrite(s, bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "good", ClientID: "a"})
	unknown, _, _ := appendWrite(s, bot.Message{ConversationID: "c_nope", Role: bot.RoleShopper, Text: "lost", ClientID: "b"})
	// Reusing an id fails at the insert, after the conversation's seq moved:
	// its savepoint must put the seq back.
	clash, _, _ := appendWrite(s, bot.Message{ID: existing.ID, ConversationID: conv, Role: bot.RoleBot, Text: "clash"})
	copy1, out1, dup1 := appendWrite(s, bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "twice", ClientID: "c"})
	copy2, out2, dup2 := appendWrite(s, bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "twice", ClientID: "c"})
	batch := []*write{good, unknown, clash, copy1, copy2}
	s.group.commit(ctx, batch)

	results := make([]error, len(batch))
	for i, w := range batch {
		results[i] = <-w.done
	}
	if results[0] != nil || goodOut.Seq != 2 {
		t.Errorf("good write: seq %d, err %v; want seq 2", goodOut.Seq, results[0])
	}
	if !errors.Is(results[1], bot.ErrNotFound) {
		t.Errorf("unknown conversation: err %v, want bot.ErrNotFound", results[1])
	}
	if results[2] == nil {
		t.Errorf("reused message id: no error")
	}
	if results[3] != nil || *dup1 || out1.Seq != 3 {
		t.Errorf("first copy: seq %d dup %v err %v; want seq 3, not a duplicate", out1.Seq, *dup1, results[3])
	}
	if results[4] != nil || !*dup2 || out2.ID != out1.ID || out2.Seq != out1.Seq {
		t.Errorf("second copy in the same batch: %s seq %d dup %v err %v; want the first copy %s back as a duplicate",
			out2.ID, out2.Seq, *dup2, results[4], out1.ID)
	}
	msgs := allMessages(t, s, conv)
	if len(msgs) != 3 || msgs[0].Text != "first" || msgs[1].Text != "good" || msgs[2].Text != "twice" {
		t.Fatalf("stored %+v, want first, good, twice", msgs)
	}
	next, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: conv, Role: bot.RoleBot, Text: "after"})
	if err != nil || next.Seq != 4 {
		t.Fatalf("next append: seq %d, err %v; want 4 (the failed writes leave no gap)", next.Seq, err)
	}
	// Through the public API too: one bad write among good ones fails alone.
	if _, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: "c_nope", Role: bot.RoleShopper, Text: "x"}); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("AppendMessage to an unknown conversation: %v, want bot.ErrNotFound", err)
	}
}

// TestGroupCommitDuplicateAcrossBatches resends a client_id while the
// first copy waits in an earlier batch, and after it committed.
func TestGroupCommitDuplicateAcrossBatches(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	conv := openConversations(t, s, 1)[0]
	m := bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "where is my parcel", ClientID: "k1", Sources: []bot.Source{{ID: "faq-1"}}}
	release := holdWriter(t, s)
	type res struct {
		m   bot.Message
		dup bool
		err error
	}
	out := make(chan res, 8)
	for range 8 {
		go func() {
			got, dup, err := s.AppendMessage(ctx, m)
			out <- res{got, dup, err}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the sends pile up (correct either way)
	release()
	var first *bot.Message
	dups := 0
	for range 8 {
		r := <-out
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.dup {
			dups++
		}
		if first == nil {
			first = &r.m
		} else if r.m.ID != first.ID || r.m.Seq != first.Seq {
			t.Fatalf("copies disagree: %s seq %d and %s seq %d", r.m.ID, r.m.Seq, first.ID, first.Seq)
		}
	}
	if dups != 7 {
		t.Fatalf("%d of 8 copies reported as duplicates, want 7", dups)
	}
	again, dup, err := s.AppendMessage(ctx, m)
	if err != nil || !dup || again.ID != first.ID || len(again.Sources) != 1 || again.CreatedAt.IsZero() {
		t.Fatalf("later resend: %+v dup %v err %v; want the stored copy with its meta", again, dup, err)
	}
	if msgs := allMessages(t, s, conv); len(msgs) != 1 {
		t.Fatalf("stored %d copies, want 1", len(msgs))
	}
}

// TestGroupCommitCancelledCaller checks a caller whose ctx ends gets
// ctx.Err() at once, and that a resend after it stores one copy.
func TestGroupCommitCancelledCaller(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	conv := openConversations(t, s, 1)[0]
	m := bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "hi", ClientID: "k1"}

	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.AppendMessage(done, m); !errors.Is(err, context.Canceled) {
		t.Fatalf("already cancelled: err %v, want context.Canceled", err)
	}
	if n := len(allMessages(t, s, conv)); n != 0 {
		t.Fatalf("a call cancelled before it started stored %d messages", n)
	}

	release := holdWriter(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := s.AppendMessage(ctx, m); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("writer busy past the deadline: err %v, want context.DeadlineExceeded", err)
	}
	release()
	// The client resends; whether or not the first try was stored, there is one copy.
	if _, _, err := s.AppendMessage(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if msgs := allMessages(t, s, conv); len(msgs) != 1 || msgs[0].Seq != 1 {
		t.Fatalf("after resend: %d messages, want one with seq 1", len(msgs))
	}
}

// TestGroupCommitCloseWithPendingWrites closes the store while writes wait
// for the writer: every caller returns, those told "done" are stored, those
// told ErrClosed are not, and the writer goroutine has ended.
func TestGroupCommitCloseWithPendingWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s := mustOpen(t, path)
	convs := openConversations(t, s, 4)
	release := holdWriter(t, s)
	type res struct {
		clientID string
		err      error
	}
	out := make(chan res, 50)
	for i := range 50 {
		go func() {
			m := bot.Message{ConversationID: convs[i%4], Role: bot.RoleShopper, Text: "hi", ClientID: fmt.Sprintf("k%d", i)}
			_, _, err := s.AppendMessage(context.Background(), m)
			out <- res{m.ClientID, err}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the sends pile up (correct either way)
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	time.Sleep(20 * time.Millisecond)
	release() // the batch the writer holds can now run
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	select {
	case <-s.group.done:
	default:
		t.Fatal("the writer goroutine still runs after Close")
	}
	stored := map[string]bool{}
	for range 50 {
		select {
		case r := <-out:
			switch {
			case r.err == nil:
				stored[r.clientID] = true
			case errors.Is(r.err, ErrClosed):
			default:
				t.Errorf("%s: err %v, want nil or ErrClosed", r.clientID, r.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a caller never returned after Close")
		}
	}
	if _, _, err := s.AppendMessage(context.Background(), bot.Message{ConversationID: convs[0], Text: "late"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after Close: %v, want ErrClosed", err)
	}
	if _, err := s.OpenConversation(context.Background(), "v:late", "", "", "en"); !errors.Is(err, ErrClosed) {
		t.Fatalf("open after Close: %v, want ErrClosed", err)
	}

	s2 := mustOpen(t, path)
	found := map[string]int{}
	for _, conv := range convs {
		for _, m := range allMessages(t, s2, conv) {
			found[m.ClientID]++
		}
	}
	for i := range 50 {
		id := fmt.Sprintf("k%d", i)
		if stored[id] && found[id] != 1 || !stored[id] && found[id] != 0 {
			t.Errorf("%s: acknowledged %v, stored %d times", id, stored[id], found[id])
		}
	}
}

// TestGroupCommitOpenConversationConcurrently opens many conversations at
// once, many for one signed-in shopper not yet known to the store.
func TestGroupCommitOpenConversationConcurrently(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	const n = 100
	convs := make(chan bot.Conversation, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner, shopper := fmt.Sprintf("v:visitor-%d", i), ""
			if i%2 == 0 {
				owner, shopper = "s:alice", "alice"
			}
			c, err := s.OpenConversation(ctx, owner, shopper, "", "zh")
			if err != nil {
				errs <- err
				return
			}
			convs <- c
		}()
	}
	wg.Wait()
	close(errs)
	close(convs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for c := range convs {
		if seen[c.ID] {
			t.Fatalf("conversation id %s handed out twice", c.ID)
		}
		seen[c.ID] = true
		got, err := s.Conversation(ctx, c.ID)
		if err != nil || got.Owner != c.Owner || got.ShopperID != c.ShopperID || got.Lang != "zh" {
			t.Fatalf("conversation %s reads back as %+v, %v; want %+v", c.ID, got, err, c)
		}
		resumed, err := s.OpenConversation(ctx, c.Owner, c.ShopperID, c.ID, "zh")
		if err != nil || resumed.ID != c.ID {
			t.Fatalf("resume %s: got %s, %v", c.ID, resumed.ID, err)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d conversations, want %d", len(seen), n)
	}
	var shoppers int
	if err := s.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM shoppers WHERE id = 'alice'").Scan(&shoppers); err != nil || shoppers != 1 {
		t.Fatalf("shopper alice stored %d times (err %v), want once", shoppers, err)
	}
}

// TestGroupCommitFailedCommitFailsEveryone makes a batch's commit fail (a
// deferred foreign key that only COMMIT checks) and checks no writer of the
// batch is told its write was stored, and none of them is.
func TestGroupCommitFailedCommitFailsEveryone(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	conv := openConversations(t, s, 1)[0]
	good, _, _ := appendWrite(s, bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "good", ClientID: "a"})
	poison := &write{ctx: ctx, done: make(chan error, 1), run: func(ctx context.Context, tx *batchTx) error {
		if _, err := tx.tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
			return err
		}
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO messages (id, conversation_id, seq, role, text, created_at)
			VALUES ('m_orphan', 'c_nope', 1, 'bot', 'x', '2026-12-01T00:00:00Z')`)
		return err
	}}
	later, _, _ := appendWrite(s, bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "later", ClientID: "b"})
	batch := []*write{good, poison, later}
	s.group.commit(ctx, batch)
	for i, w := range batch {
		if err := <-w.done; err == nil {
			t.Errorf("write %d: told done though the commit failed", i)
		}
	}
	if msgs := allMessages(t, s, conv); len(msgs) != 0 {
		t.Fatalf("%d messages stored by a failed commit", len(msgs))
	}
	if m, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: conv, Role: bot.RoleShopper, Text: "next"}); err != nil || m.Seq != 1 {
		t.Fatalf("after a failed batch: seq %d, err %v; want seq 1", m.Seq, err)
	}
}
