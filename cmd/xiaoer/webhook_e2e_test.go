package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
	"github.com/xiaoer-cs/xiaoer/bot/webhook"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

const testWebhookSecret = "whsec-test-0123456789abcdef"

// shopReceiver is the shop's webhook endpoint: it keeps the events whose
// signature verifies, and counts those that do not.
type shopReceiver struct {
	mu     sync.Mutex
	events []webhook.Event
	bad    int
}

func (rc *shopReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := webhook.Verify([]byte(testWebhookSecret), r.Header.Get(webhook.HeaderSignature), body, time.Minute); err != nil {
		rc.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e webhook.Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID != r.Header.Get(webhook.HeaderEventID) || e.Type != r.Header.Get(webhook.HeaderEvent) {
		rc.bad++
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	rc.events = append(rc.events, e)
}

// await returns the first event of type typ, polling until a deadline.
func (rc *shopReceiver) await(t *testing.T, typ string) webhook.Event {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rc.mu.Lock()
		for _, e := range rc.events {
			if e.Type == typ {
				rc.mu.Unlock()
				return e
			}
		}
		bad := rc.bad
		rc.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d deliveries failed verification", bad)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s webhook within 15 s", typ)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newShopReceiver(t *testing.T) (*shopReceiver, *httptest.Server) {
	rc := &shopReceiver{}
	hs := httptest.NewServer(rc)
	t.Cleanup(hs.Close)
	return rc, hs
}

// TestHandoffWebhook: a shopper asks for a person with nobody online; the
// shop gets a signed conversation.handed_off event with the ids it needs.
func TestHandoffWebhook(t *testing.T) {
	rc, hs := newShopReceiver(t)
	dir := t.TempDir()
	s := startServerEnv(t, dir, map[string]string{"XIAOER_WEBHOOK_SECRET": testWebhookSecret}, "--demo", "--webhook-url", hs.URL+"/hooks")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, dir, "demo-cn")})
	if err := c.Send(chatclient.NewClientID(), "转人工"); err != nil {
		t.Fatal(err)
	}
	until(t, c, func(f chatclient.Frame) bool { return f.Type == "handoff" })
	e := rc.await(t, "conversation.handed_off")
	var data struct {
		ConversationID string    `json:"conversation_id"`
		ShopperID      string    `json:"shopper_id"`
		Trigger        string    `json:"trigger"`
		CaseStatus     string    `json:"case_status"`
		At             time.Time `json:"at"`
	}
	if err := json.Unmarshal(e.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.ConversationID != c.Hello.Conversation || data.ShopperID != "demo-cn" || data.Trigger == "" ||
		data.CaseStatus != "missed" || data.At.IsZero() {
		t.Errorf("event data %s", e.Data)
	}
	if strings.Contains(string(e.Data), "13800") || strings.Contains(string(e.Data), "转人工") {
		t.Errorf("the event carries more than ids and facts: %s", e.Data)
	}
	if strings.Contains(s.Logs.String(), testWebhookSecret) {
		t.Error("the server logged the webhook secret")
	}
}

// TestReturnConfirmedWebhook: the shopper presses Confirm on a return
// card; the shop gets one signed return.confirmed event, however often
// the button is pressed.
func TestReturnConfirmedWebhook(t *testing.T) {
	rc, hs := newShopReceiver(t)
	model := llmtest.NewServer(t, shopScript)
	dir := t.TempDir()
	s := startServerEnv(t, dir, map[string]string{"XIAOER_WEBHOOK_SECRET": testWebhookSecret},
		"--demo", "--llm-url", model.URL, "--llm-model", "scripted", "--webhook-url", hs.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, dir, "demo-en")})
	r := ask(t, ctx, c, qReturn)
	if len(r.Cards) != 1 || r.Cards[0].ProposalID == "" {
		t.Fatalf("no return card: %s", r.Raw)
	}
	var returnID string
	for range 2 {
		if err := c.SendFrame(map[string]any{"type": "return_confirm", "proposal_id": r.Cards[0].ProposalID}); err != nil {
			t.Fatal(err)
		}
		f, _ := until(t, c, func(f chatclient.Frame) bool {
			return f.Type == "message" && len(f.Cards) == 1 && f.Cards[0].Status == "confirmed"
		})
		returnID = f.Cards[0].ReturnID
	}
	e := rc.await(t, "return.confirmed")
	var data struct {
		ReturnID  string `json:"return_id"`
		OrderID   string `json:"order_id"`
		ShopperID string `json:"shopper_id"`
		Items     []struct {
			SKU string `json:"sku"`
			Qty int    `json:"qty"`
		} `json:"items"`
		Reason      string    `json:"reason"`
		ConfirmedAt time.Time `json:"confirmed_at"`
	}
	if err := json.Unmarshal(e.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.ReturnID != returnID || data.OrderID != "XE2026051095" || data.ShopperID != "demo-en" || len(data.Items) != 1 ||
		data.Items[0].SKU != "SKU-AP-2001" || data.Reason != "too small" || data.ConfirmedAt.IsZero() {
		t.Errorf("event data %s, want return %s", e.Data, returnID)
	}
	// Confirming twice made one return, so one event. The dispatcher sends
	// events oldest first: once a later event (a handoff) has arrived, a
	// second return.confirmed, had there been one, would have too.
	if err := c.Send(chatclient.NewClientID(), "I want to talk to a human"); err != nil {
		t.Fatal(err)
	}
	rc.await(t, "conversation.handed_off")
	rc.mu.Lock()
	n := 0
	for _, got := range rc.events {
		if got.Type == "return.confirmed" {
			n++
		}
	}
	rc.mu.Unlock()
	if n != 1 {
		t.Errorf("%d return.confirmed events, want 1", n)
	}
}
