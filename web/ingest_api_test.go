package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/ingest"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
)

// newIngestServer serves the ingestion API over a real store, with one
// live service token (returned) and one revoked.
func newIngestServer(t *testing.T, cfg Config) (hs *httptest.Server, store *sqlite.Store, token, revoked string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	token, hash := ingest.NewToken()
	revoked, rhash := ingest.NewToken()
	if err := store.CreateServiceToken(ctx, "backend", hash); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateServiceToken(ctx, "old", rhash); err != nil {
		t.Fatal(err)
	}
	if err := store.RevokeServiceToken(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, Deps{Hub: NewHub(), Ingest: ingest.New(store, nil), ServiceTokens: ingest.NewTokens(store, "")},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs = httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs, store, token, revoked
}

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIngestAPINeedsAServiceToken(t *testing.T) {
	hs, store, _, revoked := newIngestServer(t, Config{})
	body := `[{"id":"s1","name":"A","lang":"zh"}]`
	for name, tok := range map[string]string{"no token": "", "wrong token": "xst_wrong", "revoked token": revoked} {
		if code, _ := post(t, hs.URL+"/api/v1/ingest/shoppers", tok, body); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	if ids, _ := store.ShopperIDs(context.Background()); len(ids) != 0 {
		t.Errorf("refused requests wrote %v", ids)
	}
	// A session cookie or a query parameter is no token either.
	req, _ := http.NewRequest("POST", hs.URL+"/api/v1/ingest/shoppers?token="+revoked, strings.NewReader(body))
	req.Header.Set("Authorization", "Basic "+revoked)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("basic auth: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestIngestAPIPartialSuccess(t *testing.T) {
	hs, store, token, _ := newIngestServer(t, Config{})
	ctx := context.Background()
	code, body := post(t, hs.URL+"/api/v1/ingest/shoppers", token,
		`{"records":[{"id":"s1","name":"A","lang":"zh"},{"id":"s2","lang":"fr"},{"id":"s3","name":"C","lang":"en"}]}`)
	var res ingest.Result
	if err := json.Unmarshal([]byte(body), &res); err != nil || code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if res.Upserted != 2 || res.Failed != 1 || len(res.Errors) != 1 || res.Errors[0].Index != 1 || res.Errors[0].ID != "s2" ||
		!strings.Contains(res.Errors[0].Error, "lang") {
		t.Errorf("result %s", body)
	}
	if ids, _ := store.ShopperIDs(ctx); strings.Join(ids, ",") != "s1,s3" {
		t.Errorf("shoppers %v, want the two valid ones", ids)
	}
	code, body = post(t, hs.URL+"/api/v1/ingest/orders", token, `[{"id":"XE1","shopper_id":"ghost","status":"paid","total_cents":1,
		"placed_at":"2026-01-01T00:00:00Z","items":[{"sku":"A","name_en":"a","qty":1,"price_cents":1}]}]`)
	if code != 200 || !strings.Contains(body, `unknown shopper \"ghost\"`) || !strings.Contains(body, `"failed":1`) {
		t.Errorf("order of an unknown shopper: %d %s", code, body)
	}
	for _, bad := range []string{`{"id":"s1"}`, `"s1"`, `{"records":{}}`, `[1,`} {
		if code, body := post(t, hs.URL+"/api/v1/ingest/shoppers", token, bad); code != 400 || !strings.Contains(body, `"invalid"`) {
			t.Errorf("body %s: %d %s, want 400", bad, code, body)
		}
	}
	if code, _ := post(t, hs.URL+"/api/v1/ingest/refunds", token, `[]`); code != 404 && code != 405 {
		t.Errorf("unknown kind: %d", code)
	}
}

func TestIngestAPIBodyLimit(t *testing.T) {
	hs, store, token, _ := newIngestServer(t, Config{MaxIngestBytes: 1000, MaxIngestRecords: 3})
	big := `[{"id":"s1","lang":"zh","address":"` + strings.Repeat("x", 2000) + `"}]`
	if code, body := post(t, hs.URL+"/api/v1/ingest/shoppers", token, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the limit: %d %s, want 413", code, body)
	}
	many := `[{"id":"a","lang":"zh"},{"id":"b","lang":"zh"},{"id":"c","lang":"zh"},{"id":"d","lang":"zh"}]`
	if code, body := post(t, hs.URL+"/api/v1/ingest/shoppers", token, many); code != http.StatusRequestEntityTooLarge {
		t.Errorf("too many records: %d %s, want 413", code, body)
	}
	if ids, _ := store.ShopperIDs(context.Background()); len(ids) != 0 {
		t.Errorf("refused bodies wrote %v", ids)
	}
}

// TestIngestAPIBearerSchemeAnyCase: the auth scheme is case-insensitive
// (RFC 9110 §11.1), so "bearer" and "BEARER" work like "Bearer".
func TestIngestAPIBearerSchemeAnyCase(t *testing.T) {
	hs, _, token, _ := newIngestServer(t, Config{})
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		req, _ := http.NewRequest("POST", hs.URL+"/api/v1/ingest/shoppers", strings.NewReader(`[{"id":"s1","name":"A","lang":"zh"}]`))
		req.Header.Set("Authorization", scheme+" "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d, want 200", scheme, resp.StatusCode)
		}
	}
}
