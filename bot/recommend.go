package bot

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// IntentRecommend marks a reply that recommends catalog items.
const IntentRecommend = "recommend"

// MaxRecommendations is how many items a reply recommends at most.
const MaxRecommendations = 3

var (
	zhRecommend = []string{"有什么推荐", "推荐一下", "推荐点", "推荐些", "推荐个", "给我推荐", "帮我推荐", "有啥推荐", "有没有推荐",
		"有什么好物", "买点什么", "买什么好", "推荐什么", "有什么好买的"}
	enRecommend = regexp.MustCompile(`(?i)\b(recommend(ation)?s?|suggest(ion)?s?|what (else )?should i (buy|get)|anything (good|nice) to buy|something (to buy|i might like))\b`)
)

// recommendAsked says whether the shopper asks for product suggestions.
// A question about orders, returns and the like that merely says
// "recommend" ("do you recommend express shipping?") is not one: the
// English pattern counts only in messages without another topic word.
func recommendAsked(s string) bool {
	for _, w := range zhRecommend {
		if strings.Contains(s, w) {
			return true
		}
	}
	if !enRecommend.MatchString(s) {
		return false
	}
	l := strings.ToLower(s)
	for _, topic := range []string{"order", "return", "refund", "ship", "deliver", "invoice", "payment", "pay ", "coupon", "password", "account"} {
		if strings.Contains(l, topic) {
			return false
		}
	}
	return true
}

// categoryWords are words in both languages that name a catalog category;
// an interest that contains one of them points at that category.
var categoryWords = map[string][]string{
	"electronics": {"数码", "电子", "耳机", "手机", "electronics", "gadget", "tech", "digital gadget", "headphone"},
	"apparel":     {"服装", "衣服", "穿搭", "时尚", "apparel", "clothes", "clothing", "fashion"},
	"home":        {"家居", "家装", "厨房", "烹饪", "做饭", "home", "kitchen", "cooking", "interior"},
	"beauty":      {"美妆", "护肤", "化妆", "beauty", "skincare", "makeup"},
	"food":        {"美食", "食品", "零食", "茶", "水果", "food", "tea", "snack", "fruit"},
	"books":       {"书", "阅读", "读书", "book", "reading"},
	"sports":      {"运动", "跑步", "健身", "瑜伽", "sport", "running", "fitness", "yoga"},
}

// Scores of the recommendation rules (docs/profiles.md).
const (
	scoreInterestName     = 3 // an interest word is in the item's name
	scoreInterestCategory = 2 // an interest names the item's category
	scorePreferred        = 2 // the item's category is a preferred category
	scoreFavourite        = 1 // the item's category is among the favourite categories
)

// pick is a recommended item and why.
type pick struct {
	p      Product
	score  int
	reason [2]string // zh, en
	fields []string
}

// words splits Latin text into lower-case words.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// interestInName reports whether an interest occurs in a product's name:
// Han text as a substring of the Chinese name, Latin words whole in the
// English name. A plural "s" is ignored for words of 3 letters or more;
// 2-letter words ("TV", "AI", "3D") match only as themselves or with an
// "s" ("TVs"), and 1-letter words are ignored. An interest with no word
// left to check matches nothing.
func interestInName(interest string, p Product) bool {
	interest = strings.TrimSpace(interest)
	if interest == "" {
		return false
	}
	if strings.ContainsFunc(interest, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		return strings.Contains(p.NameZH, interest)
	}
	nw := words(p.NameEN)
	checked := 0
	for _, w := range words(interest) {
		switch n := len([]rune(w)); {
		case n < 2:
			continue
		case n == 2:
			if !slices.Contains(nw, w) && !slices.Contains(nw, w+"s") {
				return false
			}
		default:
			if !slices.Contains(nw, w) && !slices.Contains(nw, w+"s") && !slices.Contains(nw, strings.TrimSuffix(w, "s")) {
				return false
			}
		}
		checked++
	}
	return checked > 0
}

