package pii

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// Kinds of personal data.
const (
	KindPhone    = "PHONE"
	KindEmail    = "EMAIL"
	KindAddress  = "ADDRESS"
	KindIDCard   = "IDCARD"
	KindBankCard = "CARD"
)

// kinds lists every kind, in the order placeholders are documented.
var kinds = [...]string{KindPhone, KindEmail, KindAddress, KindIDCard, KindBankCard}

// Finding is one piece of personal data found in a text: its kind, the
// text itself, and its byte offsets, so that Value == s[Start:End].
type Finding struct {
	Kind, Value string
	Start, End  int
}

// Find returns the personal data found in s by the patterns, in order of
// position and without overlaps. Placeholders already in s are skipped.
func Find(s string) []Finding {
	return detect(s, nil)
}

// finder reports the spans of one kind of data in s, in increasing order
// and without overlaps, through add.
type finder func(s string, add func(kind string, start, end int))

// detect runs the detection steps described in the package doc on s and
// returns the findings sorted by position. known values are matched
// verbatim, longest first.
func detect(s string, known []Finding) []Finding {
	c := claims{s: s}
	for _, loc := range placeholderRE.FindAllStringIndex(s, -1) {
		c.spans = append(c.spans, Finding{Start: loc[0], End: loc[1]})
	}
	for _, k := range known {
		c.run(func(gap string, add func(string, int, int)) {
			for off := 0; ; {
				i := strings.Index(gap[off:], k.Value)
				if i < 0 {
					return
				}
				add(k.Kind, off+i, off+i+len(k.Value))
				off += i + len(k.Value)
			}
		})
	}
	c.run(findEmails)
	c.run(findParenLandlines)
	c.run(findNumbers)
	c.run(findChineseAddresses)
	c.run(findEnglishAddresses)
	c.run(findNumbers)

	out := c.spans[:0]
	for _, f := range c.spans {
		if f.Kind != "" { // Kind "" marks a placeholder that was already there
			out = append(out, f)
		}
	}
	return out
}

// claims holds the spans of s claimed so far, sorted and disjoint.
type claims struct {
	s     string
	spans []Finding
}

// run applies f to every gap between the claimed spans and claims what it
// finds.
func (c *claims) run(f finder) {
	var added []Finding
	scan := func(lo, hi int) {
		if lo >= hi {
			return
		}
		gap := c.s[lo:hi]
		f(gap, func(kind string, start, end int) {
			added = append(added, Finding{Kind: kind, Value: gap[start:end], Start: lo + start, End: lo + end})
		})
	}
	prev := 0
	for _, sp := range c.spans {
		scan(prev, sp.Start)
		prev = sp.End
	}
	scan(prev, len(c.s))
	if len(added) == 0 {
		return
	}
	c.spans = append(c.spans, added...)
	slices.SortFunc(c.spans, func(a, b Finding) int { return cmp.Compare(a.Start, b.Start) })
}

// emailRE matches an e-mail address at the start of a text.
var emailRE = regexp.MustCompile(`^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// findEmails reports e-mail addresses. For each '@' it takes the longest
// run of local-part characters before it and tries the pattern from there,
// which finds the same addresses as searching the whole text.
func findEmails(s string, add func(string, int, int)) {
	for from := 0; ; {
		at := strings.IndexByte(s[from:], '@')
		if at < 0 {
			return
		}
		at += from
		start := at
		for start > from && isLocalByte(s[start-1]) {
			start--
		}
		from = at + 1
		if start == at {
			continue
		}
		if loc := emailRE.FindStringIndex(s[start:]); loc != nil {
			add(KindEmail, start, start+loc[1])
			from = start + loc[1]
		}
	}
}

// isLocalByte reports whether c may be part of an e-mail's local part.
func isLocalByte(c byte) bool {
	return isWordByte(c) || c == '.' || c == '%' || c == '+' || c == '-'
}
