package knowledge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Synthetic FAQs for speed measurements: n entries with 5 to 10 phrasings
// each, words drawn from a Zipf-distributed vocabulary of 30,000 made-up
// words (plus a pool of common Chinese characters for one entry in ten),
// each entry with a few topic words its phrasings share. Deterministic for
// a given n.

var benchFiller = strings.Fields("how do i can you my the a to is it what when where why please help me need want with for of on in")

type synthFAQ struct {
	entries  []Entry
	queries  []string
	expected []string // the entry each query was made from; "" for the random ones
}

func synthWord(r *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	n := 3 + r.IntN(7)
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

func newSynthFAQ(n int) synthFAQ {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	vocab := make([]string, 30000)
	for i := range vocab {
		vocab[i] = synthWord(r)
	}
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	han := []rune("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书")
	words := func(k int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = vocab[zipf.Uint64()]
		}
		return out
	}
	var f synthFAQ
	for i := range n {
		zh := i%10 == 9
		topic := words(3)
		phrase := func() string {
			if zh {
				var b strings.Builder
				for range 6 + r.IntN(8) {
					b.WriteRune(han[r.IntN(len(han))])
				}
				return b.String()
			}
			ws := append(append([]string{}, topic[:1+r.IntN(3)]...), words(2+r.IntN(6))...)
			for range r.IntN(3) {
				ws = append(ws, benchFiller[r.IntN(len(benchFiller))])
			}
			r.Shuffle(len(ws), func(a, b int) { ws[a], ws[b] = ws[b], ws[a] })
			return strings.Join(ws, " ")
		}
		e := Entry{ID: fmt.Sprintf("e%06d", i), Locale: LocaleEN, Question: phrase(), Answer: strings.Join(words(20), " "), Category: fmt.Sprintf("c%d", i%50)}
		if zh {
			e.Locale = LocaleZH
		}
		for range 4 + r.IntN(6) {
			e.Alternates = append(e.Alternates, phrase())
		}
		f.entries = append(f.entries, e)
	}
	// Queries: phrasings with a word dropped, replaced or misspelt, and
	// one in five made of random words (out of scope).
	for range 2000 {
		if r.IntN(5) == 0 {
			f.queries = append(f.queries, strings.Join(words(3+r.IntN(5)), " "))
			f.expected = append(f.expected, "")
			continue
		}
		e := f.entries[r.IntN(len(f.entries))]
		f.expected = append(f.expected, e.ID)
		p := e.Question
		if k := r.IntN(len(e.Alternates) + 1); k > 0 {
			p = e.Alternates[k-1]
		}
		ws := strings.Fields(p)
		if len(ws) > 2 {
			switch j := r.IntN(len(ws)); r.IntN(3) {
			case 0:
				ws = append(ws[:j], ws[j+1:]...)
			case 1:
				ws[j] = vocab[zipf.Uint64()]
			default:
				if len(ws[j]) > 4 {
					b := []byte(ws[j])
					b[1], b[2] = b[2], b[1]
					ws[j] = string(b)
				}
			}
		}
		f.queries = append(f.queries, strings.Join(ws, " "))
	}
	return f
}

// latencies runs every query once (after a warm-up pass) and returns the
// sorted durations.
func latencies(tb testing.TB, ix *Index, queries []string) []time.Duration {
	tb.Helper()
	ctx := context.Background()
	for _, q := range queries[:min(200, len(queries))] {
		if _, err := ix.Search(ctx, q, SearchOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	out := make([]time.Duration, 0, len(queries))
	for _, q := range queries {
		start := time.Now()
		if _, err := ix.Search(ctx, q, SearchOptions{}); err != nil {
			tb.Fatal(err)
		}
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

// BenchmarkSearchScale measures Index.Search on synthetic FAQs of 1k, 10k
// and 100k entries and reports p50 and p99 besides the mean:
//
//	go test ./knowledge -run XXX -bench BenchmarkSearchScale -benchtime 2000x
func BenchmarkSearchScale(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			f := newSynthFAQ(n)
			start := time.Now()
			ix := openEvalIndex(b, defaultConfig(), f.entries)
			b.ReportMetric(time.Since(start).Seconds(), "build-s")
			_ = latencies(b, ix, f.queries[:200]) // warm the caches
			ctx := context.Background()
			ds := make([]time.Duration, 0, 4096)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := ix.Search(ctx, f.queries[i%len(f.queries)], SearchOptions{}); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(percentile(ds, 0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, "p99-ms")
		})
	}
}

// TestSearchScale prints build time, heap and search latency percentiles
// for synthetic FAQs of 1k, 10k and 100k entries. It only measures (no
// timing assertions) and runs only when asked:
//
//	XIAOER_SCALE=1 go test ./knowledge -run TestSearchScale -v -timeout 30m
func TestSearchScale(t *testing.T) {
	if os.Getenv("XIAOER_SCALE") == "" {
		t.Skip("set XIAOER_SCALE=1 to run")
	}
	sizes := []int{1000, 10000, 100000}
	if s := os.Getenv("XIAOER_SCALE_SIZES"); s != "" && s != "1" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			var n int
			fmt.Sscan(f, &n)
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		f := newSynthFAQ(n)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		ix := openEvalIndex(t, defaultConfig(), f.entries)
		build := time.Since(start)
		first := latencies(t, ix, f.queries)
		ds := latencies(t, ix, f.queries)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		// Quality at scale: how often the entry a query was made from
		// comes first, so a speed-up that loses answers shows here.
		hits, in := 0, 0
		for i, q := range f.queries {
			if f.expected[i] == "" {
				continue
			}
			in++
			if res, err := ix.Search(context.Background(), q, SearchOptions{}); err == nil && len(res.Hits) > 0 && res.Hits[0].ID == f.expected[i] {
				hits++
			}
		}
		t.Logf("entries=%d build=%.1fs heap=%.0fMB  first pass p50=%v p99=%v  warm p50=%v p99=%v max=%v  hit@1=%.3f",
			n, build.Seconds(), float64(after.HeapAlloc)/1e6,
			percentile(first, 0.5), percentile(first, 0.99),
			percentile(ds, 0.5), percentile(ds, 0.99), ds[len(ds)-1], float64(hits)/float64(in))
		_ = ix.Close()
	}
}
