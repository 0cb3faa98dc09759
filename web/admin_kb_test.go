package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// adminEnv is a server with the admin API over a real SQLite store and a
// real bleve index, and staff accounts of every role.
type adminEnv struct {
	hs *httptest.Server
	kb *knowledge.Base
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ix, err := knowledge.OpenIndex(filepath.Join(dir, "index"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	kb := knowledge.NewBase(store, ix, nil)
	if _, err := kb.Import(ctx, []knowledge.Entry{
		{ID: "invoice", Locale: "en", Question: "How do I get an invoice?", Alternates: []string{"I need a receipt for my company"},
			Answer: "Request it under My Orders.", Category: "billing", Tags: []string{"policy"}},
		{ID: "ship-time", Locale: "en", Question: "How long does shipping take?", Alternates: []string{"when will my parcel arrive"},
			Answer: "Two to four days.", Category: "shipping"},
		{ID: "ret-7day", Locale: "zh-CN", Question: "如何申请七天无理由退货", Alternates: []string{"七天无理由怎么退"},
			Answer: "签收次日起7天内申请。", Category: "returns"},
	}, knowledge.ImportOptions{By: "setup"}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	staff, err := auth.New(auth.Config{BcryptCost: 4}, store, store, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []auth.NewUser{
		{Username: "alice", Password: "alice-password-1", Role: auth.RoleEditor},
		{Username: "root", Password: "root-password-1", Role: auth.RoleAdmin},
		{Username: "agnes", Password: "agnes-password-1", Role: auth.RoleAgent},
	} {
		if _, err := staff.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	srv := NewServer(Config{}, Deps{Chat: store, Shoppers: store, Bot: &turnRecorder{}, KB: kb, Hub: NewHub(),
		Ready: store.Ping, Auth: staff, Admin: kb}, log)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &adminEnv{hs: hs, kb: kb}
}

// staffClient is a browser-like client: a cookie jar and the CSRF token.
type staffClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

// login signs in as username (password: username + "-password-1").
func (e *adminEnv) login(t *testing.T, username string) *staffClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	sc := &staffClient{t: t, base: e.hs.URL, c: &http.Client{Jar: jar}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if st := sc.do("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": username + "-password-1"}, &out); st != 200 {
		t.Fatalf("login as %s: status %d", username, st)
	}
	sc.csrf = out.CSRF
	return sc
}

// do sends a JSON request (body nil for none, a []byte as it is) and
// decodes the JSON answer into out when out is not nil; it returns the status.
func (sc *staffClient) do(method, path string, body any, out any) int {
	sc.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, sc.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if sc.csrf != "" {
		req.Header.Set("X-CSRF-Token", sc.csrf)
	}
	resp, err := sc.c.Do(req)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			sc.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

type apiErr struct {
	Error struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Problems []struct {
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"problems"`
		Failures []knowledge.CaseResult `json:"failures"`
	} `json:"error"`
}

func TestAdminAPIAccess(t *testing.T) {
	e := newAdminEnv(t)
	anon := &staffClient{t: t, base: e.hs.URL, c: http.DefaultClient}
	if st := anon.do("GET", "/api/v1/admin/kb/entries", nil, nil); st != 401 {
		t.Errorf("entries without a session: %d, want 401", st)
	}
	agent := e.login(t, "agnes")
	if st := agent.do("GET", "/api/v1/admin/kb/entries", nil, nil); st != 403 {
		t.Errorf("entries as an agent: %d, want 403", st)
	}
	editor := e.login(t, "alice")
	if st := editor.do("GET", "/api/v1/admin/kb/entries", nil, nil); st != 200 {
		t.Errorf("entries as an editor: %d, want 200", st)
	}
	if st := editor.do("GET", "/api/v1/admin/users", nil, nil); st != 403 {
		t.Errorf("user management as an editor: %d, want 403", st)
	}
	noCSRF := *editor
	noCSRF.csrf = ""
	var ae apiErr
	if st := noCSRF.do("POST", "/api/v1/admin/kb/entries/invoice/disable", nil, &ae); st != 403 || ae.Error.Code != "csrf" {
		t.Errorf("a change without the CSRF token: %d %q, want 403 csrf", st, ae.Error.Code)
	}
	if rec, _ := e.kb.Get(context.Background(), "invoice"); rec.Disabled {
		t.Errorf("a refused request disabled the entry")
	}
}

func TestAdminAPIEditHistoryRollback(t *testing.T) {
	e := newAdminEnv(t)
	c := e.login(t, "alice")

	var created recordJSON
	if st := c.do("POST", "/api/v1/admin/kb/entries", map[string]any{"id": "gift-wrap", "locale": "en",
		"question": "Do you offer gift wrapping?", "alternates": []string{"can you wrap my present"},
		"answer": "Yes, for 10 yuan.", "category": "service", "tags": []string{"extras"}}, &created); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if created.Version != 1 || created.UpdatedBy != "alice" {
		t.Errorf("created = %+v, want version 1 by alice", created)
	}
	var ae apiErr
	if st := c.do("POST", "/api/v1/admin/kb/entries", map[string]any{"id": "bad", "question": " "}, &ae); st != 400 ||
		len(ae.Error.Problems) == 0 || !strings.Contains(ae.Error.Problems[0].Message, "question is empty") {
		t.Errorf("create without a question: %d %+v", st, ae)
	}
	if st := c.do("POST", "/api/v1/admin/kb/entries", map[string]any{"id": "invoice", "question": "dup"}, &ae); st != 409 || ae.Error.Code != "id_taken" {
		t.Errorf("create with a taken id: %d %q, want 409 id_taken", st, ae.Error.Code)
	}

	edit := map[string]any{"locale": "en", "question": "Can you gift wrap my order?", "alternates": []string{"can you wrap my present"},
		"answer": "Yes, for 10 yuan.", "category": "service", "tags": []string{"extras"}, "version": 1}
	var v2 recordJSON
	if st := c.do("PUT", "/api/v1/admin/kb/entries/gift-wrap", edit, &v2); st != 200 || v2.Version != 2 {
		t.Fatalf("edit: %d %+v", st, v2)
	}
	edit["answer"] = "No."
	var stale struct {
		Error struct {
			Code    string     `json:"code"`
			Current recordJSON `json:"current"`
		} `json:"error"`
	}
	if st := c.do("PUT", "/api/v1/admin/kb/entries/gift-wrap", edit, &stale); st != 409 || stale.Error.Code != "conflict" ||
		stale.Error.Current.Version != 2 || stale.Error.Current.UpdatedBy != "alice" {
		t.Errorf("edit from a stale version: %d %+v, want 409 conflict with the current version 2 by alice", st, stale.Error)
	}

	var hist struct {
		Versions []versionJSON `json:"versions"`
	}
	if st := c.do("GET", "/api/v1/admin/kb/entries/gift-wrap/versions", nil, &hist); st != 200 || len(hist.Versions) != 2 {
		t.Fatalf("versions: %d %+v", st, hist)
	}
	top := hist.Versions[0]
	if top.Version != 2 || top.Action != "update" || len(top.Changes) != 1 || top.Changes[0].Field != "question" {
		t.Errorf("newest version = %+v, want the question change", top)
	}
	var diff struct {
		Changes []knowledge.FieldDiff `json:"changes"`
	}
	if st := c.do("GET", "/api/v1/admin/kb/entries/gift-wrap/diff?from=1&to=2", nil, &diff); st != 200 || len(diff.Changes) != 1 {
		t.Errorf("diff: %d %+v", st, diff)
	}

	var v3 recordJSON
	if st := c.do("POST", "/api/v1/admin/kb/entries/gift-wrap/rollback", map[string]int{"version": 1}, &v3); st != 200 ||
		v3.Version != 3 || v3.Question != "Do you offer gift wrapping?" {
		t.Errorf("rollback: %d %+v", st, v3)
	}

	// Disable, delete and restore, each visible to search at once.
	try := func(q string) (top string, answerable bool) {
		var out struct {
			Answerable bool     `json:"answerable"`
			Hits       []tryHit `json:"hits"`
		}
		if st := c.do("GET", "/api/v1/admin/kb/try?q="+strings.ReplaceAll(q, " ", "+"), nil, &out); st != 200 {
			t.Fatalf("try: %d", st)
		}
		if len(out.Hits) == 0 {
			return "", false
		}
		return out.Hits[0].ID, out.Answerable
	}
	if id, ok := try("Do you offer gift wrapping"); id != "gift-wrap" || !ok {
		t.Errorf("try after rollback: %q %v", id, ok)
	}
	var explained struct {
		Hits []tryHit `json:"hits"`
	}
	c.do("GET", "/api/v1/admin/kb/try?q=can+you+wrap+my+presnt", nil, &explained)
	if len(explained.Hits) == 0 || explained.Hits[0].Phrasing != "can you wrap my present" ||
		!slices.Contains(explained.Hits[0].Matched, "wrap") || !slices.Contains(explained.Hits[0].Matched, "presnt") {
		t.Errorf("try explains %+v; want the alternate as the phrasing and the words that matched, the misspelt one too", explained.Hits)
	}
	for _, step := range []struct {
		method, path string
		found        bool
	}{
		{"POST", "/api/v1/admin/kb/entries/gift-wrap/disable", false},
		{"POST", "/api/v1/admin/kb/entries/gift-wrap/enable", true},
		{"DELETE", "/api/v1/admin/kb/entries/gift-wrap", false},
		{"POST", "/api/v1/admin/kb/entries/gift-wrap/restore", true},
	} {
		if st := c.do(step.method, step.path, nil, nil); st != 200 {
			t.Fatalf("%s %s: %d", step.method, step.path, st)
		}
		if id, _ := try("Do you offer gift wrapping"); (id == "gift-wrap") != step.found {
			t.Errorf("after %s %s, search finds %q", step.method, step.path, id)
		}
	}
	var list struct {
		Entries []recordJSON `json:"entries"`
		Total   int          `json:"total"`
	}
	if st := c.do("GET", "/api/v1/admin/kb/entries?tag=extras", nil, &list); st != 200 || list.Total != 1 || list.Entries[0].ID != "gift-wrap" {
		t.Errorf("list by tag: %d %+v", st, list)
	}
	if st := c.do("GET", "/api/v1/admin/kb/entries/nope", nil, &ae); st != 404 {
		t.Errorf("unknown id: %d, want 404", st)
	}
}

func TestAdminAPIImportExportAndRegressionGate(t *testing.T) {
	e := newAdminEnv(t)
	c := e.login(t, "root")

	var cs knowledge.RegressionCase
	if st := c.do("POST", "/api/v1/admin/kb/regression", map[string]string{"query": "How do I get an invoice?", "expected_id": "invoice"}, &cs); st != 201 {
		t.Fatalf("add case: %d", st)
	}
	var run knowledge.RegressionReport
	if st := c.do("POST", "/api/v1/admin/kb/regression/run", nil, &run); st != 200 || run.Passed != 1 {
		t.Fatalf("run: %d %+v", st, run)
	}

	csv := "id,locale,question,alternates,answer,category\n" +
		"gift-wrap,en,Do you offer gift wrapping?,can you wrap my present,Yes.,service\n"
	var rep map[string]any
	if st := c.do("POST", "/api/v1/admin/kb/import?format=csv", []byte(csv), &rep); st != 200 || rep["created"] != 1.0 {
		t.Fatalf("import: %d %v", st, rep)
	}
	if rep["regression_after"] == nil {
		t.Errorf("import report lacks the regression run: %v", rep)
	}

	bad := "id,locale,question,alternates,answer,category\nx,en,,,A.,c\ny,fr,Q?,,A.,c\n"
	var ae apiErr
	if st := c.do("POST", "/api/v1/admin/kb/import?format=csv", []byte(bad), &ae); st != 400 || len(ae.Error.Problems) != 2 || ae.Error.Problems[0].Line != 2 {
		t.Errorf("bad import: %d %+v, want 400 with both problems by line", st, ae)
	}

	breaking := "id,locale,question,alternates,answer,category\ninvoice,en,Do you sell gift cards?,,Yes.,billing\n"
	if st := c.do("POST", "/api/v1/admin/kb/import?format=csv", []byte(breaking), &ae); st != 409 || ae.Error.Code != "regression" ||
		len(ae.Error.Failures) != 1 || ae.Error.Failures[0].Case.ExpectedID != "invoice" {
		t.Errorf("regressing import: %d %+v, want 409 regression listing the invoice case", st, ae)
	}
	if rec, _ := e.kb.Get(context.Background(), "invoice"); rec.Question != "How do I get an invoice?" {
		t.Errorf("a refused import changed the entry: %q", rec.Question)
	}

	req, _ := http.NewRequest("GET", e.hs.URL+"/api/v1/admin/kb/export?format=csv", nil)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(string(body), "gift-wrap,en,Do you offer gift wrapping?") {
		t.Errorf("export: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Disposition"), body)
	}
	if st := c.do("DELETE", "/api/v1/admin/kb/regression/"+itoa(cs.ID), nil, nil); st != 204 {
		t.Errorf("delete case: %d", st)
	}
}

func TestAdminAPIGapToAlternate(t *testing.T) {
	e := newAdminEnv(t)
	c := e.login(t, "alice")
	ctx := context.Background()
	if err := e.kb.RecordGap(ctx, knowledge.GapEvent{Question: "Where can I find my fapiao?", Locale: "en",
		Reason: knowledge.GapUnanswered, BestID: "invoice", BestConfidence: 0.2}); err != nil {
		t.Fatal(err)
	}
	var gaps struct {
		Gaps []knowledge.Gap `json:"gaps"`
	}
	if st := c.do("GET", "/api/v1/admin/kb/gaps", nil, &gaps); st != 200 || len(gaps.Gaps) != 1 || gaps.Gaps[0].BestID != "invoice" {
		t.Fatalf("gaps: %d %+v", st, gaps)
	}
	id := itoa(gaps.Gaps[0].ID)
	var rec recordJSON
	if st := c.do("POST", "/api/v1/admin/kb/gaps/"+id+"/alternate", map[string]string{"entry_id": "invoice"}, &rec); st != 200 ||
		rec.Alternates[len(rec.Alternates)-1] != "Where can I find my fapiao?" {
		t.Fatalf("gap to alternate: %d %+v", st, rec)
	}
	res, err := e.kb.Search(ctx, "where can I find my fapiao", knowledge.SearchOptions{})
	if err != nil || !res.Answerable || res.Hits[0].ID != "invoice" {
		t.Errorf("after adding the gap as an alternate, search = %+v, %v", res, err)
	}
	if st := c.do("GET", "/api/v1/admin/kb/gaps", nil, &gaps); st != 200 || len(gaps.Gaps) != 0 {
		t.Errorf("open gaps after resolving: %+v", gaps)
	}
	if st := c.do("POST", "/api/v1/admin/kb/gaps/999/dismiss", nil, nil); st != 404 {
		t.Errorf("dismiss an unknown gap: %d, want 404", st)
	}
}

func TestAdminAPISynonyms(t *testing.T) {
	e := newAdminEnv(t)
	c := e.login(t, "alice")
	var list knowledge.SynonymList
	if st := c.do("GET", "/api/v1/admin/kb/synonyms", nil, &list); st != 200 || !list.Default || len(list.Groups) == 0 {
		t.Fatalf("synonyms: %d %+v, want the default list", st, list)
	}
	var bad struct {
		Error struct {
			Problems []problemJSON `json:"problems"`
		} `json:"error"`
	}
	groupsBad := []map[string]any{{"terms": []string{"a", "b"}}, {"terms": []string{"only"}}}
	if st := c.do("PUT", "/api/v1/admin/kb/synonyms", map[string]any{"groups": groupsBad}, &bad); st != 400 ||
		len(bad.Error.Problems) != 1 || bad.Error.Problems[0].Item != 2 {
		t.Errorf("a one-term second group: %d %+v, want 400 naming group 2", st, bad)
	}
	groups := map[string]any{"groups": []map[string]any{{"locale": "en", "terms": []string{"invoice", "fapiao"}}}}
	if st := c.do("PUT", "/api/v1/admin/kb/synonyms", groups, &list); st != 200 || list.Default || list.UpdatedBy != "alice" {
		t.Fatalf("save synonyms: %d %+v", st, list)
	}
	res, err := e.kb.Search(context.Background(), "where is my fapiao", knowledge.SearchOptions{})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].ID != "invoice" {
		t.Errorf("with invoice = fapiao, search = %+v, %v", res.Hits, err)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
