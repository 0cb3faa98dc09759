package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// consoleEnv is a server with the console API and /ws/agent over a real
// SQLite store, a real desk and real staff accounts: root (admin), agnes
// and bruno (agents), alice (editor). Passwords are username + "-password-1".
type consoleEnv struct {
	hs    *httptest.Server
	srv   *Server
	hub   *Hub
	store *sqlite.Store
	desk  *handoff.Desk
	staff *auth.Service
	users map[string]auth.User
}

func newConsoleEnv(t *testing.T, cfg Config) *consoleEnv {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &consoleEnv{store: store, hub: NewHub(), users: map[string]auth.User{}}
	// The server is made after auth, as in serve.go.
	var endSession func(int64)
	e.staff, err = auth.New(auth.Config{BcryptCost: 4, OnSessionEnd: func(se auth.SessionEnd) {
		if endSession != nil {
			endSession(se.SessionID)
		}
	}}, store, store, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []auth.NewUser{
		{Username: "root", Password: "root-password-1", Role: auth.RoleAdmin},
		{Username: "agnes", Password: "agnes-password-1", Role: auth.RoleAgent, DisplayName: "Agnes"},
		{Username: "bruno", Password: "bruno-password-1", Role: auth.RoleAgent},
		{Username: "alice", Password: "alice-password-1", Role: auth.RoleEditor},
	} {
		got, err := e.staff.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		e.users[u.Username] = got
	}
	e.desk = handoff.NewDesk(handoff.Config{Routing: handoff.RoutingClaim}, handoff.Deps{Store: store, Publish: e.hub, Notify: e.hub, Drafter: fakeDrafter{}}, log)
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.desk.Run(dctx)
	}()
	e.srv = NewServer(cfg, Deps{Chat: store, Shoppers: store, Bot: &turnRecorder{}, KB: noSearch{}, Hub: e.hub,
		Ready: store.Ping, Auth: e.staff, Desk: e.desk, Audit: store}, log)
	endSession = e.srv.EndSession
	e.hs = httptest.NewServer(e.srv)
	t.Cleanup(func() {
		e.hs.Close()
		e.srv.Shutdown(context.Background())
		stop()
		<-done
	})
	return e
}

// fakeDrafter drafts the same reply whatever the conversation.
type fakeDrafter struct{}

func (fakeDrafter) DraftReply(context.Context, string, string, []bot.Reference) (string, error) {
	return "A drafted reply.", nil
}

func (e *consoleEnv) login(t *testing.T, username string) *staffClient {
	t.Helper()
	return (&adminEnv{hs: e.hs}).login(t, username)
}

func (e *consoleEnv) me(username string) handoff.Staff { return staffOf(e.users[username], "") }

// assignedTo opens a visitor's conversation, asks for a person and has
// the agent claim it; it returns the conversation's id.
func (e *consoleEnv) assignedTo(t *testing.T, visitor, agent string) string {
	t.Helper()
	id := e.queued(t, visitor, agent)
	if _, err := e.desk.Claim(context.Background(), e.me(agent), id); err != nil {
		t.Fatalf("claim as %s: %v", agent, err)
	}
	return id
}

