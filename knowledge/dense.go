package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"github.com/xiaoer-cs/xiaoer/bot/pii"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// Embedder turns texts into unit-length vectors: an OpenAI-compatible
// embeddings endpoint (package knowledge/embedding).
type Embedder interface {
	// Model names the model; cached vectors are kept per model.
	Model() string
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// VectorStore caches entries' vectors per model, so only changed entries
// are embedded again.
type VectorStore interface {
	Vectors(ctx context.Context, model string) ([]EntryVectors, error)
	SaveVectors(ctx context.Context, model string, vs []EntryVectors) error
}

// EntryVectors are an entry's vectors, one per phrasing (the question, then
// each alternate), and a hash of the phrasings they were computed from.
type EntryVectors struct {
	EntryID string
	Hash    string
	Vectors [][]float32
}

// DenseConfig tunes dense retrieval. Zero values mean the documented defaults.
type DenseConfig struct {
	// AnswerSimilarity is the cosine similarity between a question and an
	// entry's closest phrasing at which the dense match alone makes the
	// entry answerable (it maps onto the search threshold; above it the
	// confidence rises to 1). Models differ: calibrate with `xiaoer kb eval`.
	// Zero means 0.8.
	AnswerSimilarity float64
	// Depth is how many dense matches are fused with the keyword matches;
	// zero means 20.
	Depth int
	// QueryTimeout bounds embedding a question; past it the search is
	// keyword-only. Zero means 2 s.
	QueryTimeout time.Duration
	// Backoff is how long dense search is skipped after the endpoint
	// failed, so a dead endpoint costs shoppers no waiting; zero means 30 s.
	Backoff time.Duration
}

// rrfK is the constant of reciprocal-rank fusion (Cormack et al. 2009).
const rrfK = 60

// dense holds the vectors of every searchable entry in memory and keeps
// them in step with the entries: the worker (runDense) embeds the entries
// whose phrasings changed and caches their vectors in the store.
type dense struct {
	emb Embedder
	vs  VectorStore
	cfg DenseConfig
	log *slog.Logger
	now func() time.Time

	mu        sync.RWMutex
	entries   map[string]denseEntry // by id: searchable entries with vectors
	want      map[string]Entry      // searchable entries still to embed
	down      time.Time             // skip query embedding until then
	queries   map[string][]float32  // recent query vectors
	wake      chan struct{}         // tells the worker there is work
	embedding bool                  // the worker is embedding
}

type denseEntry struct {
	e    Entry
	hash string
	vecs [][]float32
}

// phrasingsHash identifies the texts an entry's vectors are computed from.
func phrasingsHash(e Entry) string {
	h := sha256.New()
	for _, p := range append([]string{e.Question}, e.Alternates...) {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// UseEmbeddings turns on dense retrieval: searches fuse the ranking by
// embedding similarity with keyword search (reciprocal-rank fusion), and an
// entry's confidence is the higher of its keyword confidence and its dense
// one. Call it before Sync and run RunEmbedder; without it, search is
// keyword-only.
func (b *Base) UseEmbeddings(emb Embedder, vs VectorStore, cfg DenseConfig) {
	if cfg.AnswerSimilarity <= 0 || cfg.AnswerSimilarity >= 1 {
		cfg.AnswerSimilarity = 0.8
	}
	if cfg.Depth <= 0 {
		cfg.Depth = 20
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 2 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 30 * time.Second
	}
	b.dense = &dense{emb: emb, vs: vs, cfg: cfg, log: b.logger.With("embedding_model", emb.Model()), now: b.now,
		entries: map[string]denseEntry{}, want: map[string]Entry{}, queries: map[string][]float32{},
		wake: make(chan struct{}, 1)}
}

// load replaces the dense set with entries: cached vectors whose hash still
// matches are used, the rest are queued for the worker.
func (d *dense) load(ctx context.Context, entries []Entry) error {
	cached, err := d.vs.Vectors(ctx, d.emb.Model())
	if err != nil {
		return err
	}
	byID := make(map[string]EntryVectors, len(cached))
	for _, c := range cached {
		byID[c.EntryID] = c
	}
	d.mu.Lock()
	d.entries = make(map[string]denseEntry, len(entries))
	d.want = map[string]Entry{}
	for _, e := range entries {
		h := phrasingsHash(e)
		if c, ok := byID[e.ID]; ok && c.Hash == h && len(c.Vectors) == 1+len(e.Alternates) {
			d.entries[e.ID] = denseEntry{e: e, hash: h, vecs: c.Vectors}
		} else {
			d.want[e.ID] = e
		}
	}
	n, pending := len(d.entries), len(d.want)
	d.mu.Unlock()
	d.log.Info("knowledge: dense vectors loaded", "cached", n, "to_embed", pending)
	d.poke()
	return nil
}

// update follows a change: upserted searchable entries keep their vectors
// when their phrasings did not change, else they are queued; removed ones go.
func (d *dense) update(upsert []Entry, remove []string) {
	d.mu.Lock()
	for _, id := range remove {
		delete(d.entries, id)
		delete(d.want, id)
	}
	for _, e := range upsert {
		if old, ok := d.entries[e.ID]; ok && old.hash == phrasingsHash(e) {
			old.e = e
			d.entries[e.ID] = old
			continue
		}
		d.want[e.ID] = e
	}
	d.mu.Unlock()
	d.poke()
}

func (d *dense) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// RunEmbedder embeds queued entries until ctx ends: the entries whose
// phrasings changed since their vectors were cached. A failing endpoint is
// retried with growing pauses (1 s to 5 min); keyword search works
// meanwhile. It returns at once when embeddings are not in use.
func (b *Base) RunEmbedder(ctx context.Context) error {
	d := b.dense
	if d == nil {
		return nil
	}
	pause := time.Second
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		}
		for {
			n, err := d.embedSome(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d.log.Warn("knowledge: embedding entries failed; retrying", "err", err, "in", pause)
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(pause):
				}
				pause = min(pause*2, 5*time.Minute)
				continue
			}
			pause = time.Second
			if n == 0 {
				break
			}
		}
	}
}

