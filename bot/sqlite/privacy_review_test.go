package sqlite

// Reviewer's tests for the privacy features (issue 6). Each says what the
// shopper or the operator would notice.

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/llm"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// FAILS. A shopper who left a message for a person ("e-mail me at ...")
// downloads their data and the e-mail address (or phone number) they gave
// is nowhere in it: the ticket's text, contact and contact channel live only
// in handoff_cases, which ExportShopper never reads. "Download my data"
// must return everything stored about the shopper (RELIABILITY.md 29).
func TestReviewExportIncludesTheContactLeftWithATicket(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	c, err := s.OpenConversation(ctx, "s:alice", "alice", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: "my parcel is lost"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.OpenCase(ctx, handoff.Case{ConversationID: c.ID, ShopperID: "alice", Lang: "en", Trigger: bot.TriggerButton,
		Status: handoff.StatusTicket, RequestedAt: time.Now(),
		Ticket: &handoff.Ticket{Text: "please write back", ContactVia: "email", Contact: "alice.private@example.com"}}); err != nil {
		t.Fatal(err)
	}
	ex, err := s.ExportShopper(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ex)
	if !strings.Contains(string(b), "alice.private@example.com") {
		t.Errorf("the export lacks the e-mail address alice left with her ticket:\n%s", b)
	}
}

// FAILS. After "delete my data" the shop syncs the shopper again
// (PutShopper, as docs/privacy.md describes) and the shopper turns
// personalised replies on: the bot now uses a profile with their name,
// phone and address, but "download my data" shows no profile at all,
// because ExportShopper skips the profile whenever erased_at is set.
func TestReviewExportAfterReimportShowsTheNewProfile(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	privacyShop(t, s)
	if _, err := s.EraseShopper(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.PutShopper(ctx, bot.Shopper{ID: "alice", Name: "Alice Again", Lang: "en", Phone: "13900001111", Address: "1 New Road"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetConsent(ctx, "alice", bot.ConsentPersonalize, true, "widget"); err != nil {
		t.Fatal(err)
	}
	sh, err := s.Shopper(ctx, "alice")
	if err != nil || sh.Name != "Alice Again" || !sh.Personalize {
		t.Fatalf("the bot's view of alice = %+v, %v", sh, err)
	}
	ex, err := s.ExportShopper(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Profile == nil || ex.Profile.Name != "Alice Again" || ex.Profile.Phone != "13900001111" {
		t.Errorf("export profile = %+v, want the profile the bot uses (Alice Again, 13900001111)", ex.Profile)
	}
}

// FAILS. A shopper turns personalised replies on in the widget; the next
// time the shop syncs their profile (PutShopper/PutShop, which carries
// Personalize=false unless the shop knows better) the switch is silently
// off again, and the consent history, which "is never rewritten", still
// says the last choice was "on": the switch and the history disagree. The
// other way round, a shop import with Personalize=true turns
// personalisation on with no consent row at all (PIPL Art. 24 needs the
// shopper's own choice, recorded).
func TestReviewShopSyncDoesNotOverrideTheShoppersConsent(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	if err := s.PutShopper(ctx, bot.Shopper{ID: "alice", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetConsent(ctx, "alice", bot.ConsentPersonalize, true, "widget"); err != nil {
		t.Fatal(err)
	}
	// The shop updates alice's name.
	if err := s.PutShopper(ctx, bot.Shopper{ID: "alice", Name: "Alice Li"}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Consents(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	last := st.History[len(st.History)-1]
	if st.Personalize != last.Granted {
		t.Errorf("after a shop sync personalize = %v but the last recorded choice is granted=%v (%s)", st.Personalize, last.Granted, last.Source)
	}

	// A shopper who never chose gets personalisation from the shop alone.
	if err := s.PutShopper(ctx, bot.Shopper{ID: "bob", Name: "Bob", Personalize: true}); err != nil {
		t.Fatal(err)
	}
	st, err = s.Consents(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if st.Personalize && len(st.History) == 0 {
		t.Errorf("bob's personalisation is on with no consent recorded: %+v", st)
	}
}

// FAILS. The per-shopper daily token budget (RELIABILITY.md 24) is kept in
// llm_usage_owner_day, which "delete my data" deletes. A verified shopper
// who has used up today's budget presses "delete my data" and gets a fresh
// budget at once; repeated, the budget does not exist. The count is not
// conversation content and can be kept under the (anonymised) shopper id
// until the day is over.
func TestReviewEraseDoesNotResetTodaysTokenBudget(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	c, err := s.OpenConversation(ctx, "s:alice", "alice", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	const day = "2025-03-01"
	if _, err := s.AddUsage(ctx, c.ID, day, llm.Usage{PromptTokens: 90000, CompletionTokens: 10000}, 1); err != nil {
		t.Fatal(err)
	}
	before, err := s.UsageOf(ctx, c.ID, day)
	if err != nil || before.OwnerToday != 100000 {
		t.Fatalf("usage before = %+v, %v", before, err)
	}
	if _, err := s.EraseShopper(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	fresh, err := s.OpenConversation(ctx, "s:alice", "alice", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.UsageOf(ctx, fresh.ID, day)
	if err != nil {
		t.Fatal(err)
	}
	if after.OwnerToday < before.OwnerToday {
		t.Errorf("after erasure alice's tokens today = %d, was %d: the daily budget starts again", after.OwnerToday, before.OwnerToday)
	}
}

// FAILS. The retention job deletes a conversation idle for longer than the
// period, but the return the bot proposed in it (never confirmed, with the
// shopper's reason in their words) stays: it is still in the shopper's
// export, pointing at a conversation that no longer exists, and it is never
// deleted by any later pass. Likewise the shopper's per-day model-use rows
// (llm_usage_owner_day, keyed by 's:<id>') of those old days stay forever.
func TestReviewRetentionLeavesNoRowsOfDeletedConversations(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.OpenConversation(ctx, "s:alice", "alice", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: "return my shoes"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ProposeReturn(ctx, bot.ReturnProposal{ConversationID: c.ID, ShopperID: "alice", OrderID: "ORD-1",
		Items: []bot.ReturnItem{{SKU: "SKU-1", Qty: 1}}, Reason: "they hurt my left foot"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUsage(ctx, c.ID, "2025-01-01", llm.Usage{PromptTokens: 10, CompletionTokens: 5}, 0.01); err != nil {
		t.Fatal(err)
	}
	now = now.AddDate(0, 0, 200)
	ids, err := s.DeleteIdleConversations(ctx, now.AddDate(0, 0, -180))
	if err != nil || len(ids) != 1 {
		t.Fatalf("deleted %v, %v; want alice's old conversation", ids, err)
	}
	var proposals, ownerDays int
	s.read.QueryRow(`SELECT COUNT(*) FROM return_proposals WHERE conversation_id = ?`, c.ID).Scan(&proposals)
	s.read.QueryRow(`SELECT COUNT(*) FROM llm_usage_owner_day WHERE owner = 's:alice' AND day = '2025-01-01'`).Scan(&ownerDays)
	if proposals != 0 {
		t.Errorf("%d unconfirmed return proposals of the deleted conversation left", proposals)
	}
	if ownerDays != 0 {
		t.Errorf("%d per-day model-use rows of alice from the deleted period left", ownerDays)
	}
	ex, err := s.ExportShopper(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ex.ReturnProposals {
		if p.ConversationID == c.ID {
			t.Errorf("alice's export still holds proposal %s of the deleted conversation (reason %q)", p.ID, p.Reason)
		}
	}
}

// FAILS. A shopper writes their name and street address in a question the
// bot cannot answer; the knowledge-gap list (admin KB page) stores the
// question as its example, masking only e-mail addresses and long numbers.
// After "delete my data" the example is still there for every KB editor to
// read: an API read path still returns the erased shopper's words (and the
// retention job never removes it either). Gaps carry no link to the
// conversation, so erasure cannot find them.
func TestReviewEraseRemovesTheShoppersQuestionsFromKnowledgeGaps(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	c, err := s.OpenConversation(ctx, "s:alice", "alice", "", "zh")
	if err != nil {
		t.Fatal(err)
	}
	q := "我是王小丽，住北京市朝阳区建国路88号3单元，你们的发票怎么开"
	if _, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: c.ID, Role: bot.RoleShopper, Text: q}); err != nil {
		t.Fatal(err)
	}
	// What knowledge.Base.RecordGap stores for an unanswered question.
	if err := s.RecordGap(ctx, knowledge.NormalizeQuestion(q), knowledge.MaskPersonal(q),
		knowledge.GapEvent{Question: q, Locale: "zh-CN", Reason: knowledge.GapUnanswered, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EraseShopper(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	gaps, err := s.Gaps(ctx, knowledge.GapFilter{Status: knowledge.StatusAll, Limit: 50})
	if err != nil || len(gaps) != 1 {
		t.Fatalf("gaps = %+v, %v; want the one recorded", gaps, err)
	}
	for _, g := range gaps {
		if strings.Contains(g.Example, "建国路") || strings.Contains(g.Text, "建国路") || strings.Contains(g.Example, "王小丽") {
			t.Errorf("after erasure the KB gaps still show alice's name and address: text %q, example %q", g.Text, g.Example)
		}
	}
}
