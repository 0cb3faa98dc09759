package knowledge_test

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/knowledge/embedding"
)

// scriptedEmbeddings is an OpenAI-compatible embeddings endpoint whose
// vectors know a few meanings: words in one concept share a dimension, so
// "voucher" lands near "gift card" though they share no word. Every other
// word gets a hashed dimension of its own.
type scriptedEmbeddings struct {
	srv *httptest.Server

	mu     sync.Mutex
	texts  []string // every text embedded, in order
	down   bool     // answer 503
	stall  time.Duration
	called int
}

var concepts = [][]string{
	{"gift", "voucher", "present", "coupon"},
	{"parcel", "package", "shipment", "arrive", "delivery"},
	{"invoice", "receipt", "bill", "fapiao"},
}

func conceptVector(s string) []float32 {
	v := make([]float32, 64)
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r < 'a' || r > 'z' }) {
		w = strings.TrimSuffix(w, "s")
		dim := -1
		for i, c := range concepts {
			for _, cw := range c {
				if w == cw {
					dim = i
				}
			}
		}
		if dim >= 0 {
			v[dim] += 3
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(w))
		v[8+int(h.Sum32()%56)] += 0.3
	}
	return v
}

func newScriptedEmbeddings(t *testing.T) *scriptedEmbeddings {
	s := &scriptedEmbeddings{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/v1/embeddings" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.called++
		down, stall := s.down, s.stall
		if !down {
			s.texts = append(s.texts, req.Input...)
		}
		s.mu.Unlock()
		if stall > 0 {
			select {
			case <-time.After(stall):
			case <-r.Context().Done():
				return
			}
		}
		if down {
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
			return
		}
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i, in := range req.Input {
			data = append(data, item{"embedding", i, conceptVector(in)})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model})
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scriptedEmbeddings) embedded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}

func (s *scriptedEmbeddings) set(down bool, stall time.Duration) {
	s.mu.Lock()
	s.down, s.stall = down, stall
	s.mu.Unlock()
}

func (s *scriptedEmbeddings) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.called
}

// openDense opens a knowledge base in dir with embeddings from emb, syncs
// it and runs its embedder until the test ends.
// The returned function closes it early (also done when the test ends).
func openDense(t *testing.T, dir string, emb *scriptedEmbeddings, cfg knowledge.DenseConfig) (*knowledge.Base, func()) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.OpenIndex(filepath.Join(dir, "index"), nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := embedding.New(embedding.Config{BaseURL: emb.srv.URL + "/v1", Model: "concepts-64"})
	if err != nil {
		t.Fatal(err)
	}
	b := knowledge.NewBase(store, ix, nil)
	b.UseEmbeddings(client, store, cfg)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.RunEmbedder(runCtx); close(done) }()
	var once sync.Once
	closeAll := func() { once.Do(func() { stop(); <-done; ix.Close(); store.Close() }) }
	t.Cleanup(closeAll)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return b, closeAll
}

