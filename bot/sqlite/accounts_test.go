package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/web/auth"
)

func mustUser(t testing.TB, s *Store, name string, role auth.Role) auth.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), auth.User{Username: name, Role: role, PasswordHash: []byte("$2a$04$x"), PasswordChangedAt: time.Now()})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return u
}

func mustSession(t testing.TB, s *Store, userID int64, token string, now time.Time) auth.Session {
	t.Helper()
	ss, err := s.CreateSession(context.Background(), auth.Session{UserID: userID, CSRFToken: "csrf-" + token,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour)}, []byte(token))
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func TestUsersCreateAndFind(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	a := mustUser(t, s, "alice", auth.RoleAdmin)
	if a.ID == 0 || a.CreatedAt.IsZero() || a.Role != auth.RoleAdmin || string(a.PasswordHash) != "$2a$04$x" || a.Disabled {
		t.Fatalf("created %+v", a)
	}
	if _, err := s.CreateUser(ctx, auth.User{Username: "ALICE", Role: auth.RoleAgent, PasswordHash: []byte("h")}); !errors.Is(err, auth.ErrUsernameTaken) {
		t.Errorf("second ALICE: %v, want ErrUsernameTaken", err)
	}
	for _, name := range []string{"alice", "Alice"} {
		if got, err := s.UserByUsername(ctx, name); err != nil || got.ID != a.ID {
			t.Errorf("UserByUsername(%q) = %+v, %v", name, got, err)
		}
	}
	if _, err := s.UserByUsername(ctx, "bob"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := s.User(ctx, 999); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	mustUser(t, s, "bob", auth.RoleEditor)
	all, err := s.ListUsers(ctx)
	if err != nil || len(all) != 2 || all[0].Username != "alice" || all[1].Username != "bob" {
		t.Errorf("ListUsers = %+v, %v", all, err)
	}
}

func TestUpdateUserKeepsAnAdmin(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	// With no admin at all (the first user made was an editor), ordinary
	// changes still work.
	ed := mustUser(t, s, "ed", auth.RoleEditor)
	name := "Ed"
	if u, _, err := s.UpdateUser(ctx, ed.ID, auth.UserChange{DisplayName: &name}); err != nil || u.DisplayName != "Ed" {
		t.Fatalf("rename editor with no admin: %+v, %v", u, err)
	}
	a := mustUser(t, s, "alice", auth.RoleAdmin)
	yes, agent := true, auth.RoleAgent
	for _, ch := range []auth.UserChange{{Disabled: &yes}, {Role: &agent}} {
		_, _, err := s.UpdateUser(ctx, a.ID, ch)
		if !errors.Is(err, auth.ErrLastAdmin) {
			t.Errorf("change %+v of the last admin: %v, want ErrLastAdmin", ch, err)
		}
	}
	if got, _ := s.User(ctx, a.ID); got.Disabled || got.Role != auth.RoleAdmin {
		t.Fatalf("a refused change was applied: %+v", got)
	}
	if _, _, err := s.UpdateUser(ctx, 999, auth.UserChange{DisplayName: &name}); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}

	// Two admins demoting each other at once: exactly one succeeds.
	b := mustUser(t, s, "bob", auth.RoleAdmin)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []int64{a.ID, b.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.UpdateUser(ctx, id, auth.UserChange{Role: &agent})
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("concurrent demotions: %v and %v, want exactly one ErrLastAdmin", errs[0], errs[1])
	}
}

func TestUpdateUserEndsSessions(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	now := time.Now()
	a := mustUser(t, s, "alice", auth.RoleAdmin)
	b := mustUser(t, s, "bob", auth.RoleAgent)
	a1 := mustSession(t, s, a.ID, "a1", now)
	a2 := mustSession(t, s, a.ID, "a2", now)
	b1 := mustSession(t, s, b.ID, "b1", now)

	got, u, err := s.SessionByTokenHash(ctx, []byte("a1"))
	if err != nil || got.ID != a1.ID || u.ID != a.ID || got.CSRFToken != "csrf-a1" || !got.ExpiresAt.Equal(a1.ExpiresAt.Truncate(time.Microsecond)) {
		t.Fatalf("SessionByTokenHash = %+v %+v %v", got, u, err)
	}
	// A password change from session a1 keeps a1 and ends a2.
	_, ended, err := s.UpdateUser(ctx, a.ID, auth.UserChange{PasswordHash: []byte("new"), EndSessions: true, KeepSession: a1.ID})
	if err != nil || len(ended) != 1 || ended[0].ID != a2.ID || ended[0].UserID != a.ID {
		t.Fatalf("ended %+v, %v; want only session %d", ended, err, a2.ID)
	}
	if _, _, err := s.SessionByTokenHash(ctx, []byte("a2")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ended session still found: %v", err)
	}
	if _, _, err := s.SessionByTokenHash(ctx, []byte("a1")); err != nil {
		t.Errorf("kept session gone: %v", err)
	}
	// Disabling bob ends all his sessions, and nobody else's.
	yes := true
	if _, ended, err := s.UpdateUser(ctx, b.ID, auth.UserChange{Disabled: &yes, EndSessions: true}); err != nil || len(ended) != 1 || ended[0].ID != b1.ID {
		t.Fatalf("disable bob ended %+v, %v", ended, err)
	}
	if _, _, err := s.SessionByTokenHash(ctx, []byte("a1")); err != nil {
		t.Errorf("alice's session ended with bob's: %v", err)
	}
	// A refused change ends no session.
	if _, ended, err := s.UpdateUser(ctx, a.ID, auth.UserChange{Disabled: &yes, EndSessions: true}); !errors.Is(err, auth.ErrLastAdmin) || len(ended) != 0 {
		t.Fatalf("disabling the last admin: %+v, %v", ended, err)
	}
	if _, _, err := s.SessionByTokenHash(ctx, []byte("a1")); err != nil {
		t.Errorf("a refused change ended a session: %v", err)
	}
}

