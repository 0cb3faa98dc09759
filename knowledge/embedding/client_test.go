package embedding

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeEndpoint answers POST /embeddings as an OpenAI-compatible server
// does; vec gives each input's vector.
func fakeEndpoint(t *testing.T, vec func(i int, s string) []float32, requests *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
			return
		}
		requests.Add(1)
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		out := struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
			Model  string `json:"model"`
		}{Object: "list", Model: req.Model}
		for i, s := range req.Input {
			out.Data = append(out.Data, item{Object: "embedding", Index: i, Embedding: vec(i, s)})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestEmbedBatchesAndNormalises(t *testing.T) {
	var requests atomic.Int64
	srv := fakeEndpoint(t, func(_ int, s string) []float32 { return []float32{float32(len(s)), 0, 3} }, &requests)
	c, err := New(Config{BaseURL: srv.URL + "/v1/", APIKey: "sk-test", Model: "m", BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := c.Embed(context.Background(), []string{"abcd", "", "line\nbreak", "x", "yy"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 5 || requests.Load() != 3 {
		t.Fatalf("%d vectors in %d requests, want 5 in 3", len(vs), requests.Load())
	}
	for i, v := range vs {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("vector %d has length %v, want 1", i, math.Sqrt(n))
		}
	}
	if vs[0][0] <= vs[3][0] {
		t.Errorf("vectors out of order: %v", vs)
	}
}

func TestEmbedErrors(t *testing.T) {
	var requests atomic.Int64
	short := fakeEndpoint(t, func(i int, _ string) []float32 { return make([]float32, 1+i) }, &requests)
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"wrong key", Config{BaseURL: short.URL + "/v1", APIKey: "nope", Model: "m"}, "401"},
		{"vectors of differing length", Config{BaseURL: short.URL + "/v1", APIKey: "sk-test", Model: "m"}, "differing"},
		{"nothing listening", Config{BaseURL: "http://127.0.0.1:1/v1", Model: "m", Timeout: time.Second}, "connect"},
	} {
		c, err := New(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Embed(context.Background(), []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Embed = %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(Config{BaseURL: "ftp://x", Model: "m"}); err == nil {
		t.Errorf("New accepted an ftp URL")
	}
	if _, err := New(Config{BaseURL: "http://x"}); err == nil {
		t.Errorf("New accepted a missing model")
	}
}

func TestLogValueHidesTheKey(t *testing.T) {
	c, _ := New(Config{BaseURL: "http://127.0.0.1:9/v1", APIKey: "sk-secret", Model: "m"})
	if s := c.LogValue().String(); strings.Contains(s, "sk-secret") {
		t.Errorf("LogValue = %s, shows the key", s)
	}
}
