package bot

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// replyFilter turns the model's raw text, chunk by chunk as it streams,
// into what the shopper sees: citation markers such as [1] are removed and
// recorded, placeholders such as [PHONE_1] are restored to the shopper's
// own data, Markdown images ![alt](url) are removed, and a reply that
// starts repeating the instructions (their canary, or a long verbatim span
// of them) stops being shown.
//
// Images are removed because their URL is a channel out of the
// conversation (OWASP LLM05): a model obeying an injected instruction can
// put the shopper's data, restored from a placeholder, into the URL of an
// image that a renderer would load without a click. The widget renders no
// images, but stored replies also reach transcripts and agents' screens.
//
// Text that may be the start of a marker, an image, the canary or the
// no-answer word is held back until it is decided, so nothing the shopper
// should not see is ever sent as a delta; everything else goes out at once.
type replyFilter struct {
	mask     *pii.Masker
	canary   string
	prompt   map[string]bool // shingles of the instructions
	allowed  map[string]bool // shingles of the instructions found in the model's data
	raw      []rune          // everything the model wrote (for the leak check)
	held     string          // undecided text, not yet shown
	shown    strings.Builder // everything shown so far
	cited    []int
	started  bool // something was shown
	inImage  bool // within the target of a Markdown image, which is dropped
	leaked   bool
	noAnswer bool // the model said it has no answer
}

// shingleLen is the length of the instruction spans a reply may not repeat.
const shingleLen = 24

func newReplyFilter(mask *pii.Masker, canary string, shingles map[string]bool) *replyFilter {
	return &replyFilter{mask: mask, canary: canary, prompt: shingles}
}

// promptShingles returns every shingleLen-rune span of the instructions,
// spaces folded.
func promptShingles(prompt string) map[string]bool {
	r := []rune(strings.Join(strings.Fields(prompt), " "))
	out := make(map[string]bool, len(r))
	for i := 0; i+shingleLen <= len(r); i++ {
		out[string(r[i:i+shingleLen])] = true
	}
	return out
}

// allow tells the filter that the model was given text as data (a tool
// result, the references): the spans of the instructions that text
// contains are not a leak when the reply repeats them. A tool result such
// as "the shopper must press Confirm on the card" shares a span with the
// instructions, and a reply quoting it is not repeating them.
func (f *replyFilter) allow(text string) {
	for s := range promptShingles(text) {
		if f.prompt[s] {
			if f.allowed == nil {
				f.allowed = map[string]bool{}
			}
			f.allowed[s] = true
		}
	}
}

// Write takes the next chunk of the model's text and returns what may be
// shown now (possibly "").
func (f *replyFilter) Write(chunk string) string {
	if f.leaked || f.noAnswer {
		return ""
	}
	f.checkLeak(chunk)
	if f.leaked {
		f.held = ""
		return ""
	}
	s := f.held + chunk
	f.held = ""
	var out strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if f.inImage {
			// The image's target, however long, is dropped as it streams:
			// it ends at the first ')' or line break.
			j := strings.IndexAny(s[i:], ")\n")
			if j < 0 {
				break
			}
			if s[i+j] == ')' {
				j++
			}
			i += j
			f.inImage = false
			continue
		}
		if r == '!' {
			end, decided := imageAt(s[i:])
			if !decided {
				f.held = s[i:]
				break
			}
			if end > 0 {
				f.inImage = true
				i += end
				continue
			}
		}
		if r == '[' || r == '【' {
			end, decided := f.marker(s[i:])
			if !decided {
				f.held = s[i:]
				break
			}
			if end > 0 {
				tok := s[i : i+end]
				shown := f.resolve(tok, func() bool { return inURL(f.shown.String() + out.String()) })
				if shown == "" {
					// A dropped citation takes the space before it along:
					// "return [1]." reads "return.".
					trimmed := strings.TrimRight(out.String(), " ")
					out.Reset()
					out.WriteString(trimmed)
				}
				out.WriteString(shown)
				i += end
				continue
			}
		}
		if r == ' ' {
			// Spaces before a citation go with it ("return [1]." reads
			// "return."), so they wait until what follows is known.
			rest := strings.TrimLeft(s[i:], " ")
			if rest == "" {
				f.held = s[i:]
				break
			}
			if rest[0] == '[' || strings.HasPrefix(rest, "【") {
				end, decided := f.marker(rest)
				if !decided {
					f.held = s[i:]
					break
				}
				if end > 0 && isCitation(markerBody(rest[:end])) {
					i += len(s[i:]) - len(rest)
					continue
				}
			}
		}
		if !f.started && strings.TrimSpace(out.String()) == "" {
			// Nothing shown yet: the no-answer word is never shown, and a
			// reply that starts with it is no answer whatever follows.
			if strings.HasPrefix(s[i:], noAnswer) {
				f.noAnswer = true
				f.held = ""
				return ""
			}
			if couldStart(s[i:], noAnswer) {
				f.held = s[i:]
				break
			}
		}
		if r == 'X' && couldStart(s[i:], f.canary) {
			f.held = s[i:]
			break
		}
		out.WriteString(s[i : i+size])
		i += size
	}
	return f.emit(out.String())
}

