package knowledge_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// benchEntries makes n distinct entries with a realistic shape: a
// question, four alternates, a two-sentence answer, a category and a tag.
func benchEntries(prefix string, n int) []knowledge.Entry {
	topics := []string{"refund", "parcel", "invoice", "coupon", "warranty", "size", "address", "membership"}
	out := make([]knowledge.Entry, n)
	for i := range out {
		t := topics[i%len(topics)]
		out[i] = knowledge.Entry{
			ID: fmt.Sprintf("%s-%06d", prefix, i), Locale: "en",
			Question: fmt.Sprintf("How does the %s policy work for item %d?", t, i),
			Alternates: []string{
				fmt.Sprintf("%s rules for product %d", t, i),
				fmt.Sprintf("question about %s on order line %d", t, i),
				fmt.Sprintf("can you explain %s for sku %d", t, i),
				fmt.Sprintf("what happens with %s %d", t, i),
			},
			Answer:   fmt.Sprintf("The %s policy for item %d follows the shop's standard terms. Ask a person if anything is unclear.", t, i),
			Category: t, Tags: []string{"bench"},
		}
	}
	return out
}

// BenchmarkImport measures importing a file of entries into a knowledge
// base that already holds 1,000: validation, the SQLite transaction (an
// entry row and a version row each) and the index update.
//
//	go test ./knowledge -run XXX -bench BenchmarkImport -benchtime 5x
func BenchmarkImport(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			store, err := sqlite.Open(ctx, filepath.Join(dir, "x.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			ix, err := knowledge.OpenIndex(filepath.Join(dir, "index"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ix.Close()
			kb := knowledge.NewBase(store, ix, nil)
			if _, err := kb.Import(ctx, benchEntries("base", 1000), knowledge.ImportOptions{}); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if _, err := kb.Import(ctx, benchEntries(fmt.Sprintf("run%d", i), n), knowledge.ImportOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
