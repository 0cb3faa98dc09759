package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/llm"
	"github.com/xiaoer-cs/xiaoer/handoff"
)

// privacyShop stores two shoppers, each with an order, a conversation with
// a bot and an agent message, feedback, a rating, a confirmed return, a
// handoff case with a note, and model use.
func privacyShop(t *testing.T, s *Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	placed := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	convs := map[string]string{}
	for _, id := range []string{"alice", "bob"} {
		upper := strings.ToUpper(id)
		if err := s.PutShopper(ctx, bot.Shopper{ID: id, Name: upper + " Name", Lang: "en", Phone: "1380000" + id, Interests: []string{id + "-hobby"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutOrder(ctx, bot.Order{ID: "ORD-" + upper, ShopperID: id, Status: bot.StatusDelivered, PlacedAt: placed,
			Items: []bot.OrderItem{{SKU: "SKU-" + upper, NameEN: id + " shoes", Qty: 1, PriceCents: 100}}}); err != nil {
			t.Fatal(err)
		}
		c, err := s.OpenConversation(ctx, "s:"+id, id, "", "en")
		if err != nil {
			t.Fatal(err)
		}
		convs[id] = c.ID
		if _, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: id + " asks about ORD-" + upper, ClientID: "q1"}); err != nil {
			t.Fatal(err)
		}
		reply, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleBot, Text: "bot answers " + id, ReplyTo: "q1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleAgent, Text: "agent answers " + id, AgentName: "Li"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveFeedback(ctx, c.ID, reply.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveRating(ctx, c.ID, 5, id+" liked it"); err != nil {
			t.Fatal(err)
		}
		p, err := s.ProposeReturn(ctx, bot.ReturnProposal{ConversationID: c.ID, ShopperID: id, OrderID: "ORD-" + upper,
			Items: []bot.ReturnItem{{SKU: "SKU-" + upper, Qty: 1}}, Reason: id + " too small"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ConfirmReturn(ctx, id, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ProposeReturn(ctx, bot.ReturnProposal{ConversationID: c.ID, ShopperID: id, OrderID: "ORD-" + upper,
			Items: []bot.ReturnItem{{SKU: "SKU-" + upper, Qty: 1}}, Reason: id + " unconfirmed"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.OpenCase(ctx, handoff.Case{ConversationID: c.ID, ShopperID: id, Lang: "en", Trigger: "shopper_asked",
			Status: handoff.StatusQueued, RequestedAt: placed}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddNote(ctx, handoff.Note{ConversationID: c.ID, AgentID: 1, AgentName: "Li", Text: "note on " + id}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddUsage(ctx, c.ID, "2025-03-01", llm.Usage{PromptTokens: 10, CompletionTokens: 5}, 0.01); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetConsent(ctx, id, bot.ConsentPersonalize, true, "widget"); err != nil {
			t.Fatal(err)
		}
		if err := s.Audit(ctx, handoff.AuditEntry{Actor: "li", Role: "agent", Action: "reveal", ShopperID: id,
			Fields: []string{"phone"}, ConversationID: c.ID}); err != nil {
			t.Fatal(err)
		}
	}
	return convs
}

func TestConsentIsOffUntilTurnedOnAndKeepsHistory(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	st, err := s.Consents(ctx, "carol")
	if err != nil || st.Personalize || len(st.History) != 0 {
		t.Fatalf("unknown shopper: %+v, %v; want off with no history", st, err)
	}
	if err := s.PutShopper(ctx, bot.Shopper{ID: "carol", Name: "Carol"}); err != nil {
		t.Fatal(err)
	}
	if sh, _ := s.Shopper(ctx, "carol"); sh.Personalize {
		t.Fatal("a new shopper has personalisation on")
	}
	// A shopper known only from their token gets a profile on first choice.
	for _, id := range []string{"carol", "dave"} {
		if _, err := s.SetConsent(ctx, id, bot.ConsentPersonalize, true, "widget"); err != nil {
			t.Fatal(err)
		}
		st, err = s.SetConsent(ctx, id, bot.ConsentPersonalize, false, "widget")
		if err != nil {
			t.Fatal(err)
		}
		if st.Personalize || len(st.History) != 2 || !st.History[0].Granted || st.History[1].Granted || st.History[1].Source != "widget" {
			t.Fatalf("%s after on, off: %+v", id, st)
		}
		if _, err := s.SetConsent(ctx, id, bot.ConsentPersonalize, true, "api"); err != nil {
			t.Fatal(err)
		}
		sh, err := s.Shopper(ctx, id)
		if err != nil || !sh.Personalize {
			t.Fatalf("%s: profile personalize = %v, %v; want true", id, sh.Personalize, err)
		}
	}
}

func TestExportHoldsOnlyThatShopper(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	convs := privacyShop(t, s)
	ex, err := s.ExportShopper(ctx, "alice", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Format != bot.ExportFormat || ex.Profile == nil || ex.Profile.Name != "ALICE Name" || !ex.Profile.Personalize {
		t.Fatalf("profile = %+v", ex.Profile)
	}
	if len(ex.Consents) != 1 || len(ex.Orders) != 1 || ex.Orders[0].ID != "ORD-ALICE" ||
		len(ex.ReturnProposals) != 2 || len(ex.ReturnRequests) != 1 || len(ex.Conversations) != 1 {
		t.Fatalf("export counts: consents %d, orders %d, proposals %d, requests %d, conversations %d",
			len(ex.Consents), len(ex.Orders), len(ex.ReturnProposals), len(ex.ReturnRequests), len(ex.Conversations))
	}
	c := ex.Conversations[0]
	if c.ID != convs["alice"] || c.Rating == nil || c.Rating.Score != 5 || len(c.Messages) != 3 {
		t.Fatalf("conversation = %+v", c)
	}
	labels := []string{c.Messages[0].Label, c.Messages[1].Label, c.Messages[2].Label}
	if labels[0] != "You" || labels[1] != "AI assistant" || labels[2] != "Human agent: Li" || c.Messages[1].LabelZH != "AI 助手" {
		t.Errorf("labels = %q, %q", labels, c.Messages[1].LabelZH)
	}
	if c.Messages[1].Helpful == nil || !*c.Messages[1].Helpful {
		t.Errorf("feedback missing from the bot message: %+v", c.Messages[1])
	}
	if len(ex.DataRequests) != 1 || ex.DataRequests[0].Kind != bot.DataRequestExport ||
		!ex.DataRequests[0].DueAt.Equal(ex.DataRequests[0].RequestedAt.AddDate(0, 1, 0)) {
		t.Errorf("data requests = %+v, want this export with a due date a month on", ex.DataRequests)
	}
	if len(ex.Access) != 2 || ex.Access[0].Action != "reveal" || ex.Access[1].Action != "export" || ex.Access[1].Role != "shopper" {
		t.Errorf("access = %+v, want the agent's reveal and this export", ex.Access)
	}
	b, _ := json.Marshal(ex)
	for _, leak := range []string{"bob", "BOB", convs["bob"]} {
		if strings.Contains(string(b), leak) {
			t.Errorf("alice's export contains %q", leak)
		}
	}
}

func TestEraseLeavesOnlyStorageOnlyRecords(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	convs := privacyShop(t, s)
	e, err := s.EraseShopper(ctx, "alice", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Conversations) != 1 || e.Conversations[0] != convs["alice"] || e.StorageOnly != 2 ||
		e.Request.LLMVendorDeletion != bot.VendorDeletionNeeded || e.Request.CompletedAt.IsZero() {
		t.Fatalf("erasure = %+v", e)
	}

	ex, err := s.ExportShopper(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if ex.ErasedAt.IsZero() || ex.Profile != nil || len(ex.Consents) != 0 || len(ex.Conversations) != 0 || len(ex.Orders) != 0 ||
		len(ex.ReturnProposals) != 0 || len(ex.ReturnRequests) != 0 {
		t.Fatalf("export after erasure = %+v, want only the erasure", ex)
	}
	if len(ex.DataRequests) != 2 || ex.DataRequests[0].Kind != bot.DataRequestErase {
		t.Errorf("data requests = %+v, want the erasure then this export", ex.DataRequests)
	}

	// No read path returns what is kept.
	if _, err := s.OrderOf(ctx, "alice", "ORD-ALICE"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("OrderOf after erasure: %v, want not found", err)
	}
	if orders, err := s.RecentOrders(ctx, "alice", 10); err != nil || len(orders) != 0 {
		t.Errorf("RecentOrders after erasure: %v, %v", orders, err)
	}
	if rs, err := s.ReturnRequests(ctx, "alice"); err != nil || len(rs) != 0 {
		t.Errorf("ReturnRequests after erasure: %v, %v", rs, err)
	}
	if _, err := s.Conversation(ctx, convs["alice"]); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("conversation after erasure: %v", err)
	}
	if cases, err := s.Cases(ctx, handoff.StatusQueued); err != nil || len(cases) != 1 || cases[0].ShopperID != "bob" {
		t.Errorf("queued cases after erasure = %+v, %v; want bob's only", cases, err)
	}
	sh, err := s.Shopper(ctx, "alice")
	if err != nil || sh.Name != "" || sh.Phone != "" || sh.Personalize || len(sh.Interests) != 0 {
		t.Errorf("shopper after erasure = %+v, %v", sh, err)
	}
	if st, _ := s.Consents(ctx, "alice"); st.Personalize || len(st.History) != 0 {
		t.Errorf("consents after erasure = %+v", st)
	}
	// The shop sending the order again does not bring it back.
	if err := s.PutOrder(ctx, bot.Order{ID: "ORD-ALICE", ShopperID: "alice", Status: bot.StatusDelivered,
		PlacedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OrderOf(ctx, "alice", "ORD-ALICE"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("OrderOf after the order was sent again: %v, want not found", err)
	}
	// Nor does it rebuild a profile of how she buys from the hidden order.
	var features int
	s.read.QueryRow(`SELECT COUNT(*) FROM shopper_features WHERE shopper_id = 'alice'`).Scan(&features)
	if n, err := s.RefreshFeatures(ctx, time.Now()); err != nil || n == 0 {
		t.Errorf("RefreshFeatures = %d, %v", n, err)
	}
	s.read.QueryRow(`SELECT COUNT(*) + ? FROM shopper_features WHERE shopper_id = 'alice'`, features).Scan(&features)
	if features != 0 {
		t.Errorf("an erased shopper has features again after the order was sent again (%d rows)", features)
	}
	// But the rows are kept, flagged.
	var kept int
	s.read.QueryRow(`SELECT (SELECT COUNT(*) FROM orders WHERE shopper_id = 'alice' AND storage_only = 1) +
		(SELECT COUNT(*) FROM return_requests WHERE shopper_id = 'alice' AND storage_only = 1)`).Scan(&kept)
	if kept != 2 {
		t.Errorf("%d storage-only rows kept, want 2 (order, return request)", kept)
	}
	var left int
	s.read.QueryRow(`SELECT (SELECT COUNT(*) FROM messages WHERE conversation_id = ?) + (SELECT COUNT(*) FROM handoff_notes WHERE conversation_id = ?)
		+ (SELECT COUNT(*) FROM llm_usage WHERE conversation_id = ?) + (SELECT COUNT(*) FROM ratings WHERE conversation_id = ?)`,
		convs["alice"], convs["alice"], convs["alice"], convs["alice"]).Scan(&left)
	if left != 0 {
		t.Errorf("%d rows of alice's conversation left", left)
	}
	// Her daily token totals stay (counts, not content; the retention job
	// deletes them), so an erasure does not reset her daily budget.
	var ownerDays int
	s.read.QueryRow(`SELECT COUNT(*) FROM llm_usage_owner_day WHERE owner = 's:alice'`).Scan(&ownerDays)
	if ownerDays == 0 {
		t.Error("the erasure deleted alice's daily token totals: her daily budget starts again")
	}

	// Bob is untouched.
	bex, err := s.ExportShopper(ctx, "bob", "")
	if err != nil || bex.Profile == nil || len(bex.Conversations) != 1 || len(bex.Orders) != 1 || len(bex.ReturnRequests) != 1 {
		t.Fatalf("bob's export after alice's erasure = %+v, %v", bex, err)
	}

	// The audit rows stay, and cannot be changed.
	log, err := s.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range log {
		if a.ShopperID == "alice" && a.Role == "shopper" {
			actions = append(actions, a.Action)
		}
	}
	if strings.Join(actions, ",") != "export,erase" {
		t.Errorf("alice's own audit rows = %v, want export,erase (newest first)", actions)
	}
	if _, err := s.write.Exec(`UPDATE audit_log SET actor = 'x' WHERE shopper_id = 'alice'`); err == nil {
		t.Error("an audit row was updated")
	}
	if _, err := s.write.Exec(`DELETE FROM audit_log WHERE shopper_id = 'alice'`); err == nil {
		t.Error("an audit row was deleted")
	}
}

func TestDeleteIdleConversations(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	open := func(owner string) string {
		c, err := s.OpenConversation(ctx, owner, "", "", "en")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	old, oldHandoff := open("v:old-visitor"), open("v:old-waiting")
	if _, _, err := s.OpenCase(ctx, handoff.Case{ConversationID: oldHandoff, Lang: "en", Trigger: "shopper_asked",
		Status: handoff.StatusQueued, RequestedAt: now}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(100 * 24 * time.Hour)
	young := open("v:young-visitor")
	ids, err := s.DeleteIdleConversations(ctx, now.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != old {
		t.Fatalf("deleted %v, want only %s", ids, old)
	}
	for _, id := range []string{young, oldHandoff} {
		if _, err := s.Conversation(ctx, id); err != nil {
			t.Errorf("conversation %s: %v, want kept", id, err)
		}
	}
}
