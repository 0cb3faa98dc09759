package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// TestReviewIngestAuthEdges: a shopper's chat token is no service token;
// padding or a revoked token's value gets nothing written. (These held
// up; kept as regression tests.)
func TestReviewIngestAuthEdges(t *testing.T) {
	hs, store, token, revoked := newIngestServer(t, Config{})
	signer, err := shoptoken.NewSigner([]byte("0123456789abcdef0123456789abcdef"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	shopperTok, err := signer.Sign("s1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	body := `[{"id":"s1","name":"x","lang":"zh"}]`
	for name, auth := range map[string]string{
		"shopper token":       "Bearer " + shopperTok,
		"revoked":             "Bearer " + revoked,
		"empty":               "Bearer ",
		"prefix only":         "Bearer xst_",
		"token without space": "Bearer" + token,
		"basic":               "Basic " + token,
	} {
		req, _ := http.NewRequest("POST", hs.URL+"/api/v1/ingest/shoppers", strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, resp.StatusCode)
		}
	}
	if _, err := store.Shopper(context.Background(), "s1"); err == nil {
		t.Error("a refused request wrote the shopper")
	}
}
