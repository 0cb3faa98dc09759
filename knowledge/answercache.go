package knowledge

import (
	"container/list"
	"strings"
	"sync"
)

// answerCacheSize bounds the searches Base keeps answers for. On a sale
// day most shoppers ask the same few dozen questions; a result of 5 hits
// is a few KB, so the cache stays under a few MB.
const answerCacheSize = 1024

// answerCache is a bounded LRU of search results, keyed by the question
// (its runs of ASCII white space collapsed: they change neither the hits
// nor the matched parts) and the search options, for one generation of
// the index (Index.generation). A result cached under an older generation
// is never returned: the first lookup or store at a newer generation
// empties the cache. Safe for concurrent use.
type answerCache struct {
	mu    sync.Mutex
	max   int
	gen   uint64
	ll    *list.List // front: most recently used; values are *answerItem
	items map[answerKey]*list.Element
	// hits and misses count lookups, for tests and benchmarks.
	hits, misses uint64
}

type answerKey struct {
	q         string
	limit     int
	locale    string
	threshold float64
	category  string
	tags      string
}

type answerItem struct {
	key answerKey
	res Result
}

func newAnswerCache(max int) *answerCache {
	return &answerCache{max: max, ll: list.New(), items: make(map[answerKey]*list.Element, max)}
}

// answerKeyOf returns the cache key of a search, and false when the
// search is not cached (a question longer than MaxQueryLen: collapsing
// its white space would change the part that is searched).
func answerKeyOf(q string, opts SearchOptions) (answerKey, bool) {
	if len(q) > MaxQueryLen {
		return answerKey{}, false
	}
	locale, ok := NormalizeLocale(opts.Locale)
	if !ok {
		return answerKey{}, false
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	threshold := opts.Threshold
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	return answerKey{
		q:         collapseSpace(q),
		limit:     min(limit, MaxLimit),
		locale:    locale,
		threshold: threshold,
		category:  opts.Category,
		tags:      strings.Join(opts.Tags, "\x00"),
	}, true
}

// collapseSpace trims s and replaces each run of ASCII white space with
// one space. The analyzer splits words at any white space, and the parts
// of a question Hit.Matched reports are trimmed and never join across
// white space, so the result of a search does not change.
func collapseSpace(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	clean := true
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) && (i == 0 || i == len(s)-1 || s[i] != ' ' || isSpace(s[i+1])) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// get returns the result cached for k at generation gen.
func (c *answerCache) get(gen uint64, k answerKey) (Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(gen)
	el, ok := c.items[k]
	if !ok {
		c.misses++
		return Result{}, false
	}
	c.hits++
	c.ll.MoveToFront(el)
	return el.Value.(*answerItem).res.clone(), true
}

// put caches res for k, computed at generation gen; a result of an older
// generation than the cache's is dropped.
func (c *answerCache) put(gen uint64, k answerKey, res Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.gen {
		return
	}
	c.advance(gen)
	if el, ok := c.items[k]; ok {
		el.Value.(*answerItem).res = res.clone()
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(&answerItem{key: k, res: res.clone()})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*answerItem).key)
	}
}

// advance empties the cache when gen is newer than what it holds.
func (c *answerCache) advance(gen uint64) {
	if gen == c.gen {
		return
	}
	if gen > c.gen {
		c.gen = gen
		c.ll.Init()
		clear(c.items)
	}
}

// clone copies r's hits, so a caller that changes the hits it got does
// not change what the cache returns to the next caller.
func (r Result) clone() Result {
	if r.Hits != nil {
		r.Hits = append([]Hit(nil), r.Hits...)
	}
	return r
}