// embedBatch caps the phrasings embedded in one round of the worker.
const embedBatch = 256

// embedSome embeds up to embedBatch phrasings of queued entries, caches
// and installs their vectors, and returns how many entries it did.
func (d *dense) embedSome(ctx context.Context) (int, error) {
	d.mu.Lock()
	ids := make([]string, 0, len(d.want))
	for id := range d.want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var (
		batch []Entry
		texts []string
	)
	for _, id := range ids {
		e := d.want[id]
		p := append([]string{e.Question}, e.Alternates...)
		if len(batch) > 0 && len(texts)+len(p) > embedBatch {
			break
		}
		batch = append(batch, e)
		texts = append(texts, p...)
	}
	d.embedding = len(batch) > 0
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.embedding = false
		d.mu.Unlock()
	}()
	if len(batch) == 0 {
		return 0, nil
	}
	vecs, err := d.emb.Embed(ctx, texts)
	if err != nil {
		return 0, err
	}
	out := make([]EntryVectors, 0, len(batch))
	for _, e := range batch {
		n := 1 + len(e.Alternates)
		out = append(out, EntryVectors{EntryID: e.ID, Hash: phrasingsHash(e), Vectors: vecs[:n]})
		vecs = vecs[n:]
	}
	if err := d.vs.SaveVectors(ctx, d.emb.Model(), out); err != nil {
		return 0, err
	}
	d.mu.Lock()
	for i, e := range batch {
		// Install only if the entry was not changed or removed meanwhile.
		if cur, ok := d.want[e.ID]; ok && phrasingsHash(cur) == out[i].Hash {
			delete(d.want, e.ID)
			d.entries[e.ID] = denseEntry{e: cur, hash: out[i].Hash, vecs: out[i].Vectors}
		}
	}
	d.mu.Unlock()
	return len(batch), nil
}

// Pending reports how many entries wait to be embedded (0 without embeddings).
func (b *Base) Pending() int {
	if b.dense == nil {
		return 0
	}
	b.dense.mu.RLock()
	defer b.dense.mu.RUnlock()
	n := len(b.dense.want)
	if b.dense.embedding {
		n = max(n, 1)
	}
	return n
}

// maxQueryCache bounds the cache of recent query vectors.
const maxQueryCache = 1024

// query embeds q, from the cache when it was asked recently; ok is false
// when the endpoint is down or slow (the search is then keyword-only).
// Personal data in q (phones, e-mails, addresses, ID and bank-card
// numbers) is masked first: the question goes to an outside endpoint.
func (d *dense) query(ctx context.Context, q string) ([]float32, bool) {
	q = pii.NewMasker().Mask(q)
	d.mu.RLock()
	v, hit := d.queries[q]
	down := d.now().Before(d.down)
	empty := len(d.entries) == 0
	d.mu.RUnlock()
	if hit {
		return v, true
	}
	if down || empty {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.QueryTimeout)
	defer cancel()
	vs, err := d.emb.Embed(ctx, []string{q})
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil || len(vs) != 1 {
		d.down = d.now().Add(d.cfg.Backoff)
		d.log.Warn("knowledge: embedding a question failed; keyword search only for a while", "err", err, "for", d.cfg.Backoff)
		return nil, false
	}
	if len(d.queries) >= maxQueryCache {
		clear(d.queries)
	}
	d.queries[q] = vs[0]
	return vs[0], true
}

