package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot"
)

func TestReturnProposalsNeedConfirmation(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	propose := func(shopper string) bot.ReturnProposal {
		t.Helper()
		p, err := s.ProposeReturn(ctx, bot.ReturnProposal{ConversationID: "c_1", ShopperID: shopper, OrderID: "XE1000000001",
			Items: []bot.ReturnItem{{SKU: "A", Qty: 2}}, Reason: "too small", Status: bot.ReturnConfirmed, ReturnID: "r_forged"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	requests := func() int {
		t.Helper()
		rs, err := s.ReturnRequests(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}

	p := propose("alice")
	if p.Status != bot.ReturnProposed || p.ReturnID != "" || len(p.ID) < 4 || p.ID[:3] != "rp_" {
		t.Fatalf("proposal = %+v, want a fresh rp_ proposal whatever the caller set", p)
	}
	if n := requests(); n != 0 {
		t.Fatalf("%d return requests after a proposal, want none", n)
	}
	got, err := s.ReturnProposalOf(ctx, "alice", p.ID)
	if err != nil || got.OrderID != "XE1000000001" || len(got.Items) != 1 || got.Items[0] != (bot.ReturnItem{SKU: "A", Qty: 2}) || got.Reason != "too small" {
		t.Fatalf("ReturnProposalOf = %+v, %v", got, err)
	}

	lookups := []struct {
		name, shopper, id string
		other             bool
	}{
		{"another shopper's proposal", "bob", p.ID, true},
		{"no shopper", "", p.ID, true},
		{"a missing proposal", "alice", "rp_missing", false},
	}
	for _, tt := range lookups {
		_, err := s.ReturnProposalOf(ctx, tt.shopper, tt.id)
		if !errors.Is(err, bot.ErrNotFound) || errors.Is(err, bot.ErrOtherShopper) != tt.other {
			t.Errorf("ReturnProposalOf(%s) = %v, want not found (other shopper: %v)", tt.name, err, tt.other)
		}
		if _, _, err := s.ConfirmReturn(ctx, tt.shopper, tt.id); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("ConfirmReturn(%s) = %v, want not found", tt.name, err)
		}
		if _, err := s.CancelReturn(ctx, tt.shopper, tt.id); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("CancelReturn(%s) = %v, want not found", tt.name, err)
		}
	}

	// Concurrent confirmations (a double click on two tabs) submit one return.
	var wg sync.WaitGroup
	results := make(chan bot.ReturnProposal, 8)
	createdCount := make(chan bool, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, created, err := s.ConfirmReturn(ctx, "alice", p.ID)
			if err != nil {
				t.Error(err)
				return
			}
			results <- c
			createdCount <- created
		}()
	}
	wg.Wait()
	close(results)
	close(createdCount)
	var returnID string
	for c := range results {
		if returnID == "" {
			returnID = c.ReturnID
		}
		if c.ReturnID != returnID || c.Status != bot.ReturnConfirmed || len(c.ReturnID) < 3 || c.ReturnID[:2] != "r_" {
			t.Errorf("confirmation = %+v, want status confirmed and one r_ id for all", c)
		}
	}
	n := 0
	for c := range createdCount {
		if c {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d confirmations said created, want 1", n)
	}
	if n := requests(); n != 1 {
		t.Errorf("%d return requests after confirming twice, want 1", n)
	}
	if _, err := s.CancelReturn(ctx, "alice", p.ID); !errors.Is(err, bot.ErrConflict) {
		t.Errorf("cancelling a confirmed return = %v, want a conflict", err)
	}

	// Cancelled, then confirmed: refused, and nothing is submitted.
	q := propose("alice")
	for range 2 {
		c, err := s.CancelReturn(ctx, "alice", q.ID)
		if err != nil || c.Status != bot.ReturnCancelled || c.DecidedAt.IsZero() {
			t.Fatalf("cancel = %+v, %v", c, err)
		}
	}
	if _, _, err := s.ConfirmReturn(ctx, "alice", q.ID); !errors.Is(err, bot.ErrConflict) {
		t.Errorf("confirming a cancelled proposal = %v, want a conflict", err)
	}
	if n := requests(); n != 1 {
		t.Errorf("%d return requests, want still 1", n)
	}
}
