package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// postIngest posts records to the ingestion API with a service token.
func postIngest(t *testing.T, s *testServer, token, kind, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.Base+"/api/v1/ingest/"+kind, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestShopBackendPostsAnOrder: the shop's backend gets a service token,
// posts a new order, and the shopper asking right after the POST returns
// is shown that order; a revoked token is refused at once.
func TestShopBackendPostsAnOrder(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--demo")
	// Made while the server runs, as an operator would.
	tok, errOut, err := xiaoer(t, "token", "--data", dir, "--service", "--name", "shop-backend")
	if err != nil || !strings.HasPrefix(tok, "xst_") {
		t.Fatalf("token --service: %q %v %s", tok, err, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shopper := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, dir, "demo-cn")})

	placed := time.Now().Add(-time.Minute).Format(time.RFC3339)
	order := fmt.Sprintf(`[{"id":"XE2026119901","shopper_id":"demo-cn","status":"shipped","total_cents":12900,"carrier":"SF","tracking_no":"SF7000001",
		"placed_at":%q,"items":[{"sku":"SKU-NEW-1","name_zh":"保温杯","name_en":"Vacuum flask","qty":1,"price_cents":12900}],
		"tracking":[{"at":%q,"text_zh":"快件已从杭州发出","text_en":"Left Hangzhou"}]}]`, placed, placed)
	code, body := postIngest(t, s, tok, "orders", order)
	if code != 200 || !strings.Contains(body, `"upserted":1`) {
		t.Fatalf("post order: %d %s", code, body)
	}
	// No waiting: the next question already finds it.
	r := ask(t, ctx, shopper, "订单 XE2026119901 到哪了")
	if len(r.Cards) == 0 || r.Cards[0].OrderID != "XE2026119901" || r.Cards[0].Status != "shipped" {
		t.Fatalf("right after the POST the shopper got %s, want the new order's card", r.Raw)
	}

	if _, errOut, err := xiaoer(t, "token", "--data", dir, "--service", "--revoke", "shop-backend"); err != nil {
		t.Fatalf("revoke: %v %s", err, errOut)
	}
	if code, _ := postIngest(t, s, tok, "orders", order); code != http.StatusUnauthorized {
		t.Errorf("a revoked token right after revoking: %d, want 401", code)
	}
	list, _, err := xiaoer(t, "token", "--data", dir, "--service", "--list")
	if err != nil || !strings.Contains(list, "shop-backend") || !strings.Contains(list, "revoked") || strings.Contains(list, tok) {
		t.Errorf("token --service --list: %v\n%s", err, list)
	}
	if strings.Contains(s.Logs.String(), tok) {
		t.Error("the server logged the service token")
	}
}

// TestServiceTokenFromConfig: XIAOER_SERVICE_TOKEN_FILE names a token the
// shop's deployment holds; it is accepted, anything else is not.
func TestServiceTokenFromConfig(t *testing.T) {
	dir := t.TempDir()
	secret := strings.Repeat("k", 40)
	file := filepath.Join(t.TempDir(), "service-token")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServerEnv(t, dir, map[string]string{"XIAOER_SERVICE_TOKEN_FILE": file})
	if code, body := postIngest(t, s, secret, "products", `[{"sku":"SKU-1","name_en":"Flask","price_cents":100}]`); code != 200 {
		t.Errorf("configured token: %d %s", code, body)
	}
	if code, _ := postIngest(t, s, secret+"x", "products", `[]`); code != 401 {
		t.Errorf("another token: %d, want 401", code)
	}
}

func TestImportJSONL(t *testing.T) {
	dir := t.TempDir()
	// Create the database as serve would.
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	lines := []string{
		`{"type":"product","sku":"SKU-1","name_zh":"保温杯","name_en":"Flask","category":"home","price_cents":12900}`,
		`{"type":"shopper","id":"s1","name":"王芳","lang":"zh","gender":"female","preferred_categories":["home"]}`,
		``,
		`{"type":"shopper","id":"s2","lang":"fr"}`,
		`{"type":"order","id":"XE1","shopper_id":"s1","status":"paid","total_cents":12900,"placed_at":"2026-05-01T10:00:00+08:00","items":[{"sku":"SKU-1","name_zh":"保温杯","qty":1,"price_cents":12900}]}`,
		`{"type":"order","id":"XE2","shopper_id":"ghost","status":"paid","total_cents":1,"placed_at":"2026-05-01T10:00:00+08:00","items":[{"sku":"SKU-1","name_zh":"保温杯","qty":1,"price_cents":1}]}`,
		`{"type":"shipment","order_id":"XE1","carrier":"SF","tracking_no":"SF1","status":"shipped"}`,
		`{"type":"refund","id":"R1"}`,
		`not json`,
	}
	file := filepath.Join(t.TempDir(), "shop.jsonl")
	os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	out, _, err := xiaoer(t, "import", "--data", dir, file)
	if err == nil || exitCode(err) != 1 {
		t.Errorf("import with bad lines: %v, want a failure (exit 1)", err)
	}
	for _, want := range []string{`line 4 (s2): unknown lang "fr"`, `line 6 (XE2): unknown shopper "ghost"`, `line 8: unknown type "refund"`, "line 9: bad JSON", "4 upserted, 4 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	store, err = sqlite.Open(context.Background(), filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	o, err := store.OrderOf(context.Background(), "s1", "XE1")
	if err != nil || o.TrackingNo != "SF1" || o.Status != "shipped" {
		t.Errorf("the good lines were not all written: %+v %v", o, err)
	}

	// The good lines again: nothing changes, and the command succeeds.
	good := strings.Join([]string{lines[0], lines[1], lines[4], lines[6]}, "\n")
	os.WriteFile(file, []byte(good), 0o600)
	if out, _, err := xiaoer(t, "import", "--data", dir, file); err != nil || !strings.Contains(out, "4 upserted, 0 failed") {
		t.Errorf("import of good lines: %v\n%s", err, out)
	}
	if again, _ := store.OrderOf(context.Background(), "s1", "XE1"); !ordersEqual(o, again) {
		t.Errorf("importing the same lines twice changed the order:\n%+v\n%+v", o, again)
	}
}

func ordersEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
