package knowledge

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// Hit is one search result.
type Hit struct {
	Entry
	Score      float64 // raw bleve score
	Confidence float64 // 0..1, comparable across queries (see Index.Search)
	// Similarity is the cosine similarity of the question to the entry's
	// closest phrasing when embeddings are in use (Base.UseEmbeddings); 0
	// otherwise.
	Similarity float64
	// Matched are the parts of the query, as the user wrote them, that
	// the entry's best-matching phrasing matched (directly, through a
	// spelling correction or a synonym), in query order.
	Matched []string
	// Phrasing is the entry's best-matching phrasing: its question or one
	// of its alternates.
	Phrasing string
}

// Result is what a search found.
type Result struct {
	Hits       []Hit
	Answerable bool    // Hits[0].Confidence >= Threshold: the bot would answer with the top hit
	Threshold  float64 // the threshold Answerable was decided with
}

// Search limits and defaults.
const (
	DefaultLimit = 5
	MaxLimit     = 50
	// DefaultThreshold is the confidence at or above which the top hit is
	// answerable. It was chosen on the dev sets to balance answering
	// in-scope questions against declining out-of-scope ones; see
	// docs/retrieval.md.
	DefaultThreshold = 0.375
	// MaxQueryLen caps the bytes of a query that are searched; the rest is
	// ignored (a pasted essay is not an FAQ question).
	MaxQueryLen = 1000
)

// SearchOptions tunes a search. The zero value is usable.
type SearchOptions struct {
	Limit  int    // zero means DefaultLimit (5); capped at MaxLimit (50)
	Locale string // "" = all; "zh-CN" or "en" (or a spelling NormalizeLocale accepts) restricts to that locale plus entries with an empty locale
	// Threshold is the confidence the top hit needs for Result.Answerable;
	// zero means DefaultThreshold.
	Threshold float64
	// Category restricts the search to entries of that category; "" = all.
	Category string
	// Tags restricts the search to entries that have every one of these tags.
	Tags []string
}

// Search finds the entries that best match q.
//
// bleve scores q against question, alternates and answer (boosted in that
// order); the top RerankDepth hits are then re-ranked by a blend of the
// score normalised by the top score and Confidence, and cut to opts.Limit.
//
// Confidence measures how well the entry's best phrasing (its question or
// any alternate) matches q, independent of the rest of the query's hits:
// with q and the phrasing analysed into terms and each term weighted by its
// IDF over all phrasings, it is the geometric mean of the share of q's
// weight that the phrasing covers and the share of the phrasing's weight
// that q covers. A query with no analysable terms (empty, punctuation, stop
// words only) or only question words, negations and particles ("how?",
// "why not") returns no hits.
func (ix *Index) Search(ctx context.Context, q string, opts SearchOptions) (Result, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	threshold := opts.Threshold
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	res := Result{Threshold: threshold}
	locale, ok := NormalizeLocale(opts.Locale)
	if !ok {
		return res, fmt.Errorf("knowledge: search: locale %q is not supported", opts.Locale)
	}

	if len(q) > MaxQueryLen {
		cut := MaxQueryLen
		for cut > 0 && !utf8.RuneStart(q[cut]) {
			cut--
		}
		q = q[:cut]
	}
	if !ix.searchable(q) {
		return res, nil
	}
	idx, err := ix.open()
	if err != nil {
		return res, err
	}
	defer ix.mu.RUnlock()
	stats, err := ix.termStats(idx)
	if err != nil {
		return res, fmt.Errorf("knowledge: search: %w", err)
	}
	aq := ix.analyseQuery(q, stats, locale)
	terms := searchTerms(&aq, stats)

	bq := bleve.NewBooleanQuery()
	for _, f := range []struct {
		field string
		boost float64
	}{
		{fieldPhrasings, ix.cfg.BoostPhrasings},
		{fieldAnswer, ix.cfg.BoostAnswer},
	} {
		if f.boost <= 0 {
			continue
		}
		bq.AddShould(fieldQuery(terms, f.field, f.boost))
	}
	if f := filterQuery(locale, opts); f != nil {
		bq.AddFilter(f) // (AddFilter keeps only the last query it is given)
	}
	req := bleve.NewSearchRequestOptions(bq, max(limit, ix.cfg.RerankDepth), 0, false)
	sr, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return res, fmt.Errorf("knowledge: search: %w", err)
	}
	if len(sr.Hits) == 0 {
		return res, nil
	}

	gamma := 1.0
	if ix.cfg.CJKGamma > 0 && ix.cfg.CJKGamma < 1 {
		gamma = 1 - (1-ix.cfg.CJKGamma)*aq.cjk
	}
	hits := make([]Hit, 0, len(sr.Hits))
	blend := make([]float64, 0, len(sr.Hits))
	top := sr.Hits[0].Score
	for _, h := range sr.Hits {
		f, err := ix.hitFeatures(idx, h.ID, stats)
		if err != nil {
			return res, fmt.Errorf("knowledge: search: hit %q: %w", h.ID, err)
		}
		s := ix.scoreFeatures(&aq, f)
		hits = append(hits, explain(Hit{Entry: f.e, Score: h.Score, Confidence: ix.cfg.Rerank.confidence(s, gamma)}, &aq, s))
		norm := 0.0
		if top > 0 {
			norm = h.Score / top
		}
		blend = append(blend, ix.cfg.Rerank.rank(ix.cfg.ScoreWeight, norm, s))
	}
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return blend[order[a]] > blend[order[b]] })
	res.Hits = make([]Hit, 0, min(limit, len(hits)))
	for _, i := range order[:min(limit, len(order))] {
		res.Hits = append(res.Hits, hits[i])
	}
	res.Answerable = res.Hits[0].Confidence >= threshold
	return res, nil
}

