package knowledge

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Answer Markdown: the small safe subset of Markdown an answer may use, and
// all the chat widget renders. Everything else shows as the text it is.
//
//   - Paragraphs are separated by a blank line; a single line break is kept
//     as a line break.
//   - **bold** and *italic* (asterisks only: snake_case stays as written).
//   - Lists: lines starting "- " (or "* ") make a bulleted list, lines
//     starting "1. " (any number, or "1)") a numbered one.
//   - `inline code`.
//   - Links [text](https://...) whose target is an http or https URL. The
//     widget opens them in a new tab with rel="noopener noreferrer nofollow".
//   - A backslash before ASCII punctuation shows it literally: \*not bold\*.
//
// Not in the subset: images ![alt](url) (never loaded: they would leak the
// shopper's IP address and anything in the URL), links to anything but
// http(s) (javascript:, data:, mailto:, relative), raw HTML (shown as text
// by the widget, removed by Sanitize), headings (a "# Title" line shows as
// bold text), block quotes, tables and code blocks (shown as text).

// FlagKind says why Sanitize changed or flagged a field.
type FlagKind string

// Flag kinds, in the order Sanitize reports them within a field.
// FlagHiddenText, FlagInstructionLike, FlagImage and FlagUnsafeLink point at
// text that is kept but that an editor should look at; the others say what
// was removed or changed.
const (
	FlagInvalidUTF8      FlagKind = "invalid_utf8"      // bytes that are not UTF-8, replaced with U+FFFD
	FlagHTMLRemoved      FlagKind = "html_removed"      // HTML tags and comments; <script>, <style> and similar elements with their content
	FlagHiddenText       FlagKind = "hidden_text"       // HTML hiding its text (display:none, font-size:0, white text, the hidden attribute...): the text is kept, now visible
	FlagEntityDecoded    FlagKind = "entity_decoded"    // HTML character references (&amp;, &#8203;) turned into the characters
	FlagInvisibleRemoved FlagKind = "invisible_removed" // zero-width, bidirectional and other invisible formatting characters
	FlagControlRemoved   FlagKind = "control_removed"   // control characters (all but line breaks and tabs in the answer)
	FlagInstructionLike  FlagKind = "instruction_like"  // text that reads as instructions to a language model ("ignore previous instructions", "你现在是")
	FlagImage            FlagKind = "image"             // a Markdown image: not in the answer subset, shown as text
	FlagUnsafeLink       FlagKind = "unsafe_link"       // a Markdown link whose target is not http(s): shown as text
)

var flagRank = map[FlagKind]int{
	FlagInvalidUTF8: 0, FlagHTMLRemoved: 1, FlagHiddenText: 2, FlagEntityDecoded: 3, FlagInvisibleRemoved: 4,
	FlagControlRemoved: 5, FlagInstructionLike: 6, FlagImage: 7, FlagUnsafeLink: 8,
}

// Flag is one thing Sanitize removed from, or noticed in, a field.
type Flag struct {
	// Field is "question", "alternates[i]", "answer", "category" or
	// "tags[i]", indexed as in the entry given to Sanitize.
	Field string   `json:"field"`
	Kind  FlagKind `json:"kind"`
	// Excerpt shows what was removed or matched, shortened, with invisible
	// and control characters written as [U+XXXX].
	Excerpt string `json:"excerpt"`
}

func (f Flag) String() string { return f.Field + ": " + string(f.Kind) + ": " + f.Excerpt }

// Sanitize returns e with its question, alternates, answer, category and
// tags made safe to show in the widget and to give a language model, then
// normalised (see Entry.Normalize), and flags saying what it changed and
// what an editor should look at. It:
//
//   - replaces invalid UTF-8 with U+FFFD;
//   - removes HTML: tags (keeping their text: "<b>x</b>" is "x"),
//     comments, and <script>, <style>, <iframe>, <template> and similar
//     elements with their content; <br> and the ends of block elements
//     become line breaks. A "<" that does not start a tag stays: "价格<100元",
//     "a < b", "<usually>" (not an HTML element);
//   - decodes HTML character references (&amp; &lt; &nbsp; &#39; &#x4e2d;
//     and a few more);
//   - removes invisible formatting characters (zero-width spaces and
//     joiners, bidirectional marks, embeddings, overrides and isolates, the
//     BOM, word joiners, soft hyphens, Unicode tag characters, Hangul
//     fillers...) and control characters, except line breaks and tabs in
//     the answer ("\r\n" becomes "\n"); in the other fields line breaks and
//     tabs become spaces;
//   - repeats these until nothing changes, so that "&lt;script&gt;" or
//     "<scr<b></b>ipt>" cannot turn into markup, and Sanitize(Sanitize(e))
//     changes nothing;
//   - flags, without changing it, text that reads as instructions to a
//     model (in English and Chinese, whatever the spacing, case or
//     full-width letters), text that HTML was hiding, Markdown images and
//     Markdown links to anything but http(s).
//
// Flags come in a stable order: by field (question, alternates, answer,
// category, tags), then by kind in the order of the FlagKind constants,
// then by position in the field. Removals are one flag per field and kind.
// The id and locale are only normalised.
func Sanitize(e Entry) (Entry, []Flag) {
	var flags []Flag
	clean := func(field, s string, multiline bool) string {
		out, fs := sanitizeText(s, multiline)
		for _, f := range fs {
			f.Field = field
			flags = append(flags, f)
		}
		return out
	}
	out := e
	out.Question = clean("question", e.Question, false)
	out.Alternates = nil
	for i, a := range e.Alternates {
		out.Alternates = append(out.Alternates, clean(fmt.Sprintf("alternates[%d]", i), a, false))
	}
	out.Answer = clean("answer", e.Answer, true)
	out.Category = clean("category", e.Category, false)
	out.Tags = nil
	for i, t := range e.Tags {
		out.Tags = append(out.Tags, clean(fmt.Sprintf("tags[%d]", i), t, false))
	}
	return out.Normalize(), flags
}