// interestCategory reports whether an interest names a category: it is
// the category's name or contains one of categoryWords.
func interestCategory(interest, category string) bool {
	l := strings.ToLower(strings.TrimSpace(interest))
	if l == "" || category == "" {
		return false
	}
	if l == strings.ToLower(category) {
		return true
	}
	for _, w := range categoryWords[strings.ToLower(category)] {
		if strings.ContainsFunc(w, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			if strings.Contains(l, w) {
				return true
			}
		} else if slices.Contains(words(l), w) || slices.Contains(words(l), w+"s") {
			return true
		}
	}
	return false
}

// recommend picks up to MaxRecommendations items for a consented shopper
// from the catalog: scored by their interests, preferred categories and
// favourite categories, never an item they already bought (bought: the
// SKUs of every order not cancelled), best score first, ties in catalog
// order. Only items with a score above zero are picked.
func recommend(sh *Shopper, catalog []Product, bought map[string]bool) []pick {
	var favs []string
	if sh.Features != nil {
		favs = sh.Features.FavCategories
	}
	var picks []pick
	for _, p := range catalog {
		if bought[p.SKU] {
			continue
		}
		pk := pick{p: p}
		for _, in := range sh.Interests {
			switch {
			case interestInName(in, p):
				pk.score += scoreInterestName
			case interestCategory(in, p.Category):
				pk.score += scoreInterestCategory
			default:
				continue
			}
			if pk.reason[0] == "" {
				pk.reason = [2]string{"您喜欢" + in, "You like " + in}
			}
			addField(&pk.fields, ProfileFieldInterests)
		}
		if slices.Contains(sh.PreferredCategories, p.Category) {
			pk.score += scorePreferred
			if pk.reason[0] == "" {
				pk.reason = [2]string{"您关注的品类", "A category you follow"}
			}
			addField(&pk.fields, ProfileFieldPreferred)
		}
		if slices.Contains(favs, p.Category) {
			pk.score += scoreFavourite
			if pk.reason[0] == "" {
				pk.reason = [2]string{"您常买的品类", "You often buy from this category"}
			}
			addField(&pk.fields, ProfileFieldHistory)
		}
		if pk.score > 0 {
			picks = append(picks, pk)
		}
	}
	slices.SortStableFunc(picks, func(a, b pick) int { return b.score - a.score })
	return picks[:min(len(picks), MaxRecommendations)]
}

func addField(fields *[]string, f string) {
	if !slices.Contains(*fields, f) {
		*fields = append(*fields, f)
	}
}

// productCard is a recommended item as a card, in lang.
func productCard(p Product, lang, reason string) Card {
	name := p.NameZH
	if lang == "en" && p.NameEN != "" || name == "" {
		name = p.NameEN
	}
	return Card{Kind: "product", SKU: p.SKU, Name: name, Price: formatMoney(p.PriceCents, "CNY"), Category: p.Category, Reason: reason}
}

// catalog reads the catalog, or none without Deps.Profiles.
func (b *Bot) catalog(ctx context.Context) ([]Product, error) {
	if b.profiles == nil {
		return nil, nil
	}
	c, err := b.profiles.Products(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the catalog: %w", err)
	}
	return c, nil
}

// personalPicks returns the cards recommended from catalog to a consented
// shopper and the profile fields they used; none without consent or
// without a match. It reads the SKUs the shopper bought (one query).
func (b *Bot) personalPicks(ctx context.Context, t Turn, lang string, catalog []Product) ([]Card, []string, error) {
	sh := consented(t)
	if sh == nil || b.profiles == nil || len(catalog) == 0 {
		return nil, nil, nil
	}
	skus, err := b.profiles.BoughtSKUs(ctx, sh.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("read what the shopper bought: %w", err)
	}
	bought := make(map[string]bool, len(skus))
	for _, sku := range skus {
		bought[sku] = true
	}
	var cards []Card
	var fields []string
	for _, pk := range recommend(sh, catalog, bought) {
		reason := pk.reason[0]
		if lang == "en" {
			reason = pk.reason[1]
		}
		cards = append(cards, productCard(pk.p, lang, reason))
		for _, f := range pk.fields {
			addField(&fields, f)
		}
	}
	if len(cards) > 0 && len(bought) > 0 {
		// The items already bought were left out: the history was used.
		addField(&fields, ProfileFieldHistory)
	}
	return cards, fields, nil
}

