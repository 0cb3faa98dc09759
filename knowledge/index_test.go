package knowledge

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testEntries is a small mixed Chinese/English FAQ.
var testEntries = []Entry{
	{ID: "ret-7day", Locale: "zh-CN", Question: "七天无理由退货怎么申请？", Alternates: []string{"可以退货吗", "退货流程是什么"}, Answer: "签收后七天内，在订单详情页点击申请售后。", Category: "售后"},
	{ID: "refund-time", Locale: "zh-CN", Question: "退款多久到账？", Alternates: []string{"钱什么时候退回来"}, Answer: "审核通过后1-3个工作日原路退回。", Category: "售后"},
	{ID: "invoice", Locale: "zh-CN", Question: "怎么开发票？", Alternates: []string{"需要增值税发票"}, Answer: "在订单页申请电子发票。", Category: "发票"},
	{ID: "ship-time", Locale: "zh-CN", Question: "下单后多久发货？", Alternates: []string{"什么时候发货"}, Answer: "付款后48小时内发货。", Category: "物流"},
	{ID: "en-ship", Locale: "en", Question: "When will my order be shipped?", Alternates: []string{"shipping time"}, Answer: "Orders ship within 48 hours.", Category: "shipping"},
	{ID: "en-return", Locale: "en", Question: "How do I return an item?", Alternates: []string{"return policy"}, Answer: "Returns are accepted within 7 days.", Category: "returns"},
	{ID: "en-pay", Locale: "en", Question: "Which payment methods do you accept?", Alternates: []string{"can I pay with a credit card"}, Answer: "Cards, Alipay and WeChat Pay.", Category: "payment"},
	{ID: "any-human", Locale: "", Question: "转人工 talk to a human agent", Alternates: []string{"人工客服"}, Answer: "正在为您转接人工客服。", Category: "handoff"},
}

// mustOpen opens an index in dir and closes it when the test ends.
func mustOpen(tb testing.TB, dir string) *Index {
	tb.Helper()
	ix, err := OpenIndex(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("OpenIndex: %v", err)
	}
	tb.Cleanup(func() { _ = ix.Close() })
	return ix
}

// mustIndex opens an index in a temporary directory holding entries.
func mustIndex(tb testing.TB, entries []Entry) *Index {
	tb.Helper()
	ix := mustOpen(tb, filepath.Join(tb.TempDir(), "index"))
	if err := ix.Rebuild(context.Background(), Normalize(entries), 1); err != nil {
		tb.Fatalf("Rebuild: %v", err)
	}
	return ix
}

func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestSearch(t *testing.T) {
	ix := mustIndex(t, testEntries)
	tests := []struct {
		name           string
		q              string
		opts           SearchOptions
		wantTop        string // "" means no hits
		wantAnswerable bool
		wantAbsent     []string // ids that must not appear
	}{
		{name: "chinese paraphrase", q: "如何申请七天无理由退货", wantTop: "ret-7day", wantAnswerable: true},
		{name: "chinese short", q: "退款什么时候到账", wantTop: "refund-time", wantAnswerable: true},
		{name: "chinese full-width punctuation", q: "发票怎么开？？", wantTop: "invoice", wantAnswerable: true},
		{name: "english stemming shipping", q: "shipping", wantTop: "en-ship", wantAnswerable: true},
		{name: "english stemming shipped", q: "has my order shipped yet", wantTop: "en-ship", wantAnswerable: true},
		{name: "english case and possessive", q: "RETURNS policy's details", wantTop: "en-return"},
		{name: "locale en excludes zh", q: "退货 return", opts: SearchOptions{Locale: "en"}, wantTop: "en-return", wantAbsent: []string{"ret-7day"}},
		{name: "locale zh alias keeps any-locale entries", q: "人工客服", opts: SearchOptions{Locale: "zh"}, wantTop: "any-human", wantAnswerable: true},
		{name: "locale zh excludes en", q: "shipping", opts: SearchOptions{Locale: "zh-CN"}, wantTop: ""},
		{name: "empty query", q: "", wantTop: ""},
		{name: "punctuation only", q: "？！...", wantTop: ""},
		{name: "stop words only", q: "how do I the", wantTop: ""},
		{name: "very long query is cut, not refused", q: strings.Repeat("退货", 400) + "x", wantTop: "ret-7day"},
		{name: "unrelated query not answerable", q: "what is the weather in paris tomorrow", wantAnswerable: false, wantTop: "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ix.Search(context.Background(), tt.q, tt.opts)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			switch {
			case tt.wantTop == "":
				if len(res.Hits) != 0 || res.Answerable {
					t.Fatalf("Search(%q) = %v answerable %v, want no hits", tt.q, ids(res.Hits), res.Answerable)
				}
				return
			case tt.wantTop == "*":
			case len(res.Hits) == 0:
				t.Fatalf("Search(%q): no hits, want %q first", tt.q, tt.wantTop)
			case res.Hits[0].ID != tt.wantTop:
				t.Fatalf("Search(%q) = %v, want %q first", tt.q, ids(res.Hits), tt.wantTop)
			}
			if res.Answerable != tt.wantAnswerable && (tt.wantAnswerable || tt.wantTop == "*") {
				t.Errorf("Search(%q): answerable = %v (confidence %.2f), want %v", tt.q, res.Answerable, confidenceOf(res), tt.wantAnswerable)
			}
			for _, h := range res.Hits {
				if h.Confidence < 0 || h.Confidence > 1 {
					t.Errorf("hit %q: confidence %v out of [0,1]", h.ID, h.Confidence)
				}
				for _, a := range tt.wantAbsent {
					if h.ID == a {
						t.Errorf("Search(%q) = %v, want no %q", tt.q, ids(res.Hits), a)
					}
				}
			}
		})
	}
}