// sanitizeText cleans one field and returns its flags (without Field).
func sanitizeText(s string, multiline bool) (string, []Flag) {
	r := newRecorder()
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		r.add(FlagInvalidUTF8, "U+FFFD")
	}
	// Every step shortens the text or turns line breaks into spaces, so
	// this ends.
	for {
		next := cleanChars(decodeEntities(stripHTML(s, r), r), multiline, r)
		if next == s {
			break
		}
		s = next
	}
	s = strings.TrimSpace(s)
	findInstructions(s, r)
	findMarkdownMedia(s, r)
	return s, r.flags()
}

// recorder collects flags for one field: removals once per kind with a few
// examples, findings one by one.
type recorder struct {
	removed map[FlagKind]*removal
	found   []found
}

type removal struct {
	count    int
	examples []string
}

type found struct {
	kind    FlagKind
	at      int
	excerpt string
}

func newRecorder() *recorder { return &recorder{removed: map[FlagKind]*removal{}} }

// maxExamples caps the examples in a removal flag's excerpt.
const maxExamples = 3

// add records one removal of kind; example is what was removed.
func (r *recorder) add(kind FlagKind, example string) {
	rm := r.removed[kind]
	if rm == nil {
		rm = &removal{}
		r.removed[kind] = rm
	}
	rm.count++
	example = shorten(example, 40)
	for _, e := range rm.examples {
		if e == example {
			return
		}
	}
	if len(rm.examples) < maxExamples {
		rm.examples = append(rm.examples, example)
	}
}

// find records a finding at byte offset at of the cleaned text.
func (r *recorder) find(kind FlagKind, at int, excerpt string) {
	r.found = append(r.found, found{kind: kind, at: at, excerpt: shorten(excerpt, 80)})
}

func (r *recorder) flags() []Flag {
	var fs []Flag
	for kind, rm := range r.removed {
		ex := strings.Join(rm.examples, ", ")
		if rm.count > len(rm.examples) {
			ex += fmt.Sprintf(" (%d in all)", rm.count)
		}
		fs = append(fs, Flag{Kind: kind, Excerpt: ex})
	}
	sort.Slice(fs, func(i, j int) bool { return flagRank[fs[i].Kind] < flagRank[fs[j].Kind] })
	sort.SliceStable(r.found, func(i, j int) bool {
		a, b := r.found[i], r.found[j]
		if a.kind != b.kind {
			return flagRank[a.kind] < flagRank[b.kind]
		}
		return a.at < b.at
	})
	for _, f := range r.found {
		fs = append(fs, Flag{Kind: f.kind, Excerpt: f.excerpt})
	}
	sort.SliceStable(fs, func(i, j int) bool { return flagRank[fs[i].Kind] < flagRank[fs[j].Kind] })
	return fs
}

// shorten cuts s to at most n runes (adding "…") and writes invisible and
// control characters as [U+XXXX], so that an excerpt shows what it is.
func shorten(s string, n int) string {
	var b strings.Builder
	i := 0
	for _, c := range s {
		if i == n {
			b.WriteString("…")
			break
		}
		i++
		switch {
		case c == '\n' || c == '\t' || c == '\r':
			b.WriteByte(' ')
		case invisible(c) || unicode.IsControl(c):
			fmt.Fprintf(&b, "[U+%04X]", c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Invisible and control characters.

// invisible reports whether c is an invisible formatting character that
// Sanitize removes: every format character (Unicode category Cf: zero-width
// space, non-joiner and joiner, LRM/RLM, ALM U+061C, Mongolian vowel
// separator U+180E, bidi embeddings, overrides and isolates, word joiner,
// invisible operators, BOM, soft hyphen, interlinear annotations, tag
// characters U+E0000-E007F...), and blank-looking letters and marks:
// combining grapheme joiner U+034F, Hangul fillers, Khmer inherent vowels,
// Mongolian free variation selectors, and the variation selectors
// supplement U+E0100-E01EF. The emoji variation selectors U+FE00-FE0F stay.
func invisible(c rune) bool {
	switch {
	case c < 0xAD:
		return false
	case unicode.Is(unicode.Cf, c):
		return true
	case c == 0x034F, c == 0x115F, c == 0x1160, c == 0x17B4, c == 0x17B5, c == 0x3164, c == 0xFFA0,
		0x180B <= c && c <= 0x180F, 0xE0100 <= c && c <= 0xE01EF:
		return true
	}
	return false
}

// cleanChars removes invisible and control characters. In the answer
// (multiline) it keeps "\n" and "\t" and turns "\r\n", "\r", U+2028 and
// U+2029 into "\n"; elsewhere all of those become a space.
func cleanChars(s string, multiline bool, r *recorder) string {
	dirty := false
	for _, c := range s {
		if c < 0x20 || c == 0x7F || c >= 0x80 && (invisible(c) || unicode.IsControl(c) || c == 0x2028 || c == 0x2029) {
			dirty = true
			break
		}
	}
	if !dirty {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		switch {
		case c == '\r' && multiline:
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteByte('\n')
			}
		case c == '\n' || c == '\t' || c == 0x2028 || c == 0x2029 || c == '\r':
			switch {
			case !multiline:
				b.WriteByte(' ')
			case c == '\t':
				b.WriteByte('\t')
			default:
				b.WriteByte('\n')
			}
		case invisible(c):
			r.add(FlagInvisibleRemoved, fmt.Sprintf("U+%04X", c))
		case unicode.IsControl(c):
			r.add(FlagControlRemoved, fmt.Sprintf("U+%04X", c))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