func TestLoginAttemptsLockout(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	a := mustUser(t, s, "alice", auth.RoleAdmin)
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	lockUntil := now.Add(15 * time.Minute)

	// Twenty guesses in parallel: only five get to check a password.
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			locked, err := s.CountLoginAttempt(ctx, a.ID, now, 5, lockUntil)
			if err != nil {
				t.Error(err)
			}
			if locked.IsZero() {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 5 {
		t.Fatalf("%d parallel attempts got through, want 5", allowed)
	}
	u, _ := s.User(ctx, a.ID)
	if !u.LockedUntil.Equal(lockUntil) {
		t.Errorf("locked until %v, want %v", u.LockedUntil, lockUntil)
	}
	// After the lock, a fresh count starts.
	after := lockUntil.Add(time.Second)
	for i := 1; i <= 5; i++ {
		if locked, err := s.CountLoginAttempt(ctx, a.ID, after, 5, after.Add(time.Hour)); err != nil || !locked.IsZero() {
			t.Fatalf("attempt %d after the lock: %v %v", i, locked, err)
		}
		locked, err := s.LoginFailed(ctx, a.ID, 5, after.Add(time.Hour))
		if err != nil || locked.IsZero() != (i < 5) {
			t.Fatalf("failure %d: locked %v, %v", i, locked, err)
		}
	}
	// A success resets the count.
	if err := s.LoginSucceeded(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.User(ctx, a.ID); u.FailedLogins != 0 || !u.LockedUntil.IsZero() || !u.LastLoginAt.Equal(now) {
		t.Errorf("after success: %+v", u)
	}
}

func TestDeleteExpiredSessions(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	a := mustUser(t, s, "alice", auth.RoleAdmin)
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	fresh := mustSession(t, s, a.ID, "fresh", now)
	idle := mustSession(t, s, a.ID, "idle", now.Add(-3*time.Hour))
	old, err := s.CreateSession(ctx, auth.Session{UserID: a.ID, CreatedAt: now.Add(-13 * time.Hour), LastSeenAt: now,
		ExpiresAt: now.Add(-time.Hour)}, []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	ended, err := s.DeleteExpiredSessions(ctx, now, now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, e := range ended {
		got[e.ID] = true
	}
	if len(ended) != 2 || !got[idle.ID] || !got[old.ID] {
		t.Errorf("ended %+v, want sessions %d and %d", ended, idle.ID, old.ID)
	}
	if _, _, err := s.SessionByTokenHash(ctx, []byte("fresh")); err != nil {
		t.Errorf("fresh session %d gone: %v", fresh.ID, err)
	}
	if ok, err := s.DeleteSession(ctx, fresh.ID); !ok || err != nil {
		t.Errorf("DeleteSession = %v, %v", ok, err)
	}
	if ok, _ := s.DeleteSession(ctx, fresh.ID); ok {
		t.Error("DeleteSession of a deleted session reported true")
	}
}

// TestSecondProcessWritesAccounts shows what `xiaoer user add` relies on: a
// second Store on the same file (as a separate process would open it)
// writes beside a Store that is busy writing, waiting for the lock instead
// of failing with SQLITE_BUSY.
func TestSecondProcessWritesAccounts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	server := mustOpen(t, path)
	cli := mustOpen(t, path)
	a := mustUser(t, server, "alice", auth.RoleAdmin)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			if err := server.TouchSession(ctx, int64(i), time.Now()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 20 {
		mustUser(t, cli, fmt.Sprintf("user%02d", i), auth.RoleAgent)
	}
	wg.Wait()
	if got, err := server.UserByUsername(ctx, "user19"); err != nil || got.ID <= a.ID {
		t.Errorf("the server does not see the other process's user: %+v %v", got, err)
	}
}