func confidenceOf(r Result) float64 {
	if len(r.Hits) == 0 {
		return 0
	}
	return r.Hits[0].Confidence
}

func TestSearchReturnsFullEntry(t *testing.T) {
	ix := mustIndex(t, testEntries)
	res, err := ix.Search(context.Background(), "七天无理由退货怎么申请", SearchOptions{Limit: 1})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if len(res.Hits) != 1 {
		t.Fatalf("got %d hits, want 1 (Limit)", len(res.Hits))
	}
	want := Normalize(testEntries[:1])[0]
	if got := res.Hits[0].Entry; got.Answer != want.Answer || got.Category != want.Category || len(got.Alternates) != 2 || got.Locale != want.Locale {
		t.Errorf("hit entry = %#v, want %#v", got, want)
	}
	if res.Hits[0].Confidence < 0.99 {
		t.Errorf("exact question: confidence = %v, want 1", res.Hits[0].Confidence)
	}
	if _, err := ix.Search(context.Background(), "x", SearchOptions{Locale: "fr"}); err == nil {
		t.Error("Search with locale fr: want an error")
	}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	ix := mustIndex(t, testEntries)
	upd := Entry{ID: "invoice", Locale: "zh-CN", Question: "怎么开专用发票？", Answer: "联系客服。", Category: "发票"}
	added := Entry{ID: "en-gift", Locale: "en", Question: "Do you offer gift wrapping?", Answer: "Yes.", Category: "orders"}
	if err := ix.Apply(ctx, []Entry{upd, added}, []string{"en-pay", "no-such-id"}, 7); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	tests := []struct {
		q          string
		wantTop    string
		wantAnswer string
		wantAbsent string
	}{
		{q: "专用发票", wantTop: "invoice", wantAnswer: "联系客服。"},
		{q: "gift wrapping", wantTop: "en-gift", wantAnswer: "Yes."},
		{q: "payment methods credit card", wantAbsent: "en-pay"},
	}
	for _, tt := range tests {
		res, err := ix.Search(ctx, tt.q, SearchOptions{})
		if err != nil {
			t.Fatalf("Search(%q): %v", tt.q, err)
		}
		if tt.wantTop != "" && (len(res.Hits) == 0 || res.Hits[0].ID != tt.wantTop || res.Hits[0].Answer != tt.wantAnswer) {
			t.Errorf("Search(%q) = %+v, want %q with answer %q first", tt.q, res.Hits, tt.wantTop, tt.wantAnswer)
		}
		for _, h := range res.Hits {
			if h.ID == tt.wantAbsent {
				t.Errorf("Search(%q) found deleted %q", tt.q, h.ID)
			}
		}
	}
	if n, err := ix.DocCount(); err != nil || n != len(testEntries) {
		t.Errorf("DocCount = %d, %v; want %d", n, err, len(testEntries))
	}
	if rev, err := ix.Revision(); err != nil || rev != 7 {
		t.Errorf("Revision = %d, %v; want 7", rev, err)
	}
}

