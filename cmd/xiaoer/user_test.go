package main

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
	"regexp"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// fastHashes makes bcrypt cheap in tests (the default cost takes seconds
// under the race detector).
func fastHashes(k string) string {
	if k == "XIAOER_BCRYPT_COST" {
		return "4"
	}
	return ""
}

// userCmd runs `xiaoer user ARGS...` with stdin.
func userCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runUser(context.Background(), args, fastHashes, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

var passwordLine = regexp.MustCompile(`(?m)^password: (\S+)$`)

// loginServer serves the account routes over the data folder's database,
// as the server will once it mounts them.
func loginServer(t *testing.T, dir string) *httptest.Server {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := auth.New(auth.Config{BcryptCost: 4}, store, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func login(t *testing.T, srv *httptest.Server, username, password string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	resp, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func TestUserCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")

	// list on a folder that does not exist fails without creating it.
	if _, _, err := userCmd(t, "", "list", "--data", dir); err == nil {
		t.Error("user list on a missing folder succeeded")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("user list created the data folder")
	}

	// add creates the folder, generates a password and prints it once.
	out, _, err := userCmd(t, "", "add", "--data", dir, "--role", "admin", "--name", "Alice Admin", "Alice")
	if err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	m := passwordLine.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, `created admin "alice"`) {
		t.Fatalf("user add printed %q", out)
	}
	alicePW := m[1]

	// Flags after the username work too; --password-stdin takes the first line.
	out, _, err = userCmd(t, "bob's password 1\nignored\n", "add", "bob", "--data", dir, "--role", "agent", "--password-stdin")
	if err != nil || passwordLine.MatchString(out) {
		t.Fatalf("user add --password-stdin: %v %q", err, out)
	}

	srv := loginServer(t, dir)
	for _, c := range []struct{ name, pw string }{{"alice", alicePW}, {"BOB", "bob's password 1"}} {
		if status, body := login(t, srv, c.name, c.pw); status != 200 || !strings.Contains(body, `"csrf_token"`) {
			t.Errorf("login %s with the CLI's password: %d %s", c.name, status, body)
		}
	}

	out, _, err = userCmd(t, "", "list", "--data", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 3 || !regexp.MustCompile(`^1\s+alice\s+admin\s+active\s+\d{4}-.*Alice Admin$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^2\s+bob\s+agent\s+active`).MatchString(lines[2]) {
		t.Errorf("user list: %v\n%s", err, out)
	}
	if strings.Contains(out, alicePW) || strings.Contains(out, "$2a$") {
		t.Errorf("user list shows a password or hash:\n%s", out)
	}

	// disable ends the account's logins; enable restores them.
	if _, _, err := userCmd(t, "", "disable", "--data", dir, "bob"); err != nil {
		t.Fatal(err)
	}
	if status, _ := login(t, srv, "bob", "bob's password 1"); status != 401 {
		t.Errorf("disabled bob logs in: %d", status)
	}
	if out, _, _ := userCmd(t, "", "list", "--data", dir); !regexp.MustCompile(`bob\s+agent\s+disabled`).MatchString(out) {
		t.Errorf("list does not show bob disabled:\n%s", out)
	}
	if _, _, err := userCmd(t, "", "enable", "--data", dir, "bob"); err != nil {
		t.Fatal(err)
	}
	if status, _ := login(t, srv, "bob", "bob's password 1"); status != 200 {
		t.Errorf("re-enabled bob cannot log in: %d", status)
	}

	// passwd replaces the password.
	out, _, err = userCmd(t, "", "passwd", "--data", dir, "alice")
	m = passwordLine.FindStringSubmatch(out)
	if err != nil || m == nil || m[1] == alicePW {
		t.Fatalf("user passwd: %v %q", err, out)
	}
	if status, _ := login(t, srv, "alice", alicePW); status != 401 {
		t.Errorf("old password after passwd: %d", status)
	}
	if status, _ := login(t, srv, "alice", m[1]); status != 200 {
		t.Errorf("new password after passwd: %d", status)
	}

	// Refusals.
	tests := []struct {
		args     []string
		stdin    string
		usage    bool   // exit code 2
		contains string // in the error
	}{
		{[]string{"add", "--data", dir, "--role", "agent", "ALICE"}, "", false, "taken"},
		{[]string{"add", "--data", dir, "--role", "owner", "carol"}, "", true, "unknown role"},
		{[]string{"add", "--data", dir, "carol"}, "", true, "--role"},
		{[]string{"add", "--data", dir, "--role", "agent"}, "", true, "USERNAME"},
		{[]string{"add", "--data", dir, "--role", "agent", "a b"}, "", false, "username"},
		{[]string{"add", "--data", dir, "--role", "agent", "--password-stdin", "carol"}, "short\n", false, "at least 10"},
		{[]string{"add", "--data", dir, "--role", "agent", "--password-stdin", "carol"}, "", true, "no password"},
		{[]string{"passwd", "--data", dir, "nobody"}, "", false, `no user "nobody"`},
		{[]string{"disable", "--data", dir, "alice"}, "", false, "last enabled admin"},
		{[]string{"nope"}, "", true, "unknown user subcommand"},
		{[]string{}, "", true, "subcommand"},
	}
	for _, tt := range tests {
		_, _, err := userCmd(t, tt.stdin, tt.args...)
		if err == nil || (exitCode(err) == 2) != tt.usage || !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("user %q: %v (exit %d), want an error with %q (usage: %v)", tt.args, err, exitCode(err), tt.contains, tt.usage)
		}
	}
	// Through run, as main calls it.
	if _, _, err := xiaoer(t, "user"); exitCode(err) != 2 {
		t.Errorf("xiaoer user: %v", err)
	}
}

// TestUserAddBesideRunningServer: the user commands work while `xiaoer
// serve` holds the data folder.
func TestUserAddBesideRunningServer(t *testing.T) {
	s := startServer(t, t.TempDir())
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"user", "add", "--data", s.Data, "--role", "editor", "erin"}, fastHashes, &out, &errOut)
	if err != nil {
		t.Fatalf("user add beside a running server: %v %s", err, errOut.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"user", "list", "--data", s.Data}, fastHashes, &out, &errOut); err != nil || !strings.Contains(out.String(), "erin") {
		t.Fatalf("user list beside a running server: %v %q", err, out.String())
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("server: %v\n%s", err, s.Logs)
	}
}

// TestUserAddAgentSettings: --langs and --max-chats set how routing treats
// an agent, and are refused for an editor.
func TestUserAddAgentSettings(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, err := userCmd(t, "", "add", "--data", dir, "--role", "agent", "--langs", "en", "--max-chats", "2", "emma"); err != nil {
		t.Fatalf("user add: %v %s", err, errOut)
	}
	if _, _, err := userCmd(t, "", "add", "--data", dir, "--role", "editor", "--langs", "zh", "ed.itor"); err == nil {
		t.Error("--langs was accepted for an editor")
	}
	if _, _, err := userCmd(t, "", "add", "--data", dir, "--role", "agent", "--langs", "fr", "frank"); err == nil {
		t.Error("--langs fr was accepted")
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	agents, err := store.Agents(context.Background())
	if err != nil || len(agents) != 1 || agents[0].MaxChats != 2 || len(agents[0].Langs) != 1 || agents[0].Langs[0] != "en" {
		t.Fatalf("agents %+v, %v; want emma answering in English, 2 at a time", agents, err)
	}
}