// filterQuery restricts a search to the locale (and entries for any
// locale), the category and every tag asked for; nil when nothing is asked.
func filterQuery(locale string, opts SearchOptions) query.Query {
	var fs []query.Query
	if locale != LocaleAny {
		fs = append(fs, bleve.NewDisjunctionQuery(termQuery(fieldLocale, locale), termQuery(fieldLocale, localeAnyKey)))
	}
	if opts.Category != "" {
		fs = append(fs, termQuery(fieldCategory, opts.Category))
	}
	for _, tag := range opts.Tags {
		if tag != "" {
			fs = append(fs, termQuery(fieldTags, tag))
		}
	}
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return bleve.NewConjunctionQuery(fs...)
}

func termQuery(field, term string) query.Query {
	tq := bleve.NewTermQuery(term)
	tq.SetField(field)
	return tq
}

// terms analyses s with the index analyzer and returns its distinct terms
// in order.
func (ix *Index) terms(s string) []string {
	if s == "" {
		return nil
	}
	ts := ix.analyzer.Analyze([]byte(s))
	out := make([]string, 0, len(ts))
	seen := make(map[string]bool, len(ts))
	for _, t := range ts {
		term := string(t.Term)
		if term == "" || seen[term] {
			continue
		}
		seen[term] = true
		out = append(out, term)
	}
	return out
}

// weighted is a set of terms with their IDF weights and the weights' sum.
type weighted struct {
	w    map[string]float64
	sum  float64
	norm float64 // L2 norm of the weights
}

// termStats holds document frequencies over phrasings (question and
// alternates), read from the index's term dictionary.
type termStats struct {
	n  float64
	df map[string]float64
	// phrasings caches each phrasing's weighted terms (string → weighted):
	// analysing phrasings was most of a search's time. It lives and dies
	// with the stats, so a write that changes the index drops it too.
	phrasings sync.Map
	// entries caches each hit entry's features (id → *entryFeatures), so a
	// search neither loads nor decodes the stored entry nor rebuilds its
	// centroid for an entry seen before; at most maxCachedEntries are kept.
	entries       sync.Map
	cachedEntries atomic.Int64
}

