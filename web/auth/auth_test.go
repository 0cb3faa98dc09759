package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is the auth service on a real SQLite store, served by httptest with
// the package's routes and three protected test routes.
type env struct {
	t     *testing.T
	svc   *auth.Service
	store *sqlite.Store
	clock *clock
	srv   *httptest.Server
	dir   string
	logs  *syncBuffer

	mu    sync.Mutex
	ended []auth.SessionEnd
}

const password = "correct horse battery"

func newEnv(t *testing.T, cfg auth.Config, tlsServer bool) *env {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{t: t, store: store, clock: &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}, dir: dir, logs: &syncBuffer{}}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.MinCost
	}
	cfg.Now = e.clock.Now
	cfg.OnSessionEnd = func(se auth.SessionEnd) {
		e.mu.Lock()
		e.ended = append(e.ended, se)
		e.mu.Unlock()
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.svc, err = auth.New(cfg, store, store, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.svc.Routes(mux)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFrom(r.Context())
		io.WriteString(w, u.Username)
	})
	mux.Handle("GET /test/kb", e.svc.Require(auth.PermKB)(ok))
	mux.Handle("DELETE /test/kb", e.svc.Require(auth.PermKB)(ok))
	mux.Handle("POST /test/conversations", e.svc.Require(auth.PermConversations)(ok))
	if tlsServer {
		e.srv = httptest.NewTLSServer(mux)
	} else {
		e.srv = httptest.NewServer(mux)
	}
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) user(name string, role auth.Role) auth.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), auth.NewUser{Username: name, Password: password, Role: role, DisplayName: strings.ToUpper(name)})
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
	return u
}

func (e *env) endedSessions() []auth.SessionEnd {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]auth.SessionEnd(nil), e.ended...)
}

// session is a signed-in client: the cookie's value and the CSRF token.
type session struct {
	cookie string
	csrf   string
	userID int64
}

// reply is a response with its decoded JSON body.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
	resp   *http.Response
}

func (r reply) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// req sends a request with the session's cookie (if any) and the given
// headers; body is encoded as JSON unless it is a string.
func (e *env) req(method, path string, body any, s *session, hdr map[string]string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	r, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if s != nil {
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: s.cookie})
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw), resp: resp}
	json.Unmarshal(raw, &out.body)
	return out
}

// send is req for a state-changing request made properly: the session's
// CSRF token and the server's own origin.
func (e *env) send(method, path string, body any, s *session) reply {
	e.t.Helper()
	return e.req(method, path, body, s, map[string]string{"X-CSRF-Token": s.csrf, "Origin": e.srv.URL})
}

func (e *env) login(name, pw string) (reply, *session) {
	e.t.Helper()
	r := e.req("POST", "/api/v1/auth/login", map[string]string{"username": name, "password": pw}, nil, nil)
	if r.status != http.StatusOK {
		return r, nil
	}
	s := &session{}
	for _, c := range r.resp.Cookies() {
		if c.Name == auth.CookieName {
			s.cookie = c.Value
		}
	}
	s.csrf, _ = r.body["csrf_token"].(string)
	if u, ok := r.body["user"].(map[string]any); ok {
		id, _ := u["id"].(float64)
		s.userID = int64(id)
	}
	return r, s
}

func (e *env) mustLogin(name string) *session {
	e.t.Helper()
	r, s := e.login(name, password)
	if s == nil || s.cookie == "" || s.csrf == "" {
		e.t.Fatalf("login %s: %d %s", name, r.status, r.raw)
	}
	return s
}