// Flush returns the held-back text at the end of the reply.
func (f *replyFilter) Flush() string {
	if f.leaked || f.noAnswer {
		return ""
	}
	s := f.held
	f.held = ""
	if strings.TrimSpace(s) == noAnswer && !f.started {
		f.noAnswer = true
		return "" // the caller replaces the whole reply
	}
	return f.emit(s)
}

func (f *replyFilter) emit(s string) string {
	if s == "" {
		return ""
	}
	if !f.started {
		s = strings.TrimLeft(s, " \n\t")
		if s == "" {
			return ""
		}
	}
	f.started = true
	f.shown.WriteString(s)
	return s
}

// Text is everything shown, trimmed: the reply's final text.
func (f *replyFilter) Text() string { return strings.TrimSpace(f.shown.String()) }

// Cited returns the reference numbers cited, in order of first citation.
func (f *replyFilter) Cited() []int { return f.cited }

// NoAnswer reports whether the model replied that it has no answer.
func (f *replyFilter) NoAnswer() bool { return f.noAnswer }

// Leaked reports whether the reply repeated the instructions.
func (f *replyFilter) Leaked() bool { return f.leaked }

// marker looks at s, which starts with '[' or '【'. It returns the length of
// a complete bracketed token (end > 0), 0 when s does not start a marker
// (the bracket is ordinary text), or decided false when more text is
// needed.
func (f *replyFilter) marker(s string) (end int, decided bool) {
	closer := "]"
	open := "["
	if strings.HasPrefix(s, "【") {
		closer, open = "】", "【"
	}
	if j := strings.Index(s, closer); j >= 0 && j <= 32 {
		body := s[len(open):j]
		if isCitation(body) || isPlaceholderBody(body) {
			return j + len(closer), true
		}
		return 0, true
	}
	if len(s) > 32 {
		return 0, true
	}
	body := s[len(open):]
	for _, r := range body {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r == '_' || r == ',' || r == ' ' || r == '，' || r == '、') {
			return 0, true
		}
	}
	return 0, false
}

// maxImageAlt bounds the alt text of a Markdown image held back while
// undecided; a longer "![..." is ordinary text.
const maxImageAlt = 1024

// imageAt looks at s, which starts with '!'. It returns the length of the
// start of a Markdown image, "![alt](" (end > 0), 0 when s does not start
// one, or decided false when more text is needed. The alt text stays on
// one line, as the widget's Markdown requires.
func imageAt(s string) (end int, decided bool) {
	if len(s) < 2 {
		return 0, false
	}
	if s[1] != '[' {
		return 0, true
	}
	// The alt text may hold brackets of its own ("![[PHONE_1]](...)").
	depth := 0
	for k := 1; k < len(s); k++ {
		switch s[k] {
		case '\n':
			return 0, true
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				switch {
				case k+1 == len(s):
					return 0, false
				case s[k+1] != '(':
					return 0, true
				}
				return k + 2, true
			}
		}
		if k > maxImageAlt {
			return 0, true
		}
	}
	return 0, false
}