// maxCachedEntries bounds termStats.entries: the entries shoppers ask
// about most stay cached, a long tail is computed per search.
const maxCachedEntries = 50_000

// hitFeatures returns the features of the indexed entry id, from the
// cache or from its stored document.
func (ix *Index) hitFeatures(idx bleve.Index, id string, stats *termStats) (*entryFeatures, error) {
	if f, ok := stats.entries.Load(id); ok {
		return f.(*entryFeatures), nil
	}
	doc, err := idx.Document(id)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("entry %q is not in the index", id)
	}
	var stored, terms []byte
	doc.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldEntry:
			stored = f.Value()
		case fieldTerms:
			terms = f.Value()
		}
	})
	e, err := fromStored(string(stored))
	if err != nil {
		return nil, err
	}
	var f *entryFeatures
	if pts := splitPhrasingTerms(string(terms)); len(pts) == 1+len(e.Alternates) {
		pws := make([]weighted, len(pts))
		for i, ts := range pts {
			pws[i] = stats.weigh(ts, ix.cfg.UnknownDF)
		}
		f = newEntryFeatures(e, pws)
	} else {
		f = ix.features(e, stats) // cannot happen with this schema; analyse afresh
	}
	if stats.cachedEntries.Load() < maxCachedEntries {
		if _, loaded := stats.entries.LoadOrStore(id, f); !loaded {
			stats.cachedEntries.Add(1)
		}
	}
	return f, nil
}

// phrasingWeights returns the IDF-weighted terms of a phrasing, analysed
// once per stats generation.
func (ix *Index) phrasingWeights(p string, stats *termStats) weighted {
	if w, ok := stats.phrasings.Load(p); ok {
		return w.(weighted)
	}
	w := stats.weigh(ix.terms(p), ix.cfg.UnknownDF)
	stats.phrasings.Store(p, w)
	return w
}

// idf is BM25's IDF; unknownDF stands in for terms no phrasing contains.
func (s *termStats) idf(t string, unknownDF float64) float64 {
	df, ok := s.df[t]
	if !ok {
		df = unknownDF
		if df < 0 { // a share of the documents
			df = -unknownDF * s.n
		}
	}
	df = min(df, s.n)
	return math.Log(1 + (s.n-df+0.5)/(df+0.5))
}

func (s *termStats) weigh(terms []string, unknownDF float64) weighted {
	out := weighted{w: make(map[string]float64, len(terms))}
	for _, t := range terms {
		w := s.idf(t, unknownDF)
		out.w[t] = w
		out.sum += w
		out.norm += w * w
	}
	out.norm = math.Sqrt(out.norm)
	return out
}

// termStats returns the cached stats, loading them when a write made them
// stale. The caller holds ix.mu for reading.
func (ix *Index) termStats(idx bleve.Index) (*termStats, error) {
	ix.statsMu.Lock()
	if s := ix.stats; s != nil {
		ix.statsMu.Unlock()
		return s, nil
	}
	gen := ix.statsGen
	ix.statsMu.Unlock()

	n, err := idx.DocCount()
	if err != nil {
		return nil, err
	}
	df, err := fieldDF(idx, fieldPhrasings)
	if err != nil {
		return nil, err
	}
	s := &termStats{n: float64(n), df: df}

	ix.statsMu.Lock()
	if ix.statsGen == gen {
		ix.stats = s
	}
	ix.statsMu.Unlock()
	return s, nil
}

// invalidate marks the cached stats stale after a write, and moves the
// index to a new generation.
func (ix *Index) invalidate() {
	ix.statsMu.Lock()
	ix.stats = nil
	ix.statsGen++
	ix.statsMu.Unlock()
	ix.gen.Add(1)
}

// generation identifies the index's content and synonyms: it grows after
// every write is applied and every synonym change. A search that read
// generation g before it started saw at least everything up to g.
func (ix *Index) generation() uint64 { return ix.gen.Load() }
