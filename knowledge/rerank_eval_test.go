package knowledge

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestRerankCompare measures the re-ranking signals, spelling tolerance,
// synonyms and confidence mixes on the dev sets, each split into half A
// (even rows, used to choose) and half B (odd rows, reported as a check);
// the figures are in docs/retrieval.md. It runs only when asked:
//
//	XIAOER_EVAL_RERANK=1 go test ./knowledge -run TestRerankCompare -v
//
// XIAOER_EVAL_RERANK may name variants (comma-separated substrings) to run
// only those.
func TestRerankCompare(t *testing.T) {
	only := os.Getenv("XIAOER_EVAL_RERANK")
	if only == "" {
		t.Skip("set XIAOER_EVAL_RERANK=1 to run")
	}
	if _, err := os.Stat(sharedEvalDir); err != nil {
		t.Skipf("%s is absent", sharedEvalDir)
	}
	ctx := context.Background()
	type variant struct {
		name string
		cfg  indexConfig
	}
	with := func(name string, f func(*indexConfig)) variant {
		c := defaultConfig()
		f(&c)
		return variant{name, c}
	}
	variants := []variant{
		with("default", func(c *indexConfig) {}),
		with("before (phrasing conf only, no spelling, no synonyms)", func(c *indexConfig) {
			c.Rerank = rerankConfig{Phrasing: 0.7, ConfPhrasing: 1}
			c.Synonyms = nil
			c.Analyzer = analyzerMixedAllStop
		}),
		with("whole stop list (before intent words were kept)", func(c *indexConfig) { c.Analyzer = analyzerMixedAllStop }),
		with("no spelling", func(c *indexConfig) { c.Rerank.Spelling = false }),
		with("no synonyms", func(c *indexConfig) { c.Synonyms = nil }),
		with("synonyms at full credit (0.9) for every word", func(c *indexConfig) { c.Rerank.SynonymCreditKnown = 0.9 }),
		with("synonyms credit 0.6", func(c *indexConfig) { c.Rerank.SynonymCredit, c.Rerank.SynonymCreditKnown = 0.6, 0.6 }),
		with("synonyms only for words the FAQ lacks", func(c *indexConfig) { c.Rerank.SynonymCreditKnown = 0 }),
		with("no centroid", func(c *indexConfig) { c.Rerank.Centroid = 0 }),
		with("no cover", func(c *indexConfig) { c.Rerank.Cover = 0 }),
		with("bleve weight 0.1", func(c *indexConfig) { c.ScoreWeight = 0.1 }),
		with("depth 40", func(c *indexConfig) { c.RerankDepth = 40 }),
		with("conf = phrasing only", func(c *indexConfig) { c.Rerank.ConfCentroid = 0 }),
		with("conf = phrasing+cover", func(c *indexConfig) { c.Rerank.ConfCentroid, c.Rerank.ConfCover = 0, 1 }),
		with("conf = all three", func(c *indexConfig) { c.Rerank.ConfCover = 1 }),
	}
	if os.Getenv("XIAOER_WORDNET") != "" {
		for _, senses := range []int{1, 2, 3} {
			lex := lexicon(readWordNet(t, wordNetDir, senses))
			for _, credit := range []float64{0.5, 0.8} {
				variants = append(variants, with(fmt.Sprintf("wordnet %d senses credit %.1f", senses, credit), func(c *indexConfig) {
					c.Lexicon, c.LexiconCredit = lex, credit
				}))
			}
		}
	}
	thresholds := []float64{0.3, 0.325, 0.35, 0.36, 0.365, 0.37, 0.375, 0.38, 0.4, 0.45, 0.5}
	var table strings.Builder
	fmt.Fprintf(&table, "| option | set | hit@1 | hit@1 A/B | hit@3 | MRR@3 | answered | answered A/B | OOS declined | OOS declined A/B |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, v := range variants {
		if only != "1" && !matchesAny(v.name, only) {
			continue
		}
		sweep := map[float64][]string{}
		for _, s := range evalSets() {
			if !s.available(t) {
				continue
			}
			ix := openEvalIndex(t, v.cfg, readFAQ(t, s.faq))
			outs, _, errs := evaluate(ctx, ix, readDev(t, s.dev), SearchOptions{})
			if len(errs) > 0 {
				t.Fatalf("%s %s: %v", s.name, v.name, errs)
			}
			_ = ix.Close()
			var a, b []outcome
			for i, o := range outs {
				if i%2 == 0 {
					a = append(a, o)
				} else {
					b = append(b, o)
				}
			}
			r, ra, rb := summarise(outs, DefaultThreshold), summarise(a, DefaultThreshold), summarise(b, DefaultThreshold)
			groups := []GroupReport{{Name: s.name, Hit1: r.Hit1, Hit3: r.Hit3, MRR3: r.MRR3, InScopeAnswered: r.InScopeAnswered, OutOfScope: r.OutOfScope, OOSDeclined: r.OOSDeclined}}
			if len(r.Scripts) > 1 {
				groups = append(groups, r.Scripts...)
			}
			for i, g := range groups {
				ab, ans, dec := fmt.Sprintf("%.3f/%.3f", ra.Hit1, rb.Hit1), fmt.Sprintf("%.3f/%.3f", ra.InScopeAnswered, rb.InScopeAnswered), "–"
				if r.OutOfScope > 0 {
					dec = fmt.Sprintf("%.3f/%.3f", ra.OOSDeclined, rb.OOSDeclined)
				}
				if i > 0 {
					ab, ans, dec = "", "", ""
				}
				fmt.Fprintf(&table, "| %s | %s | %.3f | %s | %.3f | %.3f | %.3f | %s | %s | %s |\n", v.name, g.Name, g.Hit1, ab, g.Hit3, g.MRR3, g.InScopeAnswered, ans, oos(g.OutOfScope, g.OOSDeclined), dec)
			}
			for _, th := range thresholds {
				r := summarise(a, th)
				groups := []GroupReport{{Name: s.name, InScopeAnsweredCorrect: r.InScopeAnsweredCorrect, OutOfScope: r.OutOfScope, OOSDeclined: r.OOSDeclined}}
				if len(r.Scripts) > 1 {
					groups = r.Scripts
				}
				for _, g := range groups {
					sweep[th] = append(sweep[th], fmt.Sprintf("%s %.2f/%s", shortName(g.Name), g.InScopeAnsweredCorrect, oos(g.OutOfScope, g.OOSDeclined)))
				}
			}
		}
		var sb strings.Builder
		for _, th := range thresholds {
			fmt.Fprintf(&sb, "\n  %.3f: %s", th, strings.Join(sweep[th], "  "))
		}
		t.Logf("threshold sweep on half A, %s (in-scope answered correctly / OOS declined):%s", v.name, sb.String())
	}
	t.Logf("figures at threshold %.2f:\n%s", DefaultThreshold, table.String())
}

func matchesAny(name, list string) bool {
	for _, s := range strings.Split(list, ",") {
		if s != "" && strings.Contains(name, s) {
			return true
		}
	}
	return false
}