// settle waits until every entry is embedded.
func settle(t *testing.T, b *knowledge.Base) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries still to embed after 10 s", b.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDenseFindsParaphrasesAndCachesVectors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	emb := newScriptedEmbeddings(t)
	b, _ := openDense(t, dir, emb, knowledge.DenseConfig{AnswerSimilarity: 0.8})
	if _, err := b.Import(ctx, opsEntries, knowledge.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	phrasings := 0
	for _, e := range opsEntries {
		phrasings += 1 + len(e.Alternates)
	}
	if got := len(emb.embedded()); got != phrasings {
		t.Fatalf("embedded %d texts, want every phrasing once (%d)", got, phrasings)
	}

	// No word in common with the gift-card entry, same meaning.
	res, err := b.Search(ctx, "I would like a voucher", knowledge.SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 || res.Hits[0].ID != "gift-card" || !res.Answerable || res.Hits[0].Similarity < 0.8 {
		t.Fatalf("dense search = %+v, want gift-card first and answerable", res)
	}
	// Filters apply to the dense side too.
	if res, _ := b.Search(ctx, "I would like a voucher", knowledge.SearchOptions{Category: "shipping"}); len(res.Hits) > 0 && res.Hits[0].ID == "gift-card" {
		t.Errorf("a category filter let a dense match through: %v", res.Hits[0].ID)
	}

	// An edit re-embeds that entry alone.
	before := len(emb.embedded())
	rec, _ := b.Get(ctx, "invoice")
	e := rec.Entry
	e.Alternates = append(e.Alternates, "can I have a bill for tax")
	if _, err := b.Update(ctx, e, rec.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	if got := emb.embedded()[before:]; len(got) != 1+len(e.Alternates) || got[0] != e.Question {
		t.Errorf("after editing one entry, embedded %q; want only its phrasings", got)
	}
	// An answer-only edit needs no new vectors.
	rec, _ = b.Get(ctx, "invoice")
	e = rec.Entry
	e.Answer = "Ask for it under My Orders, any time."
	before = len(emb.embedded())
	if _, err := b.Update(ctx, e, rec.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	if got := emb.embedded()[before:]; len(got) != 0 {
		t.Errorf("an answer-only edit embedded %q", got)
	}
}

func TestDenseVectorsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	emb := newScriptedEmbeddings(t)
	b, closeFirst := openDense(t, dir, emb, knowledge.DenseConfig{})
	if _, err := b.Import(ctx, opsEntries, knowledge.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	first := len(emb.embedded())
	closeFirst()

	// The next start on the same folder.
	emb2 := newScriptedEmbeddings(t)
	b2, _ := openDense(t, dir, emb2, knowledge.DenseConfig{})
	settle(t, b2)
	if got := emb2.embedded(); len(got) != 0 {
		t.Errorf("after a restart, %d texts were embedded again (first run: %d); want the cached vectors used", len(got), first)
	}
	if res, _ := b2.Search(ctx, "where is my package", knowledge.SearchOptions{}); len(res.Hits) == 0 || res.Hits[0].ID != "ship-time" {
		t.Errorf("after a restart, dense search = %+v", res.Hits)
	}
}

func TestDenseDownFallsBackToKeywords(t *testing.T) {
	ctx := context.Background()
	emb := newScriptedEmbeddings(t)
	b, _ := openDense(t, t.TempDir(), emb, knowledge.DenseConfig{QueryTimeout: 200 * time.Millisecond, Backoff: time.Hour})
	if _, err := b.Import(ctx, opsEntries, knowledge.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	settle(t, b)

	emb.set(false, 5*time.Second) // the endpoint hangs
	start := time.Now()
	res, err := b.Search(ctx, "How do I get an invoice?", knowledge.SearchOptions{})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].ID != "invoice" || !res.Answerable {
		t.Fatalf("search with a hanging endpoint = %+v, %v; want the keyword answer", res, err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("search with a hanging endpoint took %v; want it bounded by the query timeout", took)
	}
	// While the endpoint is known to be down, no search waits on it.
	calls := emb.calls()
	for range 5 {
		if _, err := b.Search(ctx, "How long does shipping take?", knowledge.SearchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if emb.calls() != calls {
		t.Errorf("searches called a known-dead endpoint %d more times", emb.calls()-calls)
	}
	if res, _ := b.Search(ctx, "How long does shipping take?", knowledge.SearchOptions{}); len(res.Hits) == 0 || res.Hits[0].ID != "ship-time" {
		t.Errorf("keyword search while the endpoint is down = %+v", res.Hits)
	}
}

// TestDenseMasksPersonalDataBeforeEmbedding: a question goes to an outside
// embeddings endpoint only with phones, e-mails and addresses masked.
func TestDenseMasksPersonalDataBeforeEmbedding(t *testing.T) {
	ctx := context.Background()
	emb := newScriptedEmbeddings(t)
	b, _ := openDense(t, t.TempDir(), emb, knowledge.DenseConfig{AnswerSimilarity: 0.8})
	if _, err := b.Import(ctx, opsEntries, knowledge.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	if _, err := b.Search(ctx, "I would like a voucher, call me on 13800138000 or mail lin@example.com", knowledge.SearchOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, text := range emb.embedded() {
		if strings.Contains(text, "13800138000") || strings.Contains(text, "lin@example.com") {
			t.Fatalf("the embeddings endpoint was sent %q", text)
		}
	}
}
