package pii

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// minKnownRunes is the shortest value Known accepts: masking every "12" or
// "王" would shred ordinary text.
const minKnownRunes = 3

// Masker replaces personal data with numbered placeholders such as
// [PHONE_1] and remembers each, so that a reply can be restored. The same
// value always gets the same placeholder within a Masker; numbering is per
// kind. Use one Masker per conversation turn, for everything sent to the
// LLM in that turn (messages, profile, orders, knowledge) and for the
// reply, including tool-call arguments. A Masker is not safe for
// concurrent use. Placeholder numbers have at most six digits; a Masker
// that issued more than 999,999 placeholders of one kind would issue ones
// that Restore does not recognise, far beyond any turn.
type Masker struct {
	known   []Finding         // values registered with Known, longest first
	byValue map[string]string // kind + "\x00" + value → placeholder
	byToken map[string]string // placeholder → value
	count   map[string]int    // kind → placeholders issued
}

// NewMasker returns a Masker that has issued no placeholders.
func NewMasker() *Masker {
	return &Masker{
		byValue: make(map[string]string),
		byToken: make(map[string]string),
		count:   make(map[string]int),
	}
}

// Known registers a value that must be masked wherever it appears verbatim,
// even if no pattern matches it: the shopper's profile phone, e-mail or
// address, e.g. m.Known(pii.KindAddress, "上海市浦东新区世纪大道100号").
// Surrounding white space is trimmed. A value shorter than three
// characters, or a kind that is not one of the Kind constants, is ignored.
func (m *Masker) Known(kind, value string) {
	value = strings.TrimSpace(value)
	if !slices.Contains(kinds[:], kind) || utf8.RuneCountInString(value) < minKnownRunes {
		return
	}
	for _, k := range m.known {
		if k.Value == value {
			return
		}
	}
	m.known = append(m.known, Finding{Kind: kind, Value: value})
	slices.SortStableFunc(m.known, func(a, b Finding) int { return cmp.Compare(len(b.Value), len(a.Value)) })
}

// Mask returns s with every piece of personal data replaced by its
// placeholder. Placeholders already in s are left alone, so masking masked
// text changes nothing.
func (m *Masker) Mask(s string) string {
	return replace(s, detect(s, m.known), func(f Finding) string { return m.placeholder(f.Kind, f.Value) })
}

// replace returns s with each finding (in order, without overlaps)
// replaced by what with returns for it.
func replace(s string, found []Finding, with func(Finding) string) string {
	if len(found) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prev := 0
	for _, f := range found {
		b.WriteString(s[prev:f.Start])
		b.WriteString(with(f))
		prev = f.End
	}
	b.WriteString(s[prev:])
	return b.String()
}

// placeholder returns the placeholder of value, issuing one if needed.
func (m *Masker) placeholder(kind, value string) string {
	key := kind + "\x00" + value
	if p, ok := m.byValue[key]; ok {
		return p
	}
	m.count[kind]++
	p := "[" + kind + "_" + strconv.Itoa(m.count[kind]) + "]"
	m.byValue[key] = p
	m.byToken[p] = value
	return p
}

// Restore returns s with every placeholder this Masker issued replaced by
// its value. A placeholder it never issued (the model invented [PHONE_7])
// becomes "***"; other text is untouched.
func (m *Masker) Restore(s string) string {
	if strings.IndexByte(s, '[') < 0 {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(tok string) string {
		if v, ok := m.byToken[tok]; ok {
			return v
		}
		return "***"
	})
}