// queued opens a visitor's conversation and asks for a person while the
// agent's console is connected (so that someone can take it); the case waits in the queue.
func (e *consoleEnv) queued(t *testing.T, visitor, agent string) string {
	t.Helper()
	ctx := context.Background()
	conv, err := e.store.OpenConversation(ctx, "v:"+visitor, "", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	e.desk.Connect(e.users[agent].ID)
	t.Cleanup(func() { e.desk.Disconnect(e.users[agent].ID) })
	st, err := e.desk.Request(ctx, bot.HandoffRequest{ConversationID: conv.ID, Trigger: bot.TriggerButton, Lang: "en"})
	if err != nil {
		t.Fatalf("request a person: %v", err)
	}
	if st.Status != handoff.StatusQueued {
		t.Fatalf("request a person: status %q, want queued", st.Status)
	}
	return conv.ID
}

// consoleRoutes are the conversation routes, each with a valid body.
var consoleRoutes = []struct {
	method, path string
	body         any
}{
	{"GET", "", nil},
	{"POST", "/claim", nil},
	{"POST", "/messages", map[string]any{"client_id": "c-1", "text": "hello"}},
	{"POST", "/notes", map[string]any{"text": "a note"}},
	{"POST", "/transfer", map[string]any{"to": 0}},
	{"POST", "/close", map[string]any{"resolution": "resolved"}},
	{"POST", "/reveal", map[string]any{"fields": []string{"phone"}}},
	{"GET", "/suggestions", nil},
	{"POST", "/draft", nil},
}

// TestConsoleIDOR: an agent gets the same 404 for another agent's
// conversation as for one that does not exist, on every route, and the
// conversation is unchanged.
func TestConsoleIDOR(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	theirs := e.assignedTo(t, "visitor-idor-1", "bruno")
	agnes := e.login(t, "agnes")
	for _, conv := range []string{theirs, "c_doesnotexist"} {
		for _, rt := range consoleRoutes {
			var ae apiErr
			path := "/api/v1/console/conversations/" + conv + rt.path
			if st := agnes.do(rt.method, path, rt.body, &ae); st != 404 || ae.Error.Code != "not_found" {
				t.Errorf("%s %s as another agent: %d %q, want 404 not_found", rt.method, path, st, ae.Error.Code)
			}
		}
	}
	v, err := e.desk.Conversation(context.Background(), e.me("bruno"), theirs)
	if err != nil {
		t.Fatal(err)
	}
	if v.Case.Status != handoff.StatusAssigned || v.Case.AgentID != e.users["bruno"].ID || len(v.Notes) != 0 {
		t.Errorf("after agnes's attempts the case is %+v with %d notes, want bruno's, untouched", v.Case, len(v.Notes))
	}
	for _, m := range v.Messages {
		if m.Role == bot.RoleAgent {
			t.Errorf("agnes's reply was stored: %+v", m)
		}
	}
	// The owner gets through.
	bruno := e.login(t, "bruno")
	if st := bruno.do("GET", "/api/v1/console/conversations/"+theirs, nil, nil); st != 200 {
		t.Errorf("the assigned agent reads the conversation: %d, want 200", st)
	}
}

func TestConsolePermissions(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	anon := &staffClient{t: t, base: e.hs.URL, c: http.DefaultClient}
	if st := anon.do("GET", "/api/v1/console/board", nil, nil); st != 401 {
		t.Errorf("board without a session: %d, want 401", st)
	}
	editor := e.login(t, "alice")
	var ae apiErr
	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/v1/console/board"},
		{"GET", "/api/v1/console/canned"},
		{"GET", "/api/v1/console/conversations/c_x"},
		{"PUT", "/api/v1/console/presence"},
	} {
		if st := editor.do(rt.method, rt.path, map[string]string{"status": "online"}, &ae); st != 403 || ae.Error.Code != "forbidden" {
			t.Errorf("%s %s as an editor: %d %q, want 403 forbidden", rt.method, rt.path, st, ae.Error.Code)
		}
	}
	agent := e.login(t, "agnes")
	canned := map[string]any{"shortcut": "hi", "lang": "en", "title": "Hi", "text": "Hello!"}
	for _, rt := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/console/canned", canned},
		{"PUT", "/api/v1/console/canned/1", canned},
		{"DELETE", "/api/v1/console/canned/1", nil},
		{"PATCH", "/api/v1/console/agents/1", map[string]any{"langs": []string{"en"}, "max_chats": 3}},
	} {
		if st := agent.do(rt.method, rt.path, rt.body, &ae); st != 403 || ae.Error.Code != "forbidden" {
			t.Errorf("%s %s as an agent: %d %q, want 403 forbidden", rt.method, rt.path, st, ae.Error.Code)
		}
	}
	// CSRF: a change without the token, or from another site, is refused
	// before the desk is asked.
	noCSRF := *agent
	noCSRF.csrf = ""
	if st := noCSRF.do("PUT", "/api/v1/console/presence", map[string]string{"status": "away"}, &ae); st != 403 || ae.Error.Code != "csrf" {
		t.Errorf("presence without the CSRF token: %d %q, want 403 csrf", st, ae.Error.Code)
	}
	if st := noCSRF.do("POST", "/api/v1/console/conversations/c_x/claim", nil, &ae); st != 403 || ae.Error.Code != "csrf" {
		t.Errorf("claim without the CSRF token: %d %q, want 403 csrf", st, ae.Error.Code)
	}
}

