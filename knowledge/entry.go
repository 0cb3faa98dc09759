// Package knowledge retrieves FAQ entries for the bot: it validates and
// reads FAQ files, keeps a bleve index on disk in step with the store, and
// answers searches with a confidence that is comparable across queries.
package knowledge

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Entry is one FAQ entry.
type Entry struct {
	ID         string   `json:"id"`
	Locale     string   `json:"locale"` // "zh-CN", "en", or "" (any)
	Question   string   `json:"question"`
	Alternates []string `json:"alternates"`
	Answer     string   `json:"answer"`
	Category   string   `json:"category"`
	Tags       []string `json:"tags,omitempty"`
	// Disabled keeps the entry in the knowledge base but out of search: the
	// bot never answers with it. The zero value is enabled.
	Disabled bool `json:"disabled,omitempty"`
}

// Supported locales. An entry with an empty locale matches every locale.
const (
	LocaleAny = ""
	LocaleZH  = "zh-CN"
	LocaleEN  = "en"
)

// Limits checked by Validate.
const (
	MaxIDLen     = 128  // bytes
	MaxFieldLen  = 8000 // bytes, for question, each alternate and category
	MaxAnswerLen = 32000
	MaxTags      = 32 // tags per entry
	MaxTagLen    = 64 // bytes per tag
)

// NormalizeLocale maps the locale spellings people write ("zh", "zh_CN",
// "zh-Hans", "en-US", "EN") to "zh-CN", "en" or "". It returns false when the
// locale is not supported.
func NormalizeLocale(s string) (string, bool) {
	l := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-"))
	switch {
	case l == "" || l == "any" || l == "both" || l == "*":
		return LocaleAny, true
	case l == "zh" || l == "zh-cn" || l == "zh-sg" || l == "zh-hans" || strings.HasPrefix(l, "zh-hans-"):
		return LocaleZH, true
	case l == "en" || strings.HasPrefix(l, "en-"):
		return LocaleEN, true
	}
	return s, false
}

// TierTagPrefix starts the tag of a member-tier policy ("tier:gold"); the
// bot never gives such an entry as an answer by itself (docs/profiles.md).
const TierTagPrefix = "tier:"

// NormalizeTag trims a tag; a tier tag (TierTagPrefix in any case:
// "Tier:Gold", "TIER: gold") is also lower-cased, so the bot finds it by
// the shopper's tier whatever case the editor typed. Other tags keep
// their case.
func NormalizeTag(t string) string {
	t = strings.TrimSpace(t)
	if len(t) >= len(TierTagPrefix) && strings.EqualFold(t[:len(TierTagPrefix)], TierTagPrefix) {
		t = TierTagPrefix + strings.ToLower(strings.TrimSpace(t[len(TierTagPrefix):]))
	}
	return t
}

// lineEnds turns "\r\n" and a lone "\r" into "\n".
var lineEnds = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// Normalize returns a copy of e with whitespace trimmed, line ends made
// "\n" in the question, answer, category and alternates (so that CSV, which
// reads a quoted "\r\n" as "\n", and Markdown hold every entry the same),
// the locale normalised (when it is a known spelling), and alternates and
// tags cleaned: empty ones dropped, tier tags lower-cased (NormalizeTag),
// duplicates (and alternates copying the question) removed, order kept.
func (e Entry) Normalize() Entry {
	out := Entry{
		Disabled: e.Disabled,
		ID:       strings.TrimSpace(e.ID),
		Question: strings.TrimSpace(lineEnds.Replace(e.Question)),
		Answer:   strings.TrimSpace(lineEnds.Replace(e.Answer)),
		Category: strings.TrimSpace(lineEnds.Replace(e.Category)),
	}
	if l, ok := NormalizeLocale(e.Locale); ok {
		out.Locale = l
	} else {
		out.Locale = strings.TrimSpace(e.Locale)
	}
	tagSeen := map[string]bool{}
	for _, t := range e.Tags {
		t = NormalizeTag(t)
		if t == "" || tagSeen[t] {
			continue
		}
		tagSeen[t] = true
		out.Tags = append(out.Tags, t)
	}
	seen := map[string]bool{out.Question: true}
	for _, a := range e.Alternates {
		a = strings.TrimSpace(lineEnds.Replace(a))
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		out.Alternates = append(out.Alternates, a)
	}
	return out
}

// Normalize returns normalised copies of entries (see Entry.Normalize).
func Normalize(entries []Entry) []Entry {
	out := make([]Entry, len(entries))
	for i, e := range entries {
		out[i] = e.Normalize()
	}
	return out
}

// Problem is one thing wrong with an entry list or file.
type Problem struct {
	Line  int    // 1-based line in the file; 0 when unknown
	Index int    // 0-based position in the entry list (the JSON array index); -1 for file-level problems
	ID    string // the entry's id, when it has one
	Where string // human-readable position: "line 9" (CSV), "entry 3 (id \"x\", line 14)" (JSON)
	Msg   string
}

