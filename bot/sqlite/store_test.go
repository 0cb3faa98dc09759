package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

func mustOpen(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenSettingsAndMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s := mustOpen(t, path)
	got, err := s.Pragmas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000", "temp_store": "2"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("PRAGMA %s = %q, want %q", k, got[k], v)
		}
	}
	if err := s.PutShopper(context.Background(), bot.Shopper{ID: "s1", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Reopening applies no migration twice and keeps the data.
	s2 := mustOpen(t, path)
	sh, err := s2.Shopper(context.Background(), "s1")
	if err != nil || sh.Name != "A" {
		t.Fatalf("after reopen: shopper = %+v, %v", sh, err)
	}
	var n int
	s2.read.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n)
	files, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	if n != len(files) || n < 2 {
		t.Errorf("schema_migrations has %d rows, want one per migration file (%d)", n, len(files))
	}
}

func TestAppendMessageSeqAndDedupe(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	c, err := s.OpenConversation(ctx, "v:visitor-1", "", "", "zh")
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent writers get dense, distinct sequence numbers.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleBot, Text: "x", ReplyTo: string(rune('a' + i))})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	first, dup, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: "hi", ClientID: "c1"})
	if err != nil || dup || first.Seq != 21 {
		t.Fatalf("first send: seq %d dup %v err %v; want seq 21", first.Seq, dup, err)
	}
	again, dup, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: "hi", ClientID: "c1"})
	if err != nil || !dup || again.Seq != first.Seq || again.ID != first.ID {
		t.Fatalf("resend: %+v dup %v err %v; want the first message back", again, dup, err)
	}
	msgs, err := s.MessagesAfter(ctx, c.ID, 19, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Seq != 20 || msgs[1].Seq != 21 {
		t.Fatalf("MessagesAfter(19) = %d messages, want seqs 20, 21", len(msgs))
	}
	// Only the owner resumes a conversation; a stranger gets a new one.
	resumed, err := s.OpenConversation(ctx, "v:visitor-1", "", c.ID, "zh")
	if err != nil || resumed.ID != c.ID || resumed.LastSeq != 21 {
		t.Fatalf("owner resume: %+v, %v", resumed, err)
	}
	other, err := s.OpenConversation(ctx, "v:visitor-2", "", c.ID, "zh")
	if err != nil || other.ID == c.ID {
		t.Fatalf("stranger got conversation %s (err %v), want a new one", other.ID, err)
	}
}

func TestOrderOfIsScopedToTheShopper(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	for _, id := range []string{"alice", "bob"} {
		if err := s.PutShopper(ctx, bot.Shopper{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	o := bot.Order{ID: "XE0000000001", ShopperID: "alice", Status: bot.StatusShipped, Currency: "CNY", TotalCents: 1999,
		PlacedAt: now.Add(-time.Hour), Items: []bot.OrderItem{{SKU: "A", NameZH: "甲", NameEN: "A", Qty: 2, PriceCents: 999}},
		History:  []bot.StatusChange{{Status: bot.StatusPaid, At: now.Add(-time.Hour)}, {Status: bot.StatusShipped, At: now}},
		Tracking: []bot.TrackingEvent{{At: now, TextZH: "已揽收", TextEN: "Picked up"}}}
	if err := s.PutOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := s.OrderOf(ctx, "alice", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 1 || got.Items[0].Qty != 2 || len(got.History) != 2 || len(got.Tracking) != 1 || !got.PlacedAt.Equal(o.PlacedAt) {
		t.Fatalf("order read back as %+v", got)
	}
	_, err = s.OrderOf(ctx, "bob", o.ID)
	if !errors.Is(err, bot.ErrNotFound) || !errors.Is(err, bot.ErrOtherShopper) {
		t.Fatalf("bob reading alice's order: err = %v, want ErrOtherShopper (is ErrNotFound)", err)
	}
	if _, err := s.OrderOf(ctx, "", o.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("no shopper: err = %v, want not found", err)
	}
	if _, err := s.OrderOf(ctx, "alice", "XE404"); !errors.Is(err, bot.ErrNotFound) || errors.Is(err, bot.ErrOtherShopper) {
		t.Fatalf("unknown order: err = %v", err)
	}
	list, err := s.RecentOrders(ctx, "bob", 10)
	if err != nil || len(list) != 0 {
		t.Fatalf("bob's orders = %d (%v), want none", len(list), err)
	}
}

func TestEntriesRevision(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	_, rev, err := s.Entries(ctx)
	if err != nil || rev != 0 {
		t.Fatalf("empty store: rev %d, err %v", rev, err)
	}
	e := knowledge.Entry{ID: "a", Locale: "en", Question: "q?", Alternates: []string{"q1", "q2"}, Answer: "a."}
	if res, err := s.SaveEntries(ctx, []knowledge.Entry{e, {ID: "b", Question: "b?"}}, false, "t"); err != nil || res.Revision != 1 || res.Created != 2 {
		t.Fatalf("save: %+v, err %v", res, err)
	}
	if res, err := s.SaveEntries(ctx, []knowledge.Entry{e, {ID: "b", Question: "b?"}}, false, "t"); err != nil || res.Revision != 1 || res.Unchanged != 2 {
		t.Fatalf("save again: %+v, err %v; want nothing changed and the revision kept", res, err)
	}
	if res, err := s.SaveEntries(ctx, []knowledge.Entry{{ID: "c", Question: "c?"}}, true, "t"); err != nil || res.Revision != 2 || res.Deleted != 2 {
		t.Fatalf("replace: %+v, err %v", res, err)
	}
	got, rev, err := s.Entries(ctx)
	if err != nil || rev != 2 || len(got) != 1 || got[0].ID != "c" {
		t.Fatalf("after replace: %+v rev %d err %v", got, rev, err)
	}
}

// TestMigrateKeepsExistingEntries opens a database made by the first
// release (migration 0001 only, with an FAQ entry) and checks that the
// entry survives the knowledge-base migration with a first version.
func TestMigrateKeepsExistingEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := migrationFiles.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		string(first),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, 'migrations/0001_init.sql', '2026-11-01T00:00:00Z')`,
		`INSERT INTO faq_entries (id, locale, question, alternates, answer, category, updated_at)
		 VALUES ('old', 'en', 'Old question?', '["old alt"]', 'Old answer.', 'misc', '2026-11-02T00:00:00Z')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	db.Close()

	s := mustOpen(t, path)
	rec, err := s.Record(ctx, "old")
	if err != nil || rec.Version != 1 || rec.Deleted || rec.Disabled || rec.CreatedAt.IsZero() {
		t.Fatalf("migrated entry = %+v, %v", rec, err)
	}
	vs, err := s.Versions(ctx, "old")
	if err != nil || len(vs) != 1 || vs[0].Action != "create" || vs[0].Entry.Alternates[0] != "old alt" {
		t.Fatalf("migrated history = %+v, %v", vs, err)
	}
}