// denseHit is an entry and its best cosine similarity to the question.
type denseHit struct {
	e   Entry
	cos float64
}

// top returns the depth entries closest to qv (by their closest phrasing)
// that pass the search's filters.
func (d *dense) top(qv []float32, locale string, opts SearchOptions) []denseHit {
	d.mu.RLock()
	defer d.mu.RUnlock()
	hits := make([]denseHit, 0, d.cfg.Depth+1)
	for _, de := range d.entries {
		if !passes(de.e, locale, opts) {
			continue
		}
		best := float32(-1)
		for _, v := range de.vecs {
			if len(v) != len(qv) {
				continue
			}
			var dot float32
			for i := range v {
				dot += v[i] * qv[i]
			}
			best = max(best, dot)
		}
		if best < 0 {
			continue
		}
		if len(hits) == d.cfg.Depth && float64(best) <= hits[len(hits)-1].cos {
			continue
		}
		i := sort.Search(len(hits), func(i int) bool { return hits[i].cos < float64(best) })
		hits = slices.Insert(hits, i, denseHit{e: de.e, cos: float64(best)})
		if len(hits) > d.cfg.Depth {
			hits = hits[:d.cfg.Depth]
		}
	}
	return hits
}

// passes applies a search's filters to an entry, as filterQuery does in bleve.
func passes(e Entry, locale string, opts SearchOptions) bool {
	if locale != LocaleAny && e.Locale != locale && e.Locale != LocaleAny {
		return false
	}
	if opts.Category != "" && e.Category != opts.Category {
		return false
	}
	for _, t := range opts.Tags {
		if t != "" && !slices.Contains(e.Tags, t) {
			return false
		}
	}
	return true
}

// confidence maps a cosine similarity onto the confidence scale: the
// answer similarity lands on the threshold, 1 on 1.
func (d *dense) confidence(cos, threshold float64) float64 {
	s := d.cfg.AnswerSimilarity
	c := threshold + (cos-s)*(1-threshold)/(1-s)
	return math.Max(0, math.Min(1, c))
}

// fuse merges keyword hits with dense ones by reciprocal-rank fusion.
// Entries only the dense side found get their keyword confidence from ix.
func (d *dense) fuse(ix *Index, q, locale string, lex Result, dh []denseHit, limit int) Result {
	type fused struct {
		hit   Hit
		score float64
	}
	byID := map[string]*fused{}
	var order []*fused
	for i, h := range lex.Hits {
		f := &fused{hit: h, score: 1 / float64(rrfK+i+1)}
		byID[h.ID] = f
		order = append(order, f)
	}
	var extra []Entry
	for _, h := range dh {
		if _, ok := byID[h.e.ID]; !ok {
			extra = append(extra, h.e)
		}
	}
	scored := ix.confidences(q, locale, extra)
	for i, h := range dh {
		f, ok := byID[h.e.ID]
		if !ok {
			f = &fused{hit: scored[h.e.ID]}
			byID[h.e.ID] = f
			order = append(order, f)
		}
		f.score += 1 / float64(rrfK+i+1)
		f.hit.Similarity = h.cos
		f.hit.Confidence = math.Max(f.hit.Confidence, d.confidence(h.cos, lex.Threshold))
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].score > order[j].score })
	out := Result{Threshold: lex.Threshold, Hits: make([]Hit, 0, min(limit, len(order)))}
	for _, f := range order[:min(limit, len(order))] {
		out.Hits = append(out.Hits, f.hit)
	}
	if len(out.Hits) > 0 {
		out.Answerable = out.Hits[0].Confidence >= out.Threshold
	}
	return out
}

// confidences scores q against entries that the keyword search did not
// return, as Index.Search scores its hits, by id: their keyword confidence
// and the words that matched.
func (ix *Index) confidences(q string, locale string, entries []Entry) map[string]Hit {
	out := make(map[string]Hit, len(entries))
	if len(entries) == 0 {
		return out
	}
	idx, err := ix.open()
	if err != nil {
		return out
	}
	defer ix.mu.RUnlock()
	stats, err := ix.termStats(idx)
	if err != nil {
		return out
	}
	aq := ix.analyseQuery(q, stats, locale)
	gamma := 1.0
	if ix.cfg.CJKGamma > 0 && ix.cfg.CJKGamma < 1 {
		gamma = 1 - (1-ix.cfg.CJKGamma)*aq.cjk
	}
	for _, e := range entries {
		sc := ix.scoreEntry(&aq, e, stats)
		out[e.ID] = explain(Hit{Entry: e, Confidence: ix.cfg.Rerank.confidence(sc, gamma)}, &aq, sc)
	}
	return out
}