func TestLoginSetsSessionCookie(t *testing.T) {
	tests := []struct {
		name       string
		cfg        auth.Config
		tls        bool
		wantSecure bool
	}{
		{"plain http", auth.Config{}, false, false},
		{"over TLS", auth.Config{}, true, true},
		{"behind a TLS proxy", auth.Config{BehindTLS: true}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg, tt.tls)
			alice := e.user("Alice", auth.RoleAdmin)
			hdr := map[string]string{}
			if tt.cfg.BehindTLS {
				// The browser is on https; the proxy forwards plain http.
				hdr["Origin"] = "https://" + strings.TrimPrefix(e.srv.URL, "http://")
			}
			r := e.req("POST", "/api/v1/auth/login", map[string]string{"username": "ALICE", "password": password}, nil, hdr)
			if r.status != http.StatusOK {
				t.Fatalf("login: %d %s", r.status, r.raw)
			}
			var c *http.Cookie
			for _, rc := range r.resp.Cookies() {
				if rc.Name == "xiaoer_session" {
					c = rc
				}
			}
			if c == nil {
				t.Fatalf("no xiaoer_session cookie in %v", r.header["Set-Cookie"])
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure != tt.wantSecure || len(c.Value) != 43 {
				t.Errorf("cookie %q: HttpOnly %v SameSite %v Path %q Secure %v (want %v) value length %d",
					r.header.Get("Set-Cookie"), c.HttpOnly, c.SameSite, c.Path, c.Secure, tt.wantSecure, len(c.Value))
			}
			user, _ := r.body["user"].(map[string]any)
			csrf, _ := r.body["csrf_token"].(string)
			if user["id"] != float64(alice.ID) || user["username"] != "alice" || user["display_name"] != "ALICE" || user["role"] != "admin" || len(csrf) < 40 {
				t.Errorf("login body %s", r.raw)
			}
			if _, ok := user["password_hash"]; ok || strings.Contains(r.raw, "$2a$") {
				t.Errorf("login body shows the hash: %s", r.raw)
			}

			s := &session{cookie: c.Value, csrf: csrf}
			me := e.req("GET", "/api/v1/auth/me", nil, s, nil)
			meUser, _ := me.body["user"].(map[string]any)
			if me.status != http.StatusOK || me.body["csrf_token"] != csrf || meUser["username"] != "alice" {
				t.Errorf("me: %d %s", me.status, me.raw)
			}
			if cc := me.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("me Cache-Control %q", cc)
			}

			// Only the token's hash is stored: the token is in no file of the store.
			e.store.Close()
			files, _ := filepath.Glob(filepath.Join(e.dir, "*"))
			for _, f := range files {
				b, _ := os.ReadFile(f)
				if bytes.Contains(b, []byte(c.Value)) {
					t.Errorf("%s holds the session token", filepath.Base(f))
				}
			}
		})
	}
}

func TestFailedLoginsLookTheSame(t *testing.T) {
	// A cost high enough that a skipped bcrypt comparison would show.
	e := newEnv(t, auth.Config{BcryptCost: 8}, false)
	e.user("alice", auth.RoleAdmin)
	bob := e.user("bob", auth.RoleAgent)
	yes := true
	if _, err := e.svc.UpdateUser(context.Background(), bob.ID, auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ what, name, pw string }{
		{"wrong password", "alice", "not the password"}, // the reference
		{"unknown user", "mallory", "not the password"},
		{"malformed username", "x", "not the password"},
		{"disabled user with the right password", "bob", password},
	}
	// Rounds interleave the cases so that each sees the same machine load;
	// the fastest of each is compared. Four rounds stay under the lockout.
	replies := make([]reply, len(cases))
	fastest := make([]time.Duration, len(cases))
	for round := range 4 {
		for i, c := range cases {
			start := time.Now()
			replies[i] = e.req("POST", "/api/v1/auth/login", map[string]string{"username": c.name, "password": c.pw}, nil, nil)
			if took := time.Since(start); round == 0 || took < fastest[i] {
				fastest[i] = took
			}
		}
	}
	wrong := replies[0]
	if wrong.status != http.StatusUnauthorized || wrong.code() != "invalid_credentials" || len(wrong.resp.Cookies()) != 0 {
		t.Fatalf("wrong password: %d %s", wrong.status, wrong.raw)
	}
	for i, c := range cases[1:] {
		r, took := replies[i+1], fastest[i+1]
		if r.status != wrong.status || r.raw != wrong.raw || len(r.resp.Cookies()) != 0 {
			t.Errorf("%s: %d %s; a wrong password gets %d %s", c.what, r.status, r.raw, wrong.status, wrong.raw)
		}
		// A skipped bcrypt comparison takes a hundredth of the time; the
		// margin absorbs scheduling noise.
		if took < fastest[0]/4 {
			t.Errorf("%s took %v, a wrong password %v: the difference reveals which usernames exist", c.what, took, fastest[0])
		}
	}
}

