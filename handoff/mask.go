package handoff

import (
	"strings"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// maskText hides the personal data pii.Find sees in s, keeping a little
// of each value so an agent can tell them apart ("138****5678").
func maskText(s string) string {
	found := pii.Find(s)
	if len(found) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, f := range found {
		b.WriteString(s[last:f.Start])
		b.WriteString(maskValue(f.Kind, f.Value))
		last = f.End
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskValue hides most of one value of the kind (pii.KindPhone...).
func maskValue(kind, v string) string {
	if v == "" {
		return ""
	}
	switch kind {
	case pii.KindEmail:
		local, domain, ok := strings.Cut(v, "@")
		if !ok {
			return keepEnds(v, 1, 0)
		}
		return keepEnds(local, 1, 0) + "@" + domain
	case pii.KindAddress:
		return keepEnds(v, 6, 0)
	default: // numbers: phone, ID and bank cards
		return keepEnds(v, 3, 4)
	}
}

// keepEnds keeps the first head and last tail characters of v and stars
// the rest; a short v is starred but for its first character.
func keepEnds(v string, head, tail int) string {
	r := []rune(v)
	if len(r) <= head+tail+2 {
		if len(r) <= 1 {
			return "*"
		}
		return string(r[:1]) + strings.Repeat("*", len(r)-1)
	}
	return string(r[:head]) + "****" + string(r[len(r)-tail:])
}

// clip cuts s to n characters, with an ellipsis when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
