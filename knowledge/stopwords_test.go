package knowledge

import (
	"context"
	"slices"
	"testing"
)

func TestAnalyzerKeepsIntentWords(t *testing.T) {
	ix := mustIndex(t, testEntries)
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"Why was the card declined?", []string{"why", "card", "declin"}},
		{"my refund did not arrive", []string{"refund", "not", "arriv"}},
		{"I can't log in", []string{"can't", "log", "in"}},
		{"how do I top up", []string{"how", "top", "up"}},
		{"is it the same as that", nil}, // the rest of the list is still dropped
	} {
		if got := ix.terms(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("terms(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
	for _, w := range stopWordsKept() {
		if !ix.function[w] && len(ix.terms(w)) > 0 {
			t.Errorf("kept stop word %q analyses to %q, which is not a function term", w, ix.terms(w))
		}
	}
}

func TestSearchFunctionWords(t *testing.T) {
	ix := mustIndex(t, []Entry{
		{ID: "why-verify", Locale: "en", Question: "Why do I need to verify my identity?"},
		{ID: "how-verify", Locale: "en", Question: "How do I verify my identity?"},
		{ID: "log-in", Locale: "en", Question: "I can't log in to my account"},
		{ID: "log-out", Locale: "en", Question: "How do I log out of my account?"},
	})
	ctx := context.Background()
	for _, tt := range []struct {
		q, want string
		matched []string
	}{
		{"why verify identity", "why-verify", []string{"verify", "identity"}},
		{"how can I verify my identity", "how-verify", []string{"verify", "identity"}},
		{"log in problem with my account", "log-in", []string{"log", "account"}},
		{"log out of account", "log-out", []string{"log", "account"}},
	} {
		r, err := ix.Search(ctx, tt.q, SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) == 0 || r.Hits[0].ID != tt.want {
			t.Errorf("Search(%q) = %v, want %s first", tt.q, ids(r.Hits), tt.want)
			continue
		}
		if !slices.Equal(r.Hits[0].Matched, tt.matched) {
			t.Errorf("Search(%q): matched %q, want %q (function words left out)", tt.q, r.Hits[0].Matched, tt.matched)
		}
	}
	// Function words alone ask nothing about the FAQ.
	for _, q := range []string{"how?", "why not", "what about it", "how do I"} {
		r, err := ix.Search(ctx, q, SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) != 0 || r.Answerable {
			t.Errorf("Search(%q) = %v answerable %v, want no hits", q, ids(r.Hits), r.Answerable)
		}
	}
}

func TestStopWordsDropsOnlyKept(t *testing.T) {
	words := map[string]bool{}
	for _, w := range stopWords() {
		words[w.(string)] = true
	}
	for _, w := range stopWordsKept() {
		if words[w] {
			t.Errorf("stop list holds kept word %q", w)
		}
	}
	for _, w := range []string{"the", "a", "is", "i", "my", "do", "to"} {
		if !words[w] {
			t.Errorf("stop list lacks %q", w)
		}
	}
}
