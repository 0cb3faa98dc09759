package knowledge

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HTML removal for Sanitize: tags, comments, elements whose content is
// never text, and character references.

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
