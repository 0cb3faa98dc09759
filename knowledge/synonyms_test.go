package knowledge

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestValidateSynonyms(t *testing.T) {
	tests := []struct {
		name   string
		groups []SynonymGroup
		want   []string // substrings of the error; none means valid
	}{
		{"defaults", DefaultSynonyms(), nil},
		{"ok", []SynonymGroup{{Locale: "zh", Terms: []string{"快递", "物流"}}, {Terms: []string{"refund", "money back"}}}, nil},
		{"empty group", []SynonymGroup{{Locale: "en"}}, []string{"synonym group 1: has no terms"}},
		{"one term", []SynonymGroup{{Locale: "en", Terms: []string{"refund"}}}, []string{`synonym group 1 ("refund"): has one distinct term`}},
		{"same term twice", []SynonymGroup{{Terms: []string{"Refund", "refund "}}}, []string{"one distinct term"}},
		{"empty term", []SynonymGroup{{Terms: []string{"refund", " "}}}, []string{"term 2 is empty"}},
		{"too long", []SynonymGroup{{Terms: []string{"refund", strings.Repeat("x", MaxSynonymTermLen+1)}}}, []string{"term 2 is 65 bytes long, at most 64 allowed"}},
		{"locale", []SynonymGroup{{Locale: "fr", Terms: []string{"a1", "b1"}}}, []string{`locale "fr" is not supported`}},
		{"every problem", []SynonymGroup{{Terms: []string{"x"}}, {Locale: "en"}}, []string{"synonym group 1", "synonym group 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSynonyms(tt.groups)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("ValidateSynonyms: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateSynonyms: nil, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

var synonymEntries = []Entry{
	{ID: "ship-zh", Locale: "zh-CN", Question: "物流信息在哪里看", Answer: "订单详情页。"},
	{ID: "pay-zh", Locale: "zh-CN", Question: "支持哪些付款方式", Answer: "微信和支付宝。"},
	{ID: "refund-en", Locale: "en", Question: "How do I get a refund?", Answer: "From your orders page."},
	{ID: "size-en", Locale: "en", Question: "Which size should I choose?", Answer: "See the size chart."},
}

func TestSetSynonyms(t *testing.T) {
	ix := mustIndex(t, synonymEntries)
	ctx := context.Background()
	top := func(q string) (string, []string) {
		t.Helper()
		r, err := ix.Search(ctx, q, SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) == 0 {
			return "", nil
		}
		return r.Hits[0].ID, r.Hits[0].Matched
	}
	if err := ix.SetSynonyms(nil); err != nil {
		t.Fatal(err)
	}
	if id, _ := top("I want my money back"); id == "refund-en" {
		t.Fatalf("without synonyms, %q found refund-en", "I want my money back")
	}
	if err := ix.SetSynonyms([]SynonymGroup{{Locale: "en", Terms: []string{"refund", "money back"}}, {Locale: "zh-CN", Terms: []string{"快递", "物流"}}}); err != nil {
		t.Fatal(err)
	}
	if id, matched := top("I want my money back"); id != "refund-en" || !slices.Equal(matched, []string{"money", "back"}) {
		t.Errorf("with synonyms: top %s matched %q, want refund-en matched [money back]", id, matched)
	}
	if id, matched := top("我的快递到哪了"); id != "ship-zh" || !slices.Equal(matched, []string{"快递", "哪"}) {
		t.Errorf("with synonyms: top %s matched %q, want ship-zh matched [快递 哪]", id, matched)
	}
	// A group for another locale is not applied to a search for this one.
	r, err := ix.Search(ctx, "I want my money back", SearchOptions{Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hits) > 0 && r.Hits[0].ID == "refund-en" {
		t.Errorf("zh-CN search answered with an English entry")
	}
	if err := ix.SetSynonyms([]SynonymGroup{{Terms: []string{"the", "refund"}}}); err == nil || !strings.Contains(err.Error(), `"the" has nothing searchable`) {
		t.Errorf("SetSynonyms with a stop word: %v, want an error naming it", err)
	}
	if got := ix.Synonyms(); len(got) != 2 {
		t.Errorf("after a rejected SetSynonyms, %d groups, want the 2 kept", len(got))
	}
}

func TestSetSynonymsConcurrentWithSearch(t *testing.T) {
	ix := mustIndex(t, synonymEntries)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() { // exits after 50 searches
			defer wg.Done()
			for range 50 {
				if _, err := ix.Search(ctx, "money back 快递", SearchOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		if i%2 == 0 {
			if err := ix.SetSynonyms(DefaultSynonyms()); err != nil {
				t.Fatal(err)
			}
		} else if err := ix.SetSynonyms(nil); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

func TestSpellingCorrection(t *testing.T) {
	ix := mustIndex(t, []Entry{
		{ID: "track", Locale: "en", Question: "Where is my order?", Answer: "Track it in the app."},
		{ID: "help", Locale: "en", Question: "I need help with an account", Answer: "Ask us."},
	})
	ctx := context.Background()
	for _, tt := range []struct{ q, want, matched string }{
		{"where is my ofder", "track", "ofder"},
		{"hepl", "help", "hepl"},
		{"acount hepl", "help", "acount"},
	} {
		r, err := ix.Search(ctx, tt.q, SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) == 0 || r.Hits[0].ID != tt.want {
			t.Errorf("%q: hits %v, want %s first", tt.q, ids(r.Hits), tt.want)
			continue
		}
		if !slices.Contains(r.Hits[0].Matched, tt.matched) {
			t.Errorf("%q: matched %q, want it to hold %q", tt.q, r.Hits[0].Matched, tt.matched)
		}
	}
}

func TestHitExplains(t *testing.T) {
	ix := mustIndex(t, testEntries)
	ctx := context.Background()
	for _, tt := range []struct {
		q, locale, want, phrasing string
		matched                   []string
	}{
		{"Shipping time for order 7322013499?", "en", "en-ship", "shipping time", []string{"Shipping", "time"}},
		{"退货的流程", "zh-CN", "ret-7day", "退货流程是什么", []string{"退货", "流程"}},
		{"how do i RETURN an item", "en", "en-return", "How do I return an item?", []string{"RETURN", "item"}},
	} {
		r, err := ix.Search(ctx, tt.q, SearchOptions{Locale: tt.locale})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) == 0 || r.Hits[0].ID != tt.want {
			t.Errorf("%q: hits %v, want %s first", tt.q, ids(r.Hits), tt.want)
			continue
		}
		h := r.Hits[0]
		if h.Phrasing != tt.phrasing || !slices.Equal(h.Matched, tt.matched) {
			t.Errorf("%q: phrasing %q matched %q, want %q %q", tt.q, h.Phrasing, h.Matched, tt.phrasing, tt.matched)
		}
	}
}
