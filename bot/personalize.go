package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// Personalisation (docs/profiles.md). Every element below is used only
// for a verified shopper who consented (Shopper.Personalize), and each one
// names the profile fields it used in Message.Personalized.

// consented returns the turn's shopper when they consented to
// personalised replies, or nil.
func consented(t Turn) *Shopper {
	if t.Shopper != nil && t.Shopper.Personalize {
		return t.Shopper
	}
	return nil
}

// loadProfile replaces the turn's shopper by their current profile, so a
// consent switched or an order written a moment ago counts at once. When
// the profile cannot be read, the shopper from the handshake stays but
// without personalisation: a consent withdrawn since then must not be
// overridden by a stale copy.
func (b *Bot) loadProfile(ctx context.Context, t *Turn, log *slog.Logger) {
	if b.profiles == nil || t.Shopper == nil {
		return
	}
	p, err := b.profiles.Profile(ctx, t.Shopper.ID)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			log.Warn("load the shopper's profile", "err", err)
		}
		stale := *t.Shopper
		stale.Personalize = false
		t.Shopper = &stale
		return
	}
	t.Shopper = &p
}

// addFields appends the fields not yet in m.Personalized.
func addFields(m *Message, fields ...string) {
	for _, f := range fields {
		if f != "" && !slices.Contains(m.Personalized, f) {
			m.Personalized = append(m.Personalized, f)
		}
	}
}

// FormalAge is the lower bound of the age bands greeted formally.
const FormalAge = 45

// formal reports whether an age band ("45-54", "55+", "60岁以上") starts
// at FormalAge or above.
func formal(ageBand string) bool {
	digits := strings.TrimLeftFunc(ageBand, func(r rune) bool { return !unicode.IsDigit(r) })
	end := strings.IndexFunc(digits, func(r rune) bool { return !unicode.IsDigit(r) })
	if end >= 0 {
		digits = digits[:end]
	}
	n, err := strconv.Atoi(digits)
	return err == nil && n >= FormalAge
}

// salutation is how a consented shopper is addressed, and the profile
// fields that decided it. zh: "林小雨" (the full name), or "林女士"/"林先生"
// (the surname, taken as the first character, and an honorific from the
// gender) when the age band starts at FormalAge or above; zh replies
// always say 您. en: the first name ("Emma"), or "Ms Clarke"/"Mr Clarke"
// (the last name) when formal, and the full name when formal without a
// known gender.
func salutation(sh *Shopper, lang string) (name string, isFormal bool, fields []string) {
	full := strings.TrimSpace(sh.Name)
	if full == "" {
		return "", false, nil
	}
	fields = []string{ProfileFieldName}
	if !formal(sh.AgeBand) {
		if lang == "en" {
			return strings.Fields(full)[0], false, fields
		}
		return full, false, fields
	}
	fields = append(fields, ProfileFieldAgeBand)
	han := strings.IndexFunc(full, func(r rune) bool { return !unicode.Is(unicode.Han, r) }) < 0
	var zhTitle, enTitle string
	switch sh.Gender {
	case "female":
		zhTitle, enTitle = "女士", "Ms"
	case "male":
		zhTitle, enTitle = "先生", "Mr"
	}
	if zhTitle == "" {
		return full, true, fields
	}
	fields = append(fields, ProfileFieldGender)
	if lang == "en" || !han {
		words := strings.Fields(full)
		return enTitle + " " + words[len(words)-1], true, fields
	}
	r, _ := utf8.DecodeRuneInString(full)
	return string(r) + zhTitle, true, fields
}

// greeting is the reply to a greeting: with the shopper's name (formal or
// not, see salutation) only with their consent.
func greeting(t Turn, lang string, m *Message) {
	sh := consented(t)
	if sh == nil {
		m.Text = text(lang, msgGreeting)
		return
	}
	name, isFormal, fields := salutation(sh, lang)
	switch {
	case name == "":
		m.Text = text(lang, msgGreeting)
	case isFormal && lang == "en":
		m.Text = fmt.Sprintf(text(lang, msgGreetingFormal), name)
	default:
		m.Text = fmt.Sprintf(text(lang, msgGreetingNamed), name)
	}
	addFields(m, fields...)
}

// tierTag is the knowledge tag of the policies of a member tier, as
// knowledge.Normalize stores and indexes it (lower case).
func tierTag(tier string) string { return knowledge.NormalizeTag(knowledge.TierTagPrefix + tier) }

// isTierPolicy reports whether an entry is a tier policy: those are
// never answers by themselves, only additions for members of their tier.
// The prefix is matched in any case, so an entry indexed before tier tags
// were normalised is still kept out of ordinary answers.
func isTierPolicy(h knowledge.Hit) bool {
	return slices.ContainsFunc(h.Tags, func(tag string) bool {
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(tag)), knowledge.TierTagPrefix)
	})
}

// withoutTierPolicies removes tier policies from a result; Answerable is
// decided again on what is left.
func withoutTierPolicies(res knowledge.Result, limit int) knowledge.Result {
	hits := res.Hits[:0:0]
	for _, h := range res.Hits {
		if !isTierPolicy(h) && len(hits) < limit {
			hits = append(hits, h)
		}
	}
	res.Hits = hits
	res.Answerable = len(hits) > 0 && hits[0].Confidence >= res.Threshold
	return res
}

// tierPolicy finds the policy of the consented shopper's tier for
// question q on the topic (knowledge category) of the answer found: the
// best entry tagged tier:<tier> that matches q confidently and has the
// same category. ok is false when there is none.
func (b *Bot) tierPolicy(ctx context.Context, t Turn, q, lang, category string) (knowledge.Hit, bool) {
	sh := consented(t)
	if sh == nil || strings.TrimSpace(sh.Tier) == "" {
		return knowledge.Hit{}, false
	}
	res, err := b.kb.Search(ctx, q, knowledge.SearchOptions{Limit: 3, Locale: localeOf(lang), Tags: []string{tierTag(sh.Tier)}})
	if err != nil || !res.Answerable {
		return knowledge.Hit{}, false
	}
	top := res.Hits[0]
	if category != "" && top.Category != category {
		return knowledge.Hit{}, false
	}
	return top, true
}

// addTierPolicy adds the tier policy for the question to a knowledge
// answer of a consented member.
func (b *Bot) addTierPolicy(ctx context.Context, t Turn, r *reply, category string) {
	h, ok := b.tierPolicy(ctx, t, t.Text, r.lang, category)
	if !ok {
		return
	}
	r.Text = strings.TrimSpace(r.Text) + "\n" + strings.TrimSpace(h.Answer)
	r.Sources = append(r.Sources, Source{ID: h.ID, Title: h.Question})
	addFields(&r.Message, ProfileFieldTier)
}
