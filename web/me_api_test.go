package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

type meEnv struct {
	hs     *httptest.Server
	store  *sqlite.Store
	desk   *handoff.Desk
	signer *shoptoken.Signer
}

func newMeEnv(t *testing.T) *meEnv {
	t.Helper()
	return newMeEnvConfig(t, Config{AllowedOrigins: []string{"https://shop.example"}})
}

func newMeEnvConfig(t *testing.T, cfg Config) *meEnv {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	signer, err := shoptoken.NewSigner([]byte("0123456789abcdef0123"), nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := NewHub()
	desk := handoff.NewDesk(handoff.Config{Routing: handoff.RoutingClaim}, handoff.Deps{Store: store, Publish: hub, Notify: hub}, log)
	srv := NewServer(cfg, Deps{Chat: store, Shoppers: store, Bot: &turnRecorder{},
		KB: noSearch{}, Hub: hub, Tokens: signer, Desk: desk, Privacy: store, Ready: store.Ping}, log)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Shutdown(context.Background())
	})
	return &meEnv{hs: hs, store: store, desk: desk, signer: signer}
}

func (e *meEnv) token(t *testing.T, shopper string) string {
	t.Helper()
	tok, err := e.signer.Sign(shopper, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request with the token (none when empty) and returns the
// response and its body.
func (e *meEnv) do(t *testing.T, method, path, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.hs.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func errorCode(b []byte) string {
	var e apiError
	json.Unmarshal(b, &e)
	return e.Error.Code
}

func TestMeAPINeedsAShopperToken(t *testing.T) {
	e := newMeEnv(t)
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/me/consent"}, {"PUT", "/api/v1/me/consent"}, {"GET", "/api/v1/me/data"}, {"DELETE", "/api/v1/me/data"},
	} {
		resp, b := e.do(t, r.method, r.path, "", `{"personalize":true,"confirm":true}`)
		if resp.StatusCode != http.StatusUnauthorized || errorCode(b) != "shopper_required" {
			t.Errorf("%s %s without a token: %d %s, want 401 shopper_required", r.method, r.path, resp.StatusCode, b)
		}
		resp, b = e.do(t, r.method, r.path, "forged.token", `{"personalize":true,"confirm":true}`)
		if resp.StatusCode != http.StatusUnauthorized || errorCode(b) != "invalid_token" {
			t.Errorf("%s %s with a forged token: %d %s, want 401 invalid_token", r.method, r.path, resp.StatusCode, b)
		}
	}
}

func TestMeConsentRoundTrip(t *testing.T) {
	e := newMeEnv(t)
	tok := e.token(t, "alice")
	var st bot.ConsentState
	resp, b := e.do(t, "GET", "/api/v1/me/consent", tok, "")
	if json.Unmarshal(b, &st); resp.StatusCode != 200 || st.Personalize {
		t.Fatalf("first GET: %d %s, want personalisation off", resp.StatusCode, b)
	}
	if resp, b := e.do(t, "PUT", "/api/v1/me/consent", tok, `{}`); resp.StatusCode != 400 {
		t.Errorf("PUT without a value: %d %s, want 400", resp.StatusCode, b)
	}
	resp, b = e.do(t, "PUT", "/api/v1/me/consent", tok, `{"personalize":true,"source":"widget"}`)
	if json.Unmarshal(b, &st); resp.StatusCode != 200 || !st.Personalize || len(st.History) != 1 || st.History[0].Source != "widget" {
		t.Fatalf("PUT on: %d %s", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", "/api/v1/me/consent", tok, "")
	if json.Unmarshal(b, &st); !st.Personalize {
		t.Fatalf("GET after on: %s", b)
	}
	if sh, err := e.store.Shopper(context.Background(), "alice"); err != nil || !sh.Personalize {
		t.Errorf("profile after on: %+v, %v", sh, err)
	}
	// Another shopper's choice is their own.
	resp, b = e.do(t, "GET", "/api/v1/me/consent", e.token(t, "bob"), "")
	if json.Unmarshal(b, &st); st.Personalize || len(st.History) != 0 {
		t.Errorf("bob sees %s", b)
	}
}

func TestMeExportAndErase(t *testing.T) {
	e := newMeEnv(t)
	ctx := context.Background()
	tok := e.token(t, "alice")
	conv, err := e.store.OpenConversation(ctx, "s:alice", "alice", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.AppendMessage(ctx, bot.Message{ConversationID: conv.ID, Role: bot.RoleShopper, Text: "where is my parcel"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.AppendMessage(ctx, bot.Message{ConversationID: conv.ID, Role: bot.RoleBot, Text: "on its way"}); err != nil {
		t.Fatal(err)
	}
	// Nobody is there: the shopper leaves a message, a ticket on the board.
	if _, err := e.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv.ID, Trigger: bot.TriggerButton, Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.desk.LeaveMessage(ctx, conv.ID, bot.LeftMessage{Text: "call me", ContactVia: "chat"}); err != nil {
		t.Fatal(err)
	}

	resp, b := e.do(t, "GET", "/api/v1/me/data", tok, "")
	if resp.StatusCode != 200 {
		t.Fatalf("export: %d %s", resp.StatusCode, b)
	}
	if cd := resp.Header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="xiaoer-data-\d{4}-\d{2}-\d{2}\.json"$`).MatchString(cd) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	var ex bot.DataExport
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.ShopperID != "alice" || len(ex.Conversations) != 1 || len(ex.Conversations[0].Messages) < 2 ||
		ex.Conversations[0].Messages[1].Label != "AI assistant" || len(ex.DataRequests) != 1 {
		t.Fatalf("export = %s", b)
	}

	// A stray DELETE erases nothing.
	for _, body := range []string{"", `{}`, `{"confirm":false}`, `not json`} {
		if resp, b := e.do(t, "DELETE", "/api/v1/me/data", tok, body); resp.StatusCode != 400 || errorCode(b) != "confirmation_required" {
			t.Errorf("DELETE with %q: %d %s, want 400 confirmation_required", body, resp.StatusCode, b)
		}
	}
	if _, err := e.store.Conversation(ctx, conv.ID); err != nil {
		t.Fatalf("an unconfirmed DELETE erased the conversation: %v", err)
	}
	board := func() int {
		b, err := e.desk.Board(ctx, handoff.Staff{ID: 1, Admin: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(b.Queue) + len(b.Tickets)
	}
	if board() != 1 {
		t.Fatalf("before erasure the board has %d cases, want 1", board())
	}

	resp, b = e.do(t, "DELETE", "/api/v1/me/data", tok, `{"confirm":true}`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"erased":true`) {
		t.Fatalf("erase: %d %s", resp.StatusCode, b)
	}
	if n := board(); n != 0 {
		t.Errorf("after erasure the board has %d cases, want none", n)
	}
	resp, b = e.do(t, "GET", "/api/v1/me/data", tok, "")
	ex = bot.DataExport{}
	if json.Unmarshal(b, &ex); resp.StatusCode != 200 || ex.ErasedAt.IsZero() || len(ex.Conversations) != 0 || ex.Profile != nil {
		t.Errorf("export after erasure: %d %s", resp.StatusCode, b)
	}
}

func TestMeAPICORS(t *testing.T) {
	e := newMeEnv(t)
	req, _ := http.NewRequest("OPTIONS", e.hs.URL+"/api/v1/me/data", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "DELETE")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from the shop: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest("GET", e.hs.URL+"/api/v1/me/consent", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Authorization", "Bearer "+e.token(t, "alice"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET from a foreign origin: %d, want 403", resp.StatusCode)
	}
}

func TestMeAPIBodyLimit(t *testing.T) {
	e := newMeEnv(t)
	ctx := context.Background()
	tok := e.token(t, "alice")
	conv, err := e.store.OpenConversation(ctx, "s:alice", "alice", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 5<<10)
	for _, tt := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/me/consent", `{"personalize":true,"source":"` + pad + `"}`},
		{"DELETE", "/api/v1/me/data", `{"confirm":true,"why":"` + pad + `"}`},
	} {
		if resp, b := e.do(t, tt.method, tt.path, tok, tt.body); resp.StatusCode != http.StatusRequestEntityTooLarge || errorCode(b) != "too_large" {
			t.Errorf("%s %s with a 5 KiB body: %d %s, want 413 too_large", tt.method, tt.path, resp.StatusCode, b)
		}
	}
	if sh, err := e.store.Shopper(ctx, "alice"); err == nil && sh.Personalize {
		t.Error("an oversized consent body turned personalisation on")
	}
	if _, err := e.store.Conversation(ctx, conv.ID); err != nil {
		t.Errorf("an oversized erase body erased the conversation: %v", err)
	}
}

// TestAuditRecordsTheForwardedAddress: behind the shop's proxy
// (TrustForwardedFor) the audit log records where the shopper's export
// came from, the address the proxy appended, not the proxy's; without it,
// a forged header changes nothing.
func TestAuditRecordsTheForwardedAddress(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprint("trust=", trust), func(t *testing.T) {
			e := newMeEnvConfig(t, Config{AllowedOrigins: []string{"https://shop.example"}, TrustForwardedFor: trust})
			req, _ := http.NewRequest("GET", e.hs.URL+"/api/v1/me/data", nil)
			req.Header.Set("Authorization", "Bearer "+e.token(t, "alice"))
			req.Header.Set("X-Forwarded-For", "192.0.2.1, 198.51.100.9")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("export: %d", resp.StatusCode)
			}
			log, err := e.store.AuditLog(context.Background(), 10)
			if err != nil {
				t.Fatal(err)
			}
			want := map[bool]string{false: "127.0.0.1", true: "198.51.100.9"}[trust]
			if len(log) != 1 || log[0].IP != want {
				t.Fatalf("audit log %+v, want one entry from %s", log, want)
			}
		})
	}
}
