package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// TestPersonalisedDemoChat switches a demo shopper's consent on in the
// store while the server runs: the next replies greet them by name, add
// their tier's policy and recommend from their interests.
func TestPersonalisedDemoChat(t *testing.T) {
	s := startServer(t, t.TempDir(), "--demo")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := sqlite.Open(ctx, filepath.Join(s.Data, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	consent := func(id string) {
		sh, err := store.Shopper(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sh.Personalize = true
		if err := store.PutShopper(ctx, sh); err != nil {
			t.Fatal(err)
		}
	}

	en := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
	if r := ask(t, ctx, en, "hello"); strings.Contains(r.Text, "Emma") || len(r.Personalized) != 0 {
		t.Errorf("before consent: greeting %q personalized %v", r.Text, r.Personalized)
	}
	r := ask(t, ctx, en, "recommend something")
	if len(r.Cards) == 0 || len(r.Personalized) != 0 || !strings.Contains(r.Text, "menu") {
		t.Errorf("before consent: recommendations %q %+v personalized %v; want general picks and the switch", r.Text, r.Cards, r.Personalized)
	}

	consent("demo-en")
	if r := ask(t, ctx, en, "hello"); !strings.HasPrefix(r.Text, "Hi Emma!") || !slices.Equal(r.Personalized, []string{bot.ProfileFieldName}) {
		t.Errorf("after consent: greeting %q personalized %v", r.Text, r.Personalized)
	}
	bought := map[string]bool{}
	orders, err := store.RecentOrders(ctx, "demo-en", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orders {
		for _, it := range o.Items {
			bought[it.SKU] = true
		}
	}
	r = ask(t, ctx, en, "recommend something")
	if len(r.Cards) == 0 || len(r.Cards) > 3 || !slices.Contains(r.Personalized, bot.ProfileFieldInterests) {
		t.Fatalf("after consent: recommendations %q %+v personalized %v", r.Text, r.Cards, r.Personalized)
	}
	for _, c := range r.Cards {
		if c.Kind != "product" || bought[c.SKU] || c.Name == "" || !strings.HasPrefix(c.Price, "¥") || c.Reason == "" {
			t.Errorf("card %+v: want a product Emma has not bought, with name, price and reason", c)
		}
	}

	// demo-cn is a gold member: with consent, the gold policy is added.
	consent("demo-cn")
	cn := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-cn")})
	if r := ask(t, ctx, cn, "退货运费谁出"); !strings.Contains(r.Text, "金卡会员专享") || !slices.Contains(r.Personalized, bot.ProfileFieldTier) {
		t.Errorf("gold member: %q personalized %v; want the gold policy", r.Text, r.Personalized)
	}
}