// resolve turns a complete bracketed token into what is shown. inURL
// reports whether the token is part of a URL.
func (f *replyFilter) resolve(tok string, inURL func() bool) string {
	body := markerBody(tok)
	if isCitation(body) {
		for _, p := range strings.FieldsFunc(body, func(r rune) bool { return r == ',' || r == ' ' || r == '，' || r == '、' }) {
			n, _ := strconv.Atoi(p)
			if !containsInt(f.cited, n) {
				f.cited = append(f.cited, n)
			}
		}
		return ""
	}
	if inURL() {
		// The shopper's data never goes into a URL: a link the model
		// was told to write (by a planted instruction) would carry it out
		// of the conversation on a click.
		return "***"
	}
	return f.mask.Restore("[" + body + "]")
}

// markerBody is a bracketed token without its brackets.
func markerBody(tok string) string {
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(tok, "["), "【"), "]"), "】")
}

// inURL reports whether text ends inside a URL or a Markdown link target:
// its last run without white space, ')', '<', '>', '"' or '`' holds "://"
// or "](", or starts with "www.". Link targets may hold any other
// character, Chinese included.
func inURL(text string) bool {
	run := text
	if i := strings.LastIndexFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || r == ')' || r == '<' || r == '>' || r == '"' || r == '`'
	}); i >= 0 {
		_, size := utf8.DecodeRuneInString(text[i:])
		run = text[i+size:]
	}
	lower := strings.ToLower(run)
	if strings.Contains(run, "://") || strings.Contains(run, "](") || strings.HasPrefix(lower, "www.") || strings.HasPrefix(run, "//") {
		return true
	}
	for _, scheme := range []string{"mailto:", "tel:", "sms:", "javascript:", "data:"} {
		if strings.Contains(lower, scheme) {
			return true
		}
	}
	return false
}

// checkLeak adds chunk to the raw text and looks for the canary or a span
// of the instructions ending in it.
func (f *replyFilter) checkLeak(chunk string) {
	before := len(f.raw)
	for _, r := range chunk {
		if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
			if len(f.raw) > 0 && f.raw[len(f.raw)-1] == ' ' {
				continue
			}
			r = ' '
		}
		f.raw = append(f.raw, r)
	}
	if f.canary != "" && strings.Contains(string(f.raw[max(0, before-len(f.canary)):]), f.canary) {
		f.leaked = true
		return
	}
	for end := max(before, shingleLen); end <= len(f.raw); end++ {
		if w := string(f.raw[end-shingleLen : end]); f.prompt[w] && !f.allowed[w] {
			f.leaked = true
			return
		}
	}
}

func isCitation(body string) bool {
	body = strings.TrimSpace(body)
	if body == "" {
		return false
	}
	digits := 0
	for _, r := range body {
		switch {
		case r >= '0' && r <= '9':
			digits++
			if digits > 2 {
				return false
			}
		case r == ',' || r == ' ' || r == '，' || r == '、':
			digits = 0
		default:
			return false
		}
	}
	return true
}

func isPlaceholderBody(body string) bool {
	i := strings.LastIndexByte(body, '_')
	if i <= 0 || i == len(body)-1 {
		return false
	}
	for _, r := range body[:i] {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	_, err := strconv.Atoi(body[i+1:])
	return err == nil
}

// couldStart reports whether s is a non-empty prefix of word or starts
// with all of it (so it must be held back until decided).
func couldStart(s, word string) bool {
	if word == "" || s == "" {
		return false
	}
	if len(s) >= len(word) {
		return strings.HasPrefix(s, word)
	}
	return strings.HasPrefix(word, s)
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