func TestConsoleBodies(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	agent := e.login(t, "agnes")
	var ae apiErr
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"unknown field", "PUT", "/api/v1/console/presence", map[string]any{"status": "online", "mood": "fine"}, 400, "invalid"},
		{"bad presence", "PUT", "/api/v1/console/presence", map[string]any{"status": "asleep"}, 400, "invalid"},
		{"not JSON", "POST", "/api/v1/console/conversations/c_x/notes", []byte("{"), 400, "invalid"},
		{"too large", "POST", "/api/v1/console/conversations/c_x/notes", []byte(`{"text":"` + strings.Repeat("x", 70<<10) + `"}`), 413, "too_large"},
		{"bad client_id", "POST", "/api/v1/console/conversations/c_x/messages", map[string]any{"client_id": "", "text": "hi"}, 400, "invalid"},
		{"transfer without to", "POST", "/api/v1/console/conversations/c_x/transfer", map[string]any{}, 400, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ae = apiErr{}
			if st := agent.do(tt.method, tt.path, tt.body, &ae); st != tt.status || ae.Error.Code != tt.code {
				t.Errorf("%d %q, want %d %q", st, ae.Error.Code, tt.status, tt.code)
			}
		})
	}
}

// TestConsoleFlow walks the happy path: board, claim, reply, note, close,
// canned replies by an admin.
func TestConsoleFlow(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	conv := e.queued(t, "visitor-flow-1", "agnes")
	agnes := e.login(t, "agnes")
	var board handoff.Board
	if st := agnes.do("GET", "/api/v1/console/board", nil, &board); st != 200 || len(board.Queue) != 1 || board.Queue[0].ConversationID != conv {
		t.Fatalf("board: %d %+v, want the queued conversation", st, board)
	}
	if board.Me.ID != e.users["agnes"].ID || board.Me.Name != "Agnes" {
		t.Errorf("board.me = %+v, want agnes with her display name", board.Me)
	}
	base := "/api/v1/console/conversations/" + conv
	var claimed struct{ Case handoff.Case }
	if st := agnes.do("POST", base+"/claim", nil, &claimed); st != 200 || claimed.Case.Status != handoff.StatusAssigned {
		t.Fatalf("claim: %d %+v", st, claimed)
	}
	var ae apiErr
	bruno := e.login(t, "bruno")
	if st := bruno.do("POST", base+"/claim", nil, &ae); st != 404 && st != 409 {
		t.Errorf("a second claim: %d %q, want 409 taken or 404", st, ae.Error.Code)
	}
	var reply struct {
		Message map[string]any `json:"message"`
	}
	if st := agnes.do("POST", base+"/messages", map[string]any{"client_id": "c-1", "text": "Hello, I am here."}, &reply); st != 201 {
		t.Fatalf("reply: %d", st)
	}
	if reply.Message["role"] != bot.RoleAgent || reply.Message["agent_name"] != "Agnes" {
		t.Errorf("reply = %v, want an agent message from Agnes", reply.Message)
	}
	if _, ok := reply.Message["sources"].([]any); !ok {
		t.Errorf("reply has no sources array: %v", reply.Message)
	}
	if st := agnes.do("POST", base+"/messages", map[string]any{"client_id": "c-2", "text": ""}, &ae); st != 400 || ae.Error.Code != "invalid" {
		t.Errorf("an empty reply: %d %q, want 400 invalid", st, ae.Error.Code)
	}
	var draft struct{ Text string }
	if st := agnes.do("POST", base+"/draft", nil, &draft); st != 200 || draft.Text != "A drafted reply." {
		t.Errorf("draft: %d %+v", st, draft)
	}
	var revealed struct{ Values map[string]string }
	if st := agnes.do("POST", base+"/reveal", map[string]any{"fields": []string{"phone"}}, &revealed); st != 200 || revealed.Values == nil {
		t.Errorf("reveal: %d %+v", st, revealed)
	}
	if st := agnes.do("POST", base+"/notes", map[string]any{"text": "wants a refund"}, nil); st != 201 {
		t.Errorf("note: %d, want 201", st)
	}
	if st := agnes.do("POST", base+"/close", map[string]any{"resolution": "maybe"}, &ae); st != 400 || ae.Error.Code != "invalid" {
		t.Errorf("close with an unknown resolution: %d %q, want 400 invalid", st, ae.Error.Code)
	}
	if st := agnes.do("POST", base+"/close", map[string]any{"resolution": "resolved"}, nil); st != 200 {
		t.Errorf("close: %d, want 200", st)
	}

	root := e.login(t, "root")
	var saved struct{ Canned handoff.Canned }
	if st := root.do("POST", "/api/v1/console/canned", map[string]any{"shortcut": "hi", "lang": "en", "title": "Hi", "text": "Hello!"}, &saved); st != 201 || saved.Canned.ID == 0 {
		t.Fatalf("create canned: %d %+v", st, saved)
	}
	if st := root.do("POST", "/api/v1/console/canned", map[string]any{"shortcut": "hi", "lang": "en", "title": "Hi again", "text": "Hello again!"}, &ae); st != 409 || ae.Error.Code != "shortcut_taken" {
		t.Errorf("a second canned reply with the shortcut: %d %q, want 409 shortcut_taken", st, ae.Error.Code)
	}
	var list struct{ Canned []handoff.Canned }
	if st := agnes.do("GET", "/api/v1/console/canned", nil, &list); st != 200 || len(list.Canned) != 1 || list.Canned[0].UpdatedBy != "root" {
		t.Errorf("canned as an agent: %d %+v", st, list)
	}
	if st := root.do("DELETE", "/api/v1/console/canned/"+itoa(saved.Canned.ID), nil, nil); st != 204 {
		t.Errorf("delete canned: %d, want 204", st)
	}
}

