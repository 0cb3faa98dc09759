package knowledge

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
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

// Flag kinds, in the order Sanitize reports them within a field. The first
// six say what was removed or changed; the last four flag text that is kept
// but that an editor should look at.
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
	Field string
	Kind  FlagKind
	// Excerpt shows what was removed or matched, shortened, with invisible
	// and control characters written as [U+XXXX].
	Excerpt string
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
	// Every step only ever shortens the text, so this ends.
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

/* ---------- HTML ---------- */

// htmlElements are the element names stripHTML treats as tags. Other names
// ("<usually>", "<订单号>" is not a tag anyway) stay as text unless the tag
// has an attribute with a value; names with a "-" are custom elements.
var htmlElements = toSet(`a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big
blink blockquote body br button canvas caption center cite code col colgroup data datalist dd del details dfn dialog
dir div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup
hr html i iframe image img input ins isindex kbd keygen label legend li link listing main map mark marquee math menu
menuitem meta meter multicol nav nextid nobr noembed noframes noscript object ol optgroup option output p param picture
plaintext portal pre progress q rb rp rt rtc ruby s samp script search section select slot small source spacer span
strike strong style sub summary sup svg table tbody td template textarea tfoot th thead time title tr track tt u ul
var video wbr xmp`)

// dropElements are removed with everything up to their end tag (or the end
// of the text when there is none), as a browser never shows their content
// as text.
var dropElements = toSet(`script style template noscript iframe object noembed noframes xmp title svg math applet`)

// breakTags become a line break: <br> and the end of block elements.
var breakTags = toSet(`br /p /div /li /tr /h1 /h2 /h3 /h4 /h5 /h6 /blockquote /pre /ul /ol /table /section /article /header /footer /dd /dt`)

func toSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