func TestRebuildReplacesEverything(t *testing.T) {
	ctx := context.Background()
	ix := mustIndex(t, testEntries)
	if err := ix.Rebuild(ctx, []Entry{{ID: "only", Question: "the only question"}}, 3); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if n, err := ix.DocCount(); err != nil || n != 1 {
		t.Errorf("DocCount = %d, %v; want 1", n, err)
	}
	res, err := ix.Search(ctx, "退货", SearchOptions{})
	if err != nil || len(res.Hits) != 0 {
		t.Errorf("Search after Rebuild = %v, %v; want no hits", ids(res.Hits), err)
	}
}

func TestRevisionPersists(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := OpenIndex(dir, nil)
	if err != nil {
		t.Fatalf("OpenIndex: %v", err)
	}
	if rev, err := ix.Revision(); err != nil || rev != 0 {
		t.Fatalf("new index Revision = %d, %v; want 0", rev, err)
	}
	if err := ix.Rebuild(ctx, Normalize(testEntries), 42); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if err := ix.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ix.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := ix.Search(ctx, "退货", SearchOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Search after Close = %v, want ErrClosed", err)
	}

	ix = mustOpen(t, dir)
	if rev, err := ix.Revision(); err != nil || rev != 42 {
		t.Errorf("reopened Revision = %d, %v; want 42", rev, err)
	}
	res, err := ix.Search(ctx, "如何申请七天无理由退货", SearchOptions{})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].ID != "ret-7day" {
		t.Errorf("reopened Search = %v, %v; want ret-7day first", ids(res.Hits), err)
	}
}

func TestOpenIndexCorrupt(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
	}{
		{"garbage files", func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"index_meta.json", "store", "junk.bin"} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("\x00garbage{"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"garbage root.bolt", func(t *testing.T, dir string) {
			ix := mustOpen(t, dir)
			if err := ix.Rebuild(ctx, Normalize(testEntries), 5); err != nil {
				t.Fatal(err)
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "store", "root.bolt"), []byte(strings.Repeat("garbage", 1000)), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"meta truncated", func(t *testing.T, dir string) {
			ix := mustOpen(t, dir)
			if err := ix.Rebuild(ctx, Normalize(testEntries), 5); err != nil {
				t.Fatal(err)
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("{"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "index")
			tt.corrupt(t, dir)
			ix := mustOpen(t, dir)
			if rev, err := ix.Revision(); err != nil || rev != 0 {
				t.Errorf("Revision = %d, %v; want 0", rev, err)
			}
			if n, err := ix.DocCount(); err != nil || n != 0 {
				t.Errorf("DocCount = %d, %v; want 0", n, err)
			}
			if err := ix.Rebuild(ctx, Normalize(testEntries), 6); err != nil {
				t.Fatalf("Rebuild after recreate: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "junk.bin")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("junk.bin still there: %v", err)
			}
		})
	}
}

func TestOpenIndexLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	first := mustOpen(t, dir)
	if err := first.Rebuild(context.Background(), Normalize(testEntries), 9); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	second, err := OpenIndex(dir, nil)
	if err == nil {
		_ = second.Close()
		t.Fatal("second OpenIndex on a locked index succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("second OpenIndex = %v, want a locked error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err != nil {
		t.Errorf("locked index was removed: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("second OpenIndex took %v", time.Since(start))
	}
	// The locked index must not have been treated as corrupt.
	if rev, err := first.Revision(); err != nil || rev != 9 {
		t.Errorf("first index Revision = %d, %v; want 9", rev, err)
	}
}

func TestSearchConcurrentWithWrites(t *testing.T) {
	ctx := context.Background()
	ix := mustIndex(t, testEntries)
	done := make(chan struct{})
	go func() { // exits after 20 writes
		defer close(done)
		for i := range 20 {
			if err := ix.Apply(ctx, Normalize(testEntries[i%len(testEntries):][:1]), nil, int64(i+2)); err != nil {
				t.Errorf("Apply: %v", err)
				return
			}
		}
	}()
	for range 50 {
		if _, err := ix.Search(ctx, "退货 shipping", SearchOptions{}); err != nil {
			t.Fatalf("Search: %v", err)
		}
	}
	<-done
}