func TestConsolePage(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(e.hs.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Errorf("GET /console: %d to %q, want a redirect to /console/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.Get(e.hs.URL + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /console/: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
}

func TestDeskErrorsNeverLeak(t *testing.T) {
	for _, err := range []error{context.DeadlineExceeded, io.ErrUnexpectedEOF} {
		st, code, msg, ok := deskError(err)
		if st != 500 || code != "internal" || ok || msg == err.Error() {
			t.Errorf("deskError(%v) = %d %q %q %v", err, st, code, msg, ok)
		}
	}
	wrapped := fmt.Errorf("%w: unknown resolution %q", handoff.ErrInvalid, "maybe")
	if st, code, msg, _ := deskError(wrapped); st != 400 || code != "invalid" || msg != "unknown resolution \"maybe\"" {
		t.Errorf("deskError(%v) = %d %q %q", wrapped, st, code, msg)
	}
}

// TestAuditLogReadOnlyForAdmins: a reveal shows up in the audit log, which
// admins may read, agents may not, and no method changes.
func TestAuditLogReadOnlyForAdmins(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	id := e.assignedTo(t, "visitor-audit-1", "agnes")
	agnes, root := e.login(t, "agnes"), e.login(t, "root")
	if code := agnes.do("POST", "/api/v1/console/conversations/"+id+"/reveal", map[string]any{"fields": []string{"contact"}}, nil); code != 200 {
		t.Fatalf("reveal: %d", code)
	}
	var got struct{ Entries []handoff.AuditEntry }
	if code := root.do("GET", "/api/v1/admin/audit", nil, &got); code != 200 || len(got.Entries) != 1 ||
		got.Entries[0].Actor != "agnes" || got.Entries[0].ConversationID != id || got.Entries[0].Fields[0] != "contact" {
		t.Fatalf("audit log: %d %+v", code, got)
	}
	if code := agnes.do("GET", "/api/v1/admin/audit", nil, nil); code != 403 {
		t.Errorf("an agent read the audit log: %d", code)
	}
	for _, m := range []string{"PUT", "PATCH", "DELETE", "POST"} {
		if code := root.do(m, "/api/v1/admin/audit", map[string]any{}, nil); code != 403 && code != 404 {
			t.Errorf("%s /api/v1/admin/audit = %d, want 403 or 404", m, code)
		}
		if code := root.do(m, "/api/v1/admin/audit/1", map[string]any{}, nil); code != 403 && code != 404 {
			t.Errorf("%s /api/v1/admin/audit/1 = %d, want 403 or 404", m, code)
		}
	}
}