func (p Problem) String() string {
	if p.Where == "" {
		return p.Msg
	}
	return p.Where + ": " + p.Msg
}

// maxListedProblems caps how many problems FileError.Error spells out.
const maxListedProblems = 20

// FileError reports every problem found in an entry list or file. Reading
// and validation are all-or-nothing: when a *FileError is returned, no
// entries are.
type FileError struct {
	Problems []Problem
}

func (e *FileError) Error() string {
	var b strings.Builder
	n := len(e.Problems)
	if n == 1 {
		b.WriteString("knowledge: 1 problem: ")
	} else {
		fmt.Fprintf(&b, "knowledge: %d problems: ", n)
	}
	for i, p := range e.Problems {
		if i == maxListedProblems {
			fmt.Fprintf(&b, "; and %d more", n-maxListedProblems)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// position says where an entry came from, for problem messages.
type position struct {
	line  int  // 0 when not from a file
	index int  // position in the list
	csv   bool // label by line alone
}

func (p position) label(id string) string {
	switch {
	case p.csv:
		return fmt.Sprintf("line %d", p.line)
	case id != "" && p.line > 0:
		return fmt.Sprintf("entry %d (id %q, line %d)", p.index, id, p.line)
	case id != "":
		return fmt.Sprintf("entry %d (id %q)", p.index, id)
	case p.line > 0:
		return fmt.Sprintf("entry %d (line %d)", p.index, p.line)
	}
	return fmt.Sprintf("entry %d", p.index)
}

// short names the position in a back-reference ("first on line 3").
func (p position) short() string {
	if p.line > 0 {
		return fmt.Sprintf("line %d", p.line)
	}
	return fmt.Sprintf("entry %d", p.index)
}

// Validate checks entries after normalising them (see Normalize): every
// entry needs an id and a question, a supported locale, and ids must be
// unique. Empty answers and categories are allowed. It returns a *FileError
// listing every problem, or nil.
func Validate(entries []Entry) error {
	pos := make([]position, len(entries))
	for i := range pos {
		pos[i] = position{index: i}
	}
	if ps := check(Normalize(entries), pos); len(ps) > 0 {
		return &FileError{Problems: ps}
	}
	return nil
}

// check validates normalised entries; pos[i] locates entries[i].
func check(entries []Entry, pos []position) []Problem {
	var ps []Problem
	first := make(map[string]position, len(entries))
	for i, e := range entries {
		add := func(format string, args ...any) {
			ps = append(ps, Problem{Line: pos[i].line, Index: pos[i].index, ID: e.ID,
				Where: pos[i].label(e.ID), Msg: fmt.Sprintf(format, args...)})
		}
		switch {
		case e.ID == "":
			add("id is empty")
		case len(e.ID) > MaxIDLen:
			add("id is longer than %d bytes", MaxIDLen)
		case !utf8.ValidString(e.ID):
			add("id is not valid UTF-8")
		case strings.IndexFunc(e.ID, unicode.IsControl) >= 0:
			add("id contains a control character")
		default:
			if p, dup := first[e.ID]; dup {
				add("id %q is duplicated (first on %s)", e.ID, p.short())
			} else {
				first[e.ID] = pos[i]
			}
		}
		if _, ok := NormalizeLocale(e.Locale); !ok {
			add("locale %q is not supported (use \"zh-CN\", \"en\" or empty for any)", e.Locale)
		}
		if e.Question == "" {
			add("question is empty")
		}
		for _, f := range []struct{ name, val string }{{"question", e.Question}, {"category", e.Category}} {
			if len(f.val) > MaxFieldLen {
				add("%s is longer than %d bytes", f.name, MaxFieldLen)
			}
			if !utf8.ValidString(f.val) {
				add("%s is not valid UTF-8", f.name)
			}
		}
		if len(e.Answer) > MaxAnswerLen {
			add("answer is longer than %d bytes", MaxAnswerLen)
		}
		if !utf8.ValidString(e.Answer) {
			add("answer is not valid UTF-8")
		}
		if len(e.Tags) > MaxTags {
			add("has %d tags, at most %d are allowed", len(e.Tags), MaxTags)
		}
		for _, t := range e.Tags {
			if strings.Contains(t, altSep) {
				add("tag %q contains %q, which separates tags in CSV", t, altSep)
			}
			if len(t) > MaxTagLen {
				add("tag %q is longer than %d bytes", t, MaxTagLen)
			}
			if !utf8.ValidString(t) || strings.IndexFunc(t, unicode.IsControl) >= 0 {
				add("a tag is not valid UTF-8 text")
			}
		}
		for _, a := range e.Alternates {
			if strings.Contains(a, altSep) {
				add("alternate %q contains %q, which separates alternates in CSV", a, altSep)
			}
			if len(a) > MaxFieldLen {
				add("an alternate is longer than %d bytes", MaxFieldLen)
			}
			if !utf8.ValidString(a) {
				add("an alternate is not valid UTF-8")
			}
		}
	}
	return ps
}