// recommendReply answers a request for suggestions: personal picks with
// consent, otherwise the first catalog items. A verified shopper without
// consent also gets a word on the menu switch that turns personal picks
// on; a visitor does not, since the widget shows that menu to verified
// shoppers only and a visitor has no profile to pick from.
func (b *Bot) recommendReply(ctx context.Context, t Turn, r reply) (reply, string, error) {
	r.Intent = IntentRecommend
	catalog, err := b.catalog(ctx)
	if err != nil {
		return r, "", err
	}
	cards, fields, err := b.personalPicks(ctx, t, r.lang, catalog)
	if err != nil {
		return r, "", err
	}
	if len(cards) > 0 {
		r.Text, r.Cards = text(r.lang, msgRecommendPersonal), cards
		addFields(&r.Message, fields...)
		return r, "", nil
	}
	for _, p := range catalog[:min(len(catalog), MaxRecommendations)] {
		r.Cards = append(r.Cards, productCard(p, r.lang, ""))
	}
	if len(r.Cards) == 0 {
		r.Text = text(r.lang, msgRecommendNone)
	} else {
		r.Text = text(r.lang, msgRecommendGeneral)
	}
	if t.Shopper != nil && consented(t) == nil {
		r.Text += text(r.lang, msgRecommendConsent)
	}
	return r, "", nil
}

// closeLookback is how many messages before a thanks or goodbye
// recentTrouble reads.
const closeLookback = 10

// closeRecommendations adds personal picks to a thanks or a goodbye of a
// consented shopper: not while the conversation is with the people,
// waiting for them or left as a ticket, not when the message reads the
// least upset, and not right after trouble (recentTrouble).
func (b *Bot) closeRecommendations(ctx context.Context, t Turn, r *reply, log *slog.Logger) {
	if consented(t) == nil || b.profiles == nil || (t.handoffStatus != "" && t.handoffStatus != "closed") || moodOf(t.Text).Score > 0 {
		return
	}
	if b.recentTrouble(ctx, t, log) {
		return
	}
	catalog, err := b.catalog(ctx)
	if err != nil {
		log.Warn("recommend at the close", "err", err)
		return
	}
	cards, fields, err := b.personalPicks(ctx, t, r.lang, catalog)
	if err != nil {
		log.Warn("recommend at the close", "err", err)
		return
	}
	if len(cards) == 0 {
		return
	}
	r.Text += "\n" + text(r.lang, msgCloseRecommend)
	r.Cards = append(r.Cards, cards...)
	addFields(&r.Message, fields...)
}

// recentTrouble reports whether the closeLookback messages before the
// turn's hold a complaint, an upset or sensitive matter or a handoff: a
// shopper message that reads the least upset or names a sensitive
// matter, a bot reply that handed off, or any system or agent message
// (the desk's handoff notices, an agent's words). A thanks right after
// that is no moment for a sales pitch. One read of the last messages;
// when it fails, it says there was trouble (no cards).
func (b *Bot) recentTrouble(ctx context.Context, t Turn, log *slog.Logger) bool {
	msgs, err := b.convs.MessagesAfter(ctx, t.ConversationID, max(0, t.seq-1-closeLookback), closeLookback)
	if err != nil {
		log.Warn("read the messages before a close", "err", err)
		return true
	}
	for _, m := range msgs {
		if m.Seq >= t.seq {
			continue
		}
		switch m.Role {
		case RoleSystem, RoleAgent:
			return true
		case RoleBot:
			if m.Intent == IntentHandoff {
				return true
			}
		case RoleShopper:
			if moodOf(m.Text).Score > 0 || sensitiveMatter(m.Text) != "" {
				return true
			}
		}
	}
	return false
}