func TestLockout(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	e.user("alice", auth.RoleAdmin)

	// Failures that a success interrupts do not add up.
	for range 2 {
		for range 4 {
			if r, _ := e.login("alice", "wrong password!"); r.status != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d %s", r.status, r.raw)
			}
		}
		e.mustLogin("alice")
	}

	for i := 1; i <= 5; i++ {
		if r, _ := e.login("alice", "wrong password!"); r.status != http.StatusUnauthorized || r.code() != "invalid_credentials" {
			t.Fatalf("failure %d: %d %s", i, r.status, r.raw)
		}
	}
	r, _ := e.login("alice", password)
	if r.status != http.StatusLocked || r.code() != "locked" || r.header.Get("Retry-After") != "900" {
		t.Fatalf("right password on a locked account: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.raw)
	}
	if r, _ := e.login("alice", "wrong password!"); r.status != http.StatusLocked {
		t.Errorf("wrong password on a locked account: %d %s", r.status, r.raw)
	}
	e.clock.Add(15*time.Minute - time.Second)
	if r, _ := e.login("alice", password); r.status != http.StatusLocked || r.header.Get("Retry-After") != "1" {
		t.Fatalf("a second before the lock ends: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	e.clock.Add(time.Second)
	e.mustLogin("alice")
	if !strings.Contains(e.logs.String(), "account locked after failed logins") {
		t.Error("the lockout was not logged")
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, auth.Config{TrustedOrigins: []string{"https://admin.example.com"}}, false)
	e.user("alice", auth.RoleAdmin)
	a := e.mustLogin("alice")
	b := e.mustLogin("alice") // another browser
	if a.csrf == b.csrf {
		t.Fatal("two sessions share a CSRF token")
	}
	n := 0
	newUser := func() map[string]string {
		n++
		return map[string]string{"username": "user" + string(rune('a'+n)), "password": password, "role": "agent"}
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	tests := []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"no CSRF header", map[string]string{}, 403},
		{"another session's token", map[string]string{"X-CSRF-Token": b.csrf}, 403},
		{"a token with a character changed", map[string]string{"X-CSRF-Token": a.csrf[:len(a.csrf)-1] + "x"}, 403},
		{"a foreign origin", map[string]string{"X-CSRF-Token": a.csrf, "Origin": "https://evil.example"}, 403},
		{"a look-alike origin", map[string]string{"X-CSRF-Token": a.csrf, "Origin": "http://" + host + ".evil.example"}, 403},
		{"our host over the other scheme", map[string]string{"X-CSRF-Token": a.csrf, "Origin": "https://" + host}, 403},
		{"origin null", map[string]string{"X-CSRF-Token": a.csrf, "Origin": "null"}, 403},
		{"cross-site fetch metadata", map[string]string{"X-CSRF-Token": a.csrf, "Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site (a sibling subdomain)", map[string]string{"X-CSRF-Token": a.csrf, "Sec-Fetch-Site": "same-site"}, 403},
		{"token and our origin", map[string]string{"X-CSRF-Token": a.csrf, "Origin": e.srv.URL, "Sec-Fetch-Site": "same-origin"}, 201},
		{"token, no origin (not a browser)", map[string]string{"X-CSRF-Token": a.csrf}, 201},
		{"token and a trusted origin", map[string]string{"X-CSRF-Token": a.csrf, "Origin": "https://admin.example.com"}, 201},
	}
	for _, tt := range tests {
		r := e.req("POST", "/api/v1/admin/users", newUser(), a, tt.hdr)
		if r.status != tt.status || (tt.status == 403 && r.code() != "csrf") {
			t.Errorf("%s: %d %s, want %d", tt.name, r.status, r.raw, tt.status)
		}
	}
	// Other methods too: PATCH and DELETE.
	if r := e.req("PATCH", "/api/v1/admin/users/1", map[string]string{"display_name": "A"}, a, nil); r.status != 403 || r.code() != "csrf" {
		t.Errorf("PATCH without token: %d %s", r.status, r.raw)
	}
	if r := e.req("DELETE", "/test/kb", nil, a, nil); r.status != 403 || r.code() != "csrf" {
		t.Errorf("DELETE without token: %d %s", r.status, r.raw)
	}
	if r := e.send("DELETE", "/test/kb", nil, a); r.status != 200 {
		t.Errorf("DELETE with token: %d %s", r.status, r.raw)
	}
	// Reads need no token.
	if r := e.req("GET", "/api/v1/admin/users", nil, a, map[string]string{"Origin": "https://evil.example"}); r.status != 200 {
		t.Errorf("GET without token: %d %s", r.status, r.raw)
	}
	// Logout is state-changing too.
	if r := e.req("POST", "/api/v1/auth/logout", nil, a, nil); r.status != 403 {
		t.Errorf("logout without token: %d %s", r.status, r.raw)
	}
	// The login request itself is checked for its origin.
	r := e.req("POST", "/api/v1/auth/login", map[string]string{"username": "alice", "password": password}, nil,
		map[string]string{"Origin": "https://evil.example"})
	if r.status != 403 || r.code() != "csrf" || len(r.resp.Cookies()) != 0 {
		t.Errorf("login from a foreign origin: %d %s", r.status, r.raw)
	}
	if r := e.req("POST", "/api/v1/auth/login", map[string]string{"username": "alice", "password": password}, nil,
		map[string]string{"Origin": e.srv.URL}); r.status != 200 {
		t.Errorf("login from our origin: %d %s", r.status, r.raw)
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	e.user("admin", auth.RoleAdmin)
	e.user("editor", auth.RoleEditor)
	e.user("agent", auth.RoleAgent)
	sessions := map[string]*session{"admin": e.mustLogin("admin"), "editor": e.mustLogin("editor"), "agent": e.mustLogin("agent")}
	routes := []struct {
		method, path string
		body         any
		allowed      []string
	}{
		{"GET", "/api/v1/admin/users", nil, []string{"admin"}},
		{"POST", "/api/v1/admin/users", map[string]string{"username": "new", "password": "", "role": "agent"}, []string{"admin"}},
		{"PATCH", "/api/v1/admin/users/3", map[string]string{"display_name": "Agent"}, []string{"admin"}},
		{"GET", "/test/kb", nil, []string{"admin", "editor"}},
		{"DELETE", "/test/kb", nil, []string{"admin", "editor"}},
		{"POST", "/test/conversations", nil, []string{"admin", "agent"}},
		{"GET", "/api/v1/auth/me", nil, []string{"admin", "editor", "agent"}},
	}
	for _, rt := range routes {
		for who, s := range sessions {
			r := e.send(rt.method, rt.path, rt.body, s)
			allowed := strings.Contains(" "+strings.Join(rt.allowed, " ")+" ", " "+who+" ")
			if allowed && (r.status == 401 || r.status == 403) || !allowed && (r.status != 403 || r.code() != "forbidden") {
				t.Errorf("%s %s as %s: %d %s (allowed: %v)", rt.method, rt.path, who, r.status, r.raw, allowed)
			}
		}
		if r := e.req(rt.method, rt.path, rt.body, nil, nil); r.status != 401 || r.code() != "unauthenticated" {
			t.Errorf("%s %s without a session: %d %s", rt.method, rt.path, r.status, r.raw)
		}
		if r := e.req(rt.method, rt.path, rt.body, &session{cookie: "forged"}, nil); r.status != 401 {
			t.Errorf("%s %s with a forged cookie: %d %s", rt.method, rt.path, r.status, r.raw)
		}
	}
	var me struct {
		User struct {
			Permissions []string `json:"permissions"`
		} `json:"user"`
	}
	r := e.req("GET", "/api/v1/auth/me", nil, sessions["editor"], nil)
	json.Unmarshal([]byte(r.raw), &me)
	if strings.Join(me.User.Permissions, ",") != "kb" {
		t.Errorf("editor's permissions %v, want [kb]", me.User.Permissions)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	e.user("alice", auth.RoleAdmin)
	s := e.mustLogin("alice")
	other := e.mustLogin("alice")
	r := e.send("POST", "/api/v1/auth/logout", nil, s)
	if r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.raw)
	}
	cleared := false
	for _, c := range r.resp.Cookies() {
		cleared = cleared || c.Name == auth.CookieName && c.MaxAge < 0 && c.Value == ""
	}
	if !cleared {
		t.Errorf("logout did not clear the cookie: %v", r.header["Set-Cookie"])
	}
	if r := e.req("GET", "/api/v1/auth/me", nil, s, nil); r.status != 401 || r.code() != "unauthenticated" {
		t.Errorf("old cookie after logout: %d %s", r.status, r.raw)
	}
	if r := e.req("GET", "/api/v1/auth/me", nil, other, nil); r.status != 200 {
		t.Errorf("the other browser was signed out too: %d", r.status)
	}
	ended := e.endedSessions()
	if len(ended) != 1 || ended[0].Reason != auth.EndLogout || ended[0].UserID != s.userID {
		t.Errorf("OnSessionEnd got %+v", ended)
	}
	if !strings.Contains(e.logs.String(), "msg=logout username=alice ip=127.0.0.1") {
		t.Errorf("logout not logged:\n%s", e.logs)
	}
}

func TestLoginAgainReplacesTheBrowsersSession(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	e.user("alice", auth.RoleAdmin)
	e.user("bob", auth.RoleAgent)
	old := e.mustLogin("alice")
	r := e.req("POST", "/api/v1/auth/login", map[string]string{"username": "bob", "password": password}, old, nil)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	if r := e.req("GET", "/api/v1/auth/me", nil, old, nil); r.status != 401 {
		t.Errorf("the browser's previous session still works: %d", r.status)
	}
	if ended := e.endedSessions(); len(ended) != 1 || ended[0].Reason != auth.EndReplaced {
		t.Errorf("OnSessionEnd got %+v", ended)
	}
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	e.user("alice", auth.RoleAdmin)
	me := func(s *session) int { return e.req("GET", "/api/v1/auth/me", nil, s, nil).status }

	// Idle: two hours without a request end the session.
	idle := e.mustLogin("alice")
	e.clock.Add(2*time.Hour - time.Minute)
	if got := me(idle); got != 200 {
		t.Fatalf("after 1h59m idle: %d", got)
	}
	e.clock.Add(2*time.Hour - time.Second)
	if got := me(idle); got != 200 {
		t.Fatalf("a request 1h59m59s after the last one: %d", got)
	}
	e.clock.Add(2 * time.Hour)
	if got := me(idle); got != 401 {
		t.Errorf("after 2h idle: %d, want 401", got)
	}

	// Absolute: activity every hour does not stretch a session past 12 hours.
	busy := e.mustLogin("alice")
	for h := 1; h < 12; h++ {
		e.clock.Add(time.Hour)
		if got := me(busy); got != 200 {
			t.Fatalf("active session after %dh: %d", h, got)
		}
	}
	e.clock.Add(time.Hour)
	if got := me(busy); got != 401 {
		t.Errorf("active session after 12h: %d, want 401", got)
	}
	ended := e.endedSessions()
	if len(ended) != 2 || ended[0].Reason != auth.EndExpired || ended[1].Reason != auth.EndExpired {
		t.Errorf("OnSessionEnd got %+v", ended)
	}

	// A sweep ends idle sessions nobody uses.
	e.mustLogin("alice")
	e.clock.Add(3 * time.Hour)
	if n, err := e.svc.EndExpired(context.Background()); n != 1 || err != nil {
		t.Errorf("EndExpired = %d, %v; want 1", n, err)
	}
}

func TestAccountChangesEndSessions(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	e.user("alice", auth.RoleAdmin)
	bob := e.user("bob", auth.RoleAgent)
	admin := e.mustLogin("alice")
	me := func(s *session) int { return e.req("GET", "/api/v1/auth/me", nil, s, nil).status }
	patch := func(id int64, body any) reply {
		return e.send("PATCH", "/api/v1/admin/users/"+itoa(id), body, admin)
	}

	// A display name change ends nothing.
	b1 := e.mustLogin("bob")
	if r := patch(bob.ID, map[string]any{"display_name": "Bob B."}); r.status != 200 || me(b1) != 200 {
		t.Fatalf("rename: %d %s; bob's session %d", r.status, r.raw, me(b1))
	}
	// Disabling ends every session of the user, and they cannot log in.
	b2 := e.mustLogin("bob")
	if r := patch(bob.ID, map[string]any{"disabled": true}); r.status != 200 || r.body["user"].(map[string]any)["disabled"] != true {
		t.Fatalf("disable: %d %s", r.status, r.raw)
	}
	if me(b1) != 401 || me(b2) != 401 {
		t.Errorf("bob's sessions survive his account being disabled: %d %d", me(b1), me(b2))
	}
	if r, _ := e.login("bob", password); r.status != 401 || r.code() != "invalid_credentials" {
		t.Errorf("disabled bob logs in: %d %s", r.status, r.raw)
	}
	var reasons []auth.EndReason
	for _, se := range e.endedSessions() {
		if se.UserID == bob.ID {
			reasons = append(reasons, se.Reason)
		}
	}
	if len(reasons) != 2 || reasons[0] != auth.EndDisabled || reasons[1] != auth.EndDisabled {
		t.Errorf("OnSessionEnd for bob: %v", reasons)
	}
	if r := patch(bob.ID, map[string]any{"disabled": false}); r.status != 200 {
		t.Fatalf("enable: %d %s", r.status, r.raw)
	}
	// A role change ends the sessions.
	b3 := e.mustLogin("bob")
	if r := patch(bob.ID, map[string]any{"role": "editor"}); r.status != 200 || me(b3) != 401 {
		t.Errorf("role change: %d %s; bob's session %d", r.status, r.raw, me(b3))
	}
	// A password set by an admin ends the sessions; the new password works.
	b4 := e.mustLogin("bob")
	if r := patch(bob.ID, map[string]any{"password": "a new password 2"}); r.status != 200 || me(b4) != 401 {
		t.Errorf("password change: %d %s; bob's session %d", r.status, r.raw, me(b4))
	}
	if r, _ := e.login("bob", password); r.status != 401 {
		t.Errorf("old password still works: %d", r.status)
	}
	if r, _ := e.login("bob", "a new password 2"); r.status != 200 {
		t.Errorf("new password: %d %s", r.status, r.raw)
	}
	// Changing your own password keeps the session you did it from and
	// ends the others.
	other := e.mustLogin("alice")
	if r := patch(admin.userID, map[string]any{"password": "alice's new password"}); r.status != 200 {
		t.Fatalf("own password: %d %s", r.status, r.raw)
	}
	if me(admin) != 200 || me(other) != 401 {
		t.Errorf("after changing her own password: this session %d (want 200), the other %d (want 401)", me(admin), me(other))
	}
}

func TestLastAdmin(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	alice := e.user("alice", auth.RoleAdmin)
	s := e.mustLogin("alice")
	for _, body := range []map[string]any{{"role": "editor"}, {"disabled": true}, {"role": "agent", "display_name": "A"}} {
		r := e.send("PATCH", "/api/v1/admin/users/"+itoa(alice.ID), body, s)
		if r.status != http.StatusConflict || r.code() != "last_admin" {
			t.Errorf("%v on the last admin: %d %s", body, r.status, r.raw)
		}
	}
	if r := e.req("GET", "/api/v1/auth/me", nil, s, nil); r.status != 200 || r.body["user"].(map[string]any)["role"] != "admin" || r.body["user"].(map[string]any)["display_name"] != "ALICE" {
		t.Errorf("a refused change was applied or ended the session: %d %s", r.status, r.raw)
	}
	// With a second admin, alice may step down (and her session ends).
	if r := e.send("POST", "/api/v1/admin/users", map[string]string{"username": "bob", "password": password, "role": "admin"}, s); r.status != 201 {
		t.Fatalf("create bob: %d %s", r.status, r.raw)
	}
	if r := e.send("PATCH", "/api/v1/admin/users/"+itoa(alice.ID), map[string]any{"role": "editor"}, s); r.status != 200 {
		t.Errorf("demote alice beside bob: %d %s", r.status, r.raw)
	}
	if r := e.req("GET", "/api/v1/auth/me", nil, s, nil); r.status != 401 {
		t.Errorf("alice's session after her role changed: %d", r.status)
	}
}

func TestUserManagementRequests(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	e.user("alice", auth.RoleAdmin)
	s := e.mustLogin("alice")
	create := func(body any) reply { return e.send("POST", "/api/v1/admin/users", body, s) }
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"ok", map[string]string{"username": "Carol.W@shop-1", "password": password, "role": "editor", "display_name": " Carol "}, 201, ""},
		{"same name in other case", map[string]string{"username": "carol.w@SHOP-1", "password": password, "role": "agent"}, 409, "username_taken"},
		{"short username", map[string]string{"username": "ab", "password": password, "role": "agent"}, 400, "invalid"},
		{"long username", map[string]string{"username": strings.Repeat("a", 65), "password": password, "role": "agent"}, 400, "invalid"},
		{"username with a space", map[string]string{"username": "dan smith", "password": password, "role": "agent"}, 400, "invalid"},
		{"non-ASCII username", map[string]string{"username": "小二客服", "password": password, "role": "agent"}, 400, "invalid"},
		{"short password", map[string]string{"username": "dan", "password": "123456789", "role": "agent"}, 400, "invalid"},
		{"ten Chinese characters", map[string]string{"username": "erin", "password": "我的密码很长很长很长", "role": "agent"}, 201, ""},
		{"72-byte password", map[string]string{"username": "fay", "password": strings.Repeat("x", 72), "role": "agent"}, 201, ""},
		{"73-byte password", map[string]string{"username": "gus", "password": strings.Repeat("x", 73), "role": "agent"}, 400, "invalid"},
		{"password is the username", map[string]string{"username": "harriet.h", "password": "Harriet.H", "role": "agent"}, 400, "invalid"},
		{"unknown role", map[string]string{"username": "ivan", "password": password, "role": "owner"}, 400, "invalid"},
		{"kb_editor is not a role name", map[string]string{"username": "ivan", "password": password, "role": "kb_editor"}, 400, "invalid"},
		{"unknown field", map[string]string{"username": "ivan", "password": password, "role": "agent", "admin": "yes"}, 400, "invalid"},
		{"malformed JSON", `{"username": "ivan",`, 400, "invalid"},
		{"two objects", `{"username":"ivan","password":"correct horse battery","role":"agent"}{}`, 400, "invalid"},
		{"a list", `[]`, 400, "invalid"},
		{"too large", `{"display_name":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "too_large"},
	}
	for _, tt := range tests {
		r := create(tt.body)
		if r.status != tt.status || r.code() != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, r.status, r.raw, tt.status, tt.code)
		}
	}
	// bcrypt reads 72 bytes; a longer login password is wrong, not a
	// match on its first 72 bytes.
	if r, _ := e.login("fay", strings.Repeat("x", 72)); r.status != 200 {
		t.Errorf("72-byte password login: %d %s", r.status, r.raw)
	}
	if r, _ := e.login("fay", strings.Repeat("x", 72)+"y"); r.status != 401 {
		t.Errorf("login with the 72-byte password and one byte more: %d %s", r.status, r.raw)
	}
	r := e.req("GET", "/api/v1/admin/users", nil, s, nil)
	var list struct {
		Users []struct {
			Username    string `json:"username"`
			DisplayName string `json:"display_name"`
			Role        string `json:"role"`
		} `json:"users"`
	}
	json.Unmarshal([]byte(r.raw), &list)
	if len(list.Users) != 4 || list.Users[1].Username != "carol.w@shop-1" || list.Users[1].DisplayName != "Carol" || list.Users[1].Role != "editor" {
		t.Errorf("users: %s", r.raw)
	}
	if strings.Contains(r.raw, "$2a$") || strings.Contains(r.raw, "hash") {
		t.Errorf("the user list shows password hashes: %s", r.raw)
	}
	if _, err := e.svc.UserByUsername(context.Background(), "CAROL.W@shop-1"); err != nil {
		t.Errorf("lookup in another case: %v", err)
	}
	for _, tt := range []struct {
		path   string
		body   any
		status int
		code   string
	}{
		{"/api/v1/admin/users/999", map[string]any{"display_name": "x"}, 404, "not_found"},
		{"/api/v1/admin/users/abc", map[string]any{"display_name": "x"}, 404, "not_found"},
		{"/api/v1/admin/users/2", map[string]any{}, 400, "invalid"},
		{"/api/v1/admin/users/2", map[string]any{"role": "root"}, 400, "invalid"},
		{"/api/v1/admin/users/2", map[string]any{"password": "short"}, 400, "invalid"},
		{"/api/v1/admin/users/2", map[string]any{"display_name": "bad\x00name"}, 400, "invalid"},
		{"/api/v1/admin/users/2", map[string]any{"disabled": "yes"}, 400, "invalid"},
	} {
		if r := e.send("PATCH", tt.path, tt.body, s); r.status != tt.status || r.code() != tt.code {
			t.Errorf("PATCH %s %v: %d %s, want %d %s", tt.path, tt.body, r.status, r.raw, tt.status, tt.code)
		}
	}
}

// TestLogsHoldNoSecrets runs logins, failures, a lockout, user management
// and logout, then checks the log names users and addresses but holds no
// password, token or CSRF token.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t, auth.Config{}, false)
	e.user("alice", auth.RoleAdmin)
	e.user("bob", auth.RoleAgent)
	s := e.mustLogin("alice")
	secrets := []string{password, s.cookie, s.csrf, "hunter2hunter2", "p@ssw0rd-typed-as-name"}
	e.login("bob", "hunter2hunter2")
	e.login("p@ssw0rd-typed-as-name", password)
	for range 6 {
		e.login("bob", "hunter2hunter2")
	}
	r := e.send("POST", "/api/v1/admin/users", map[string]string{"username": "carol", "password": "carol's password 1", "role": "editor"}, s)
	secrets = append(secrets, "carol's password 1")
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	e.send("PATCH", "/api/v1/admin/users/2", map[string]any{"password": "bob's new password"}, s)
	secrets = append(secrets, "bob's new password")
	e.req("POST", "/api/v1/admin/users", map[string]string{"username": "dan"}, s, nil) // csrf refusal
	e.send("POST", "/api/v1/auth/logout", nil, s)

	logs := e.logs.String()
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	if strings.Contains(logs, "$2a$") {
		t.Errorf("the log holds a password hash:\n%s", logs)
	}
	for _, want := range []string{
		"msg=login username=alice role=admin ip=127.0.0.1",
		`msg="login failed" reason="wrong password" username=bob ip=127.0.0.1`,
		`msg="login failed" reason="unknown user" ip=127.0.0.1`,
		`msg="account locked after failed logins" username=bob ip=127.0.0.1`,
		`msg="login refused: account locked" username=bob`,
		`msg="user created" user.id=3 user.username=carol user.role=editor by=alice`,
		`msg="csrf: request refused"`,
		"msg=logout username=alice",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	if _, err := auth.New(auth.Config{BcryptCost: 3}, nil, nil, slog.Default()); err == nil {
		t.Error("bcrypt cost 3 accepted")
	}
	if _, err := auth.New(auth.Config{TrustedOrigins: []string{"admin.example.com"}}, nil, nil, slog.Default()); err == nil {
		t.Error("an origin without a scheme accepted")
	}
	if _, err := auth.New(auth.Config{}, nil, nil, slog.Default()); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	for _, r := range auth.Roles() {
		if !r.Can(auth.PermKB) && r != auth.RoleAgent || r.Can(auth.PermUsers) != (r == auth.RoleAdmin) {
			t.Errorf("role %s permissions %v", r, r.Permissions())
		}
	}
	if auth.Role("root").Can(auth.PermKB) {
		t.Error("an unknown role has a permission")
	}
	if p := auth.GeneratePassword(); auth.CheckPassword(p, "alice") != nil || p == auth.GeneratePassword() {
		t.Errorf("generated password %q", p)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