var (
	styleAttrRe  = regexp.MustCompile(`(?i)\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
	hiddenAttrRe = regexp.MustCompile(`(?i)\shidden(?:\s|=|/|>)`)
	fontHideRe   = regexp.MustCompile(`(?i)^<font\b[^>]*\s(?:color\s*=\s*["']?\s*(?:white|#fff|#ffffff|transparent)\b|size\s*=\s*["']?\s*0)`)
	attrValueRe  = regexp.MustCompile(`\s[^\s=/>]+\s*=`)
	// hidingCSSRe matches CSS that hides text, after lower-casing and
	// removing white space.
	hidingCSSRe = regexp.MustCompile(`display:none|visibility:(?:hidden|collapse)|opacity:0?\.?0*(?:[;!}]|$)|` +
		`font-size:[01](?:\.0*)?(?:px|pt|em|rem|%)?(?:[;!}]|$)|(?:^|[;{])color:(?:transparent|white|#fff|#ffffff|rgba\(\d+,\d+,\d+,0?\.?0*\))(?:[;!}]|$)|` +
		`text-indent:-|(?:left|top|right|bottom|margin-left|margin-top):-\d{3,}|clip:rect\(0|clip-path:inset\(50%|` +
		`(?:max-)?(?:width|height):0(?:px|em|%)?(?:[;!}]|$)|transform:scale\(0\)`)
)

// hidesText reports whether a start tag hides its content.
func hidesText(tag string) bool {
	if hiddenAttrRe.MatchString(tag) || fontHideRe.MatchString(tag) {
		return true
	}
	for _, m := range styleAttrRe.FindAllStringSubmatch(tag, -1) {
		if hidingCSS(m[1] + m[2] + m[3]) {
			return true
		}
	}
	return false
}

func hidingCSS(css string) bool {
	css = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, css)
	return hidingCSSRe.MatchString(css)
}

// stripHTML removes tags, comments and dropElements from s, recording them
// (and hidden text) in r. It returns s itself when there is nothing to remove.
func stripHTML(s string, r *recorder) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	lastGT, lastComment := strings.LastIndexByte(s, '>'), strings.LastIndex(s, "<!--")
	i := 0
	for i < len(s) {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 || i+j > lastGT && i+j > lastComment {
			// No tag can end after the last '>'; only an open comment
			// hides the rest.
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		i += j
		n, name, end := htmlTagAt(s[i:])
		if n == 0 {
			b.WriteByte('<')
			i++
			continue
		}
		tag := s[i : i+n]
		switch {
		case name == "!--" || name == "!":
			r.add(FlagHTMLRemoved, tag)
		case !end && dropElements[name] && !strings.HasSuffix(tag, "/>"):
			// Drop everything to the matching end tag, or to the end.
			rest := s[i+n:]
			k := findEndTag(rest, name)
			if k < 0 {
				k = len(rest)
			} else {
				endLen, _, _ := htmlTagAt(rest[k:])
				k += endLen
			}
			if name == "style" && hidingCSS(rest[:k]) {
				r.find(FlagHiddenText, b.Len(), tag+strings.TrimSpace(rest[:min(k, 60)]))
			}
			r.add(FlagHTMLRemoved, tag+"…")
			n += k
		default:
			r.add(FlagHTMLRemoved, tag)
			if !end && hidesText(tag) {
				next := s[i+n:]
				if k := strings.IndexByte(next, '<'); k >= 0 {
					next = next[:k]
				}
				r.find(FlagHiddenText, b.Len(), tag+next)
			}
			key := name
			if end {
				key = "/" + name
			}
			if breakTags[key] {
				b.WriteByte('\n')
			}
		}
		i += n
	}
	return b.String()
}

// maxTagLen is the longest tag htmlTagAt finds, in bytes; a longer one is
// text.
const maxTagLen = 2048

// htmlTagAt reports whether s starts with an HTML tag, comment or
// declaration, and returns its length in bytes, its lower-case name ("!--"
// for a comment, "!" for <!...> and <?...>) and whether it is an end tag.
// It returns 0 for a "<" that starts no tag.
func htmlTagAt(s string) (n int, name string, end bool) {
	if len(s) < 2 || s[0] != '<' {
		return 0, "", false
	}
	if strings.HasPrefix(s, "<!--") {
		k := strings.Index(s[4:], "-->")
		if k < 0 {
			return len(s), "!--", false // an open comment hides the rest
		}
		return 4 + k + 3, "!--", false
	}
	if s[1] == '!' || s[1] == '?' {
		k := strings.IndexByte(s, '>')
		if k < 0 {
			return 0, "", false
		}
		return k + 1, "!", false
	}
	i := 1
	if s[1] == '/' {
		end = true
		i = 2
	}
	start := i
	for i < len(s) && (isASCIILetter(s[i]) || (i > start && (isASCIIDigit(s[i]) || s[i] == '-'))) {
		i++
	}
	if i == start || i == len(s) {
		return 0, "", false
	}
	if c := s[i]; c != '>' && c != '/' && !isHTMLSpace(c) {
		return 0, "", false // "<a@b.com>", "<h1x", "<b中>"
	}
	name = strings.ToLower(s[start:i])
	// Find the closing '>' outside quoted attribute values, looking no
	// further than maxTagLen so that text full of "<a " takes linear time.
	var quote byte
	for k := i; k < len(s) && k < maxTagLen; k++ {
		c := s[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			if !end && k > i && isAttrValueStart(s[i:k]) {
				quote = c
			}
		case c == '>':
			n = k + 1
			if !htmlElements[name] && !strings.Contains(name, "-") && !attrValueRe.MatchString(s[i:k]) {
				return 0, "", false // "<usually>", "<name and age>"
			}
			return n, name, end
		}
	}
	return 0, "", false // no '>': not a tag
}

// isAttrValueStart reports whether a quote after attrs starts a value: the
// last non-space byte before it is '='.
func isAttrValueStart(attrs string) bool {
	t := strings.TrimRight(attrs, " \t\n\r\f")
	return strings.HasSuffix(t, "=")
}

// findEndTag returns the offset in s of the end tag </name (any case), or -1.
func findEndTag(s, name string) int {
	for off := 0; ; {
		k := strings.Index(s[off:], "</")
		if k < 0 {
			return -1
		}
		k += off
		if n, tag, end := htmlTagAt(s[k:]); n > 0 && end && tag == name {
			return k
		}
		off = k + 2
	}
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isASCIIDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isHTMLSpace(c byte) bool   { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// entities are the named character references decodeEntities knows.
var entities = map[string]string{
	"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'", "nbsp": "\u00a0",
	"copy": "©", "reg": "®", "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–",
	"lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "middot": "·", "times": "×",
	"divide": "÷", "yen": "¥", "euro": "€", "pound": "£", "cent": "¢", "deg": "°",
	"plusmn": "±", "laquo": "«", "raquo": "»", "bull": "•", "ensp": "\u2002", "emsp": "\u2003",
	"thinsp": "\u2009", "zwj": "\u200d", "zwnj": "\u200c", "lrm": "\u200e", "rlm": "\u200f", "shy": "\u00ad",
}

var (
	entityRe = regexp.MustCompile(`&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});`)
	// ampRunRe is an escaped ampersand escaped again and again
	// ("&amp;amp;amp;"): it decodes to one "&" however many passes it takes,
	// so decodeEntities does that at once.
	ampRunRe = regexp.MustCompile(`&(?:amp;|#0*38;|#[xX]0*26;){2,}`)
)

// decodeEntities decodes the character references of s it knows; a
// reference to no valid character (0, a surrogate, past U+10FFFF) becomes
// U+FFFD, as in a browser. Each reference is longer than what it stands for.
func decodeEntities(s string, r *recorder) string {
	if !strings.Contains(s, "&") {
		return s
	}
	s = ampRunRe.ReplaceAllStringFunc(s, func(run string) string {
		r.add(FlagEntityDecoded, run)
		return "&"
	})
	return entityRe.ReplaceAllStringFunc(s, func(ref string) string {
		body := ref[1 : len(ref)-1]
		var out string
		if body[0] == '#' {
			var v uint64
			var err error
			if body[1] == 'x' || body[1] == 'X' {
				v, err = strconv.ParseUint(body[2:], 16, 32)
			} else {
				v, err = strconv.ParseUint(body[1:], 10, 32)
			}
			c := rune(v)
			if err != nil || v == 0 || v > unicode.MaxRune || !utf8.ValidRune(c) {
				c = utf8.RuneError
			}
			out = string(c)
		} else {
			var ok bool
			if out, ok = entities[body]; !ok {
				return ref
			}
		}
		r.add(FlagEntityDecoded, ref)
		return out
	})
}

/* ---------- invisible and control characters ---------- */

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

/* ---------- instruction-like text ---------- */

// instructionsEN match in a lower-cased copy of the text with full-width
// letters folded, "*", "`" and "~" dropped, "_" a space and white space
// collapsed to one space. The "ignore ..." patterns match inside a word too,
// as hidden text is often glued to the text before it ("OKIgnore all...").
var instructionsEN = compileAll(
	`(?:ignore|disregard|forget|bypass|override|skip)\b(?: \S+){0,3}? (?:previous|prior|above|earlier|preceding|foregoing|former|initial|original|system|all|any|your|these|those)\b(?: \S+){0,2}? (?:instructions?|prompts?|rules|directions?|guidelines|messages?|context|commands?|constraints|restrictions|programming)\b`,
	`(?:ignore|disregard|forget) (?:(?:everything|all|anything|the|what was|what is) )*(?:(?:said|written|stated) )?(?:above|before|so far)\b`,
	`\b(?:ignore|disregard|forget|override|bypass|reveal|show|print|output|repeat|display|leak|dump|share|tell me|give me|what is|what are|what's)\b.{0,30}\b(?:system prompt|system message|initial instructions?|hidden instructions?|original instructions?|your instructions|your prompt)\b`,
	`\bsystem prompt\b`,
	`\byou are now\b`,
	`\bfrom now on,? you\b`,
	`\b(?:act|behave|respond) as (?:a|an|if|though|my|the|dan)\b`,
	`\bpretend (?:to be|you are|you're|that you)\b`,
	`\brole ?-?play as\b`,
	`\bnew (?:instructions?|rules|system prompt) ?:`,
	`\b(?:developer|dan|god|jailbreak|unrestricted) mode\b`,
	`\bjailbr[eo]a?k`,
	`\bdo anything now\b`,
	`<\| ?(?:im start|im end|system|user|assistant|endoftext) ?\|>|\[/?inst\]|<</?sys>>`,
)

// instructionsZH match in a copy of the text with full-width letters
// folded, ASCII lower-cased, and white space, punctuation and symbols
// dropped, so "忽 略，之前的「指令」" reads "忽略之前的指令".
var instructionsZH = compileAll(
	`(?:忽略|无视|忽视|不要理会|别理会|不用理会|不要管|别管|跳过|忘记|忘掉|忘了|抛开|抛弃|丢弃|违背|绕过|覆盖)掉?(?:你|我)?(?:之前|以前|此前|先前|前面|上面|以上|上述|前述|原来|原有|原先|原始|最初|所有|全部|一切|任何|你的|系统|给你|收到)+.{0,8}?(?:指令|指示|规则|提示|设定|要求|命令|约束|限制|说明|规定|对话|内容|信息|消息)`,
	`你现在(?:是|扮演|作为|变成|成为|就是|的身份)`,
	`从现在(?:开始|起)你`,
	`扮演`,
	`假装(?:你是|自己是|成为|是)`,
	`(?:输出|显示|打印|告诉我|泄露|透露|重复|展示|给出|说出|列出|复述|发给我|写出)(?:一下)?(?:你的|你)?.{0,6}?(?:系统提示|系统指令|系统消息|系统设定|初始指令|原始指令|提示词|prompt)`,
	`系统提示词`,
	`(?:开发者|上帝|越狱|无限制)模式`,
	`越狱`,
	`不受(?:任何)?(?:限制|约束)`,
	`新的?指令`,
)

func compileAll(exprs ...string) []*regexp.Regexp {
	res := make([]*regexp.Regexp, len(exprs))
	for i, e := range exprs {
		res[i] = regexp.MustCompile(e)
	}
	return res
}

// foldedText is a copy of a text made for matching, with the byte span of
// the original each of its bytes came from.
type foldedText struct {
	s          string
	start, end []int
}

func fold(s string, zh bool) foldedText {
	var (
		b          strings.Builder
		start, end []int
		lastSpace  = true
	)
	emit := func(c rune, from, to int) {
		n := utf8.RuneLen(c)
		b.WriteRune(c)
		for range n {
			start = append(start, from)
			end = append(end, to)
		}
	}
	for i, c := range s {
		to := i + utf8.RuneLen(c)
		switch {
		case 0xFF01 <= c && c <= 0xFF5E: // full-width ASCII
			c -= 0xFEE0
		case c == 0x3000:
			c = ' '
		}
		c = unicode.ToLower(c)
		if zh {
			if unicode.IsSpace(c) || unicode.IsPunct(c) || unicode.IsSymbol(c) {
				continue
			}
			emit(c, i, to)
			continue
		}
		switch {
		case c == '*' || c == '`' || c == '~':
			continue
		case c == '_' || unicode.IsSpace(c):
			if !lastSpace {
				emit(' ', i, to)
			}
			lastSpace = true
			continue
		}
		lastSpace = false
		emit(c, i, to)
	}
	return foldedText{s: b.String(), start: start, end: end}
}

// findInstructions flags each stretch of s that matches an instruction-like
// pattern; overlapping matches are one flag.
func findInstructions(s string, r *recorder) {
	type span struct{ from, to int }
	var spans []span
	for _, set := range []struct {
		zh  bool
		res []*regexp.Regexp
	}{{false, instructionsEN}, {true, instructionsZH}} {
		f := fold(s, set.zh)
		for _, re := range set.res {
			for _, m := range re.FindAllStringIndex(f.s, -1) {
				if m[1] > m[0] {
					spans = append(spans, span{f.start[m[0]], f.end[m[1]-1]})
				}
			}
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].from < cur.to; i++ {
			cur.to = max(cur.to, spans[i].to)
		}
		r.find(FlagInstructionLike, cur.from, s[cur.from:cur.to])
	}
}

/* ---------- Markdown images and links ---------- */

// mdLinkRe matches a Markdown link or image as the widget reads one
// (MD_LINK in widget.js): [text](target) or [text](<target> "title"), where
// the target may hold one level of parentheses, as in javascript:alert(1).
var mdLinkRe = regexp.MustCompile(`(!?)\[([^\[\]\n]{0,1000})\]\( *<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?: +"[^"\n]*")? *\)`)

// safeLinkTarget reports whether a Markdown link target is an http or
// https URL with a host, the only links the widget makes clickable.
func safeLinkTarget(target string) bool {
	t := strings.ToLower(target)
	for _, p := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(t, p); ok {
			return rest != "" && rest[0] != '/'
		}
	}
	return false
}

// findMarkdownMedia flags Markdown images and links to anything but http(s).
func findMarkdownMedia(s string, r *recorder) {
	if !strings.Contains(s, "](") {
		return
	}
	for _, m := range mdLinkRe.FindAllStringSubmatchIndex(s, -1) {
		whole := s[m[0]:m[1]]
		switch {
		case m[3] > m[2]: // "!["
			r.find(FlagImage, m[0], whole)
		case !safeLinkTarget(s[m[6]:m[7]]):
			r.find(FlagUnsafeLink, m[0], whole)
		}
	}
}
