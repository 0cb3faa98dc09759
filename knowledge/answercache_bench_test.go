package knowledge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// BenchmarkSearchRepeated measures Base.Search on a sale-day mix over 10k
// synthetic entries: 80% of questions are one of a dozen popular ones, the
// rest come from the long tail of 2,000, with and without the answer cache:
//
//	go test ./knowledge -run XXX -bench BenchmarkSearchRepeated -benchtime 2000x
func BenchmarkSearchRepeated(b *testing.B) {
	f := newSynthFAQ(10000)
	ix := openEvalIndex(b, defaultConfig(), f.entries)
	r := rand.New(rand.NewPCG(7, 7))
	mix := make([]string, 4000)
	for i := range mix {
		if r.IntN(5) < 4 {
			mix[i] = f.queries[r.IntN(12)]
		} else {
			mix[i] = f.queries[12+r.IntN(len(f.queries)-12)]
		}
	}
	_ = latencies(b, ix, f.queries[:200]) // warm the index's caches
	for _, cached := range []bool{false, true} {
		b.Run(fmt.Sprintf("cache=%v", cached), func(b *testing.B) {
			base := NewBase(nil, ix, nil)
			if !cached {
				base.answers = nil
			}
			ctx := context.Background()
			ds := make([]time.Duration, 0, 4096)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := base.Search(ctx, mix[i%len(mix)], SearchOptions{}); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(percentile(ds, 0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, "p99-ms")
			if c := base.answers; c != nil && c.hits+c.misses > 0 {
				b.ReportMetric(float64(c.hits)/float64(c.hits+c.misses), "hit-rate")
			}
		})
	}
}
