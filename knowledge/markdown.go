package knowledge

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
)

// The Markdown file format (FormatMarkdown, files named *.md or *.markdown)
// is an FAQ a person can write and review in any editor:
//
//	# 售后
//
//	## 如何申请七天无理由退货？ {#ret-01}
//	同义问法：七天无理由 | 退货流程
//	标签：退货，售后
//
//	签收后 7 天内，在**订单详情**里点击“申请售后”。
//
//	## How do I return an item?
//	Alternates: return policy | send it back
//
//	Within 7 days of delivery: open the order and tap *Return*.
//
// The rules, line by line (a heading is "#" or "##" at the start of a line
// followed by a space, a tab or the end of the line):
//
//   - "## question" starts an entry. A trailing "{#some-id}" on that line is
//     its id; without one the id is "md-" and 12 hex digits of a SHA-256 of
//     the entry's locale and question, so importing the same file again
//     updates the same entries (changing the question or the locale makes a
//     new entry).
//   - The lines up to the next "#" or "##" heading are the entry's body. Its
//     answer is the body as written (Markdown, see the safe subset in
//     sanitize.go), without the field lines below, trimmed. An entry without
//     an answer is a problem.
//   - Field lines in the body set a field and are not part of the answer:
//     "Alternates: a | b" (or 同义问法：), "Tags: x, y" (or 标签：; tags are
//     separated by "|" when the line has one, else by "," "，" or "、"),
//     "Locale: en" (or 语言：; "any" for both locales) and "Disabled: true"
//     (or 停用：是; values as for CSV). The key is matched at the start of the
//     line, in any case, followed by ":" or the full-width "：". Alternates
//     and tags lines add up; a later Locale or Disabled line wins.
//   - "# category" sets the category of the entries after it; "#" alone
//     clears it. Entries before any "# " heading have no category.
//   - Any other text outside an entry (before the first "##", or between a
//     "# " heading and the next "##") is a problem. Blank lines are not.
//   - An entry without a Locale line has the locale ReadOptions.Locale, else
//     the detected one: zh-CN when the question has a Han character, else en.
//
// Deeper headings ("### ...") are answer text. Lines end in "\n", "\r\n" or
// "\r".
// Problems are reported with the line of the entry's "##" heading, or of the
// offending line, all or nothing, as for CSV.
//
// WriteEntries writes entries uncategorised first, then one "# " section
// per category in the order categories first appear; within a section the
// entries keep their order. Every "##" line carries its {#id}; a Locale line
// is written only when the locale differs from the detected one; field
// names are Chinese for zh-CN entries and English otherwise.

// mdIDPrefix starts the ids derived for Markdown entries without one.
const mdIDPrefix = "md-"

// markdownLocale reads ReadOptions.Locale: empty means detect, "any" is
// LocaleAny.
func markdownLocale(s string) (locale string, detect bool, err error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", true, nil
	case strings.EqualFold(s, "any"):
		return LocaleAny, false, nil
	}
	if l, ok := NormalizeLocale(s); ok {
		return l, false, nil
	}
	return "", false, fmt.Errorf("locale %q is not supported (want zh-CN, en, any, or empty to detect it)", s)
}

// DetectLocale returns the locale of a question for the Markdown format:
// zh-CN when it has a Han character, else en.
func DetectLocale(question string) string {
	for _, r := range question {
		if unicode.Is(unicode.Han, r) {
			return LocaleZH
		}
	}
	return LocaleEN
}

// MarkdownID returns the id the Markdown format gives an entry that has no
// {#id}: "md-" and 12 hex digits of a SHA-256 of its locale and question
// (both normalised).
func MarkdownID(locale, question string) string {
	if l, ok := NormalizeLocale(locale); ok {
		locale = l
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(locale) + "\n" + strings.TrimSpace(question)))
	return mdIDPrefix + hex.EncodeToString(sum[:6])
}

// mdHeading reports whether line is a "#" or "##" heading, and its level
// and text.
func mdHeading(line string) (level int, text string, ok bool) {
	switch {
	case strings.HasPrefix(line, "##"):
		level = 2
	case strings.HasPrefix(line, "#"):
		level = 1
	default:
		return 0, "", false
	}
	rest := line[level:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false // "###", "#hashtag"
	}
	return level, strings.TrimSpace(rest), true
}

// mdIDRe matches a trailing {#id} on a "##" line.
var mdIDRe = regexp.MustCompile(`\s*\{#([^{}]*)\}\s*$`)

// Markdown field lines.
const (
	mdAlternates = "alternates"
	mdTags       = "tags"
	mdLocale     = "locale"
	mdDisabled   = "disabled"
)

// mdFieldKeys maps the keys of field lines, lower-cased, to the field.
var mdFieldKeys = map[string]string{
	"alternates": mdAlternates, "同义问法": mdAlternates,
	"tags": mdTags, "标签": mdTags,
	"locale": mdLocale, "语言": mdLocale,
	"disabled": mdDisabled, "停用": mdDisabled,
}

var mdFieldRe = regexp.MustCompile(`^([A-Za-z]+|同义问法|标签|语言|停用)[ \t]*[:：](.*)$`)

// mdField reports whether line is a field line, and its field and value.
func mdField(line string) (field, value string, ok bool) {
	m := mdFieldRe.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	field, ok = mdFieldKeys[strings.ToLower(m[1])]
	return field, strings.TrimSpace(m[2]), ok
}

// splitTags splits the value of a Tags line.
func splitTags(v string) []string {
	if strings.Contains(v, altSep) {
		return strings.Split(v, altSep)
	}
	return strings.FieldsFunc(v, isTagComma)
}

func isTagComma(r rune) bool { return r == ',' || r == '，' || r == '、' }

// mdDraft is an entry being read.
type mdDraft struct {
	e         Entry
	line      int // of the "##" heading
	localeSet bool
	body      []string
}

// readMarkdown reads a Markdown FAQ file. Entries without a Locale line get
// locale, or the detected one when detect is set.
func readMarkdown(data []byte, locale string, detect bool) ([]Entry, []position, []Problem) {
	var (
		entries  []Entry
		pos      []position
		ps       []Problem
		category string
		cur      *mdDraft
		stray    bool // the previous line was stray text, already reported
	)
	finish := func() {
		if cur == nil {
			return
		}
		e := cur.e
		e.Answer = strings.TrimSpace(strings.Join(cur.body, "\n"))
		if e.Answer == "" {
			ps = append(ps, lineProblem(cur.line, "question %q has no answer (write it on the lines below the heading)", strings.TrimSpace(e.Question)))
		}
		switch {
		case cur.localeSet:
		case detect:
			e.Locale = DetectLocale(e.Question)
		default:
			e.Locale = locale
		}
		if e.ID == "" {
			e.ID = MarkdownID(e.Locale, e.Question)
		}
		pos = append(pos, position{line: cur.line, index: len(entries), csv: true})
		entries = append(entries, e)
		cur = nil
	}
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(data))
	for n, line := range strings.Split(text, "\n") {
		n++ // 1-based
		if level, text, ok := mdHeading(line); ok {
			finish()
			stray = false
			if level == 1 {
				category = text
				continue
			}
			cur = &mdDraft{line: n, e: Entry{Question: text, Category: category}}
			if m := mdIDRe.FindStringSubmatchIndex(text); m != nil {
				cur.e.Question = text[:m[0]]
				cur.e.ID = strings.TrimSpace(text[m[2]:m[3]])
				if cur.e.ID == "" {
					ps = append(ps, lineProblem(n, "the id in {#} is empty"))
				}
			}
			continue
		}
		if cur == nil {
			blankLine := strings.TrimSpace(line) == ""
			if !blankLine && !stray {
				ps = append(ps, lineProblem(n, "text outside an entry: start each entry with a \"## \" question heading (a \"# \" heading sets the category)"))
			}
			stray = !blankLine
			continue
		}
		field, value, ok := mdField(line)
		if !ok {
			cur.body = append(cur.body, line)
			continue
		}
		switch field {
		case mdAlternates:
			cur.e.Alternates = append(cur.e.Alternates, strings.Split(value, altSep)...)
		case mdTags:
			cur.e.Tags = append(cur.e.Tags, splitTags(value)...)
		case mdLocale:
			cur.localeSet = true
			if strings.EqualFold(value, "any") {
				cur.e.Locale = LocaleAny
			} else {
				cur.e.Locale = value // check reports an unsupported one
			}
		case mdDisabled:
			d, ok := parseBool(value)
			if !ok {
				ps = append(ps, lineProblem(n, "disabled is %q, want %s", value, boolWant))
			}
			cur.e.Disabled = d
		}
	}
	finish()
	if len(entries) == 0 && len(ps) == 0 {
		ps = append(ps, fileProblem("no entries (want a \"## \" question heading with its answer below it)"))
	}
	return entries, pos, ps
}

// writeMarkdown writes entries in the Markdown format, or returns an error
// naming the first entry the format cannot hold.
func writeMarkdown(w io.Writer, entries []Entry) error {
	var (
		order  []string // categories, uncategorised ("") first
		groups = map[string][]Entry{}
	)
	for _, e := range entries {
		if err := mdWritable(e); err != nil {
			return fmt.Errorf("id %q cannot be written as Markdown (use CSV or JSON): %w", e.ID, err)
		}
		if _, seen := groups[e.Category]; !seen && e.Category != "" {
			order = append(order, e.Category)
		}
		groups[e.Category] = append(groups[e.Category], e)
	}
	order = append([]string{""}, order...)
	bw := bufio.NewWriter(w)
	first := true
	for _, c := range order {
		if len(groups[c]) == 0 {
			continue
		}
		if c != "" {
			if !first {
				bw.WriteString("\n")
			}
			bw.WriteString("# " + c + "\n")
			first = false
		}
		for _, e := range groups[c] {
			if !first {
				bw.WriteString("\n")
			}
			first = false
			writeMarkdownEntry(bw, e)
		}
	}
	return bw.Flush()
}

func writeMarkdownEntry(w *bufio.Writer, e Entry) {
	zh := e.Locale == LocaleZH
	key := func(en, cn string) string {
		if zh {
			return cn + "："
		}
		return en + ": "
	}
	fmt.Fprintf(w, "## %s {#%s}\n", e.Question, e.ID)
	if e.Locale != DetectLocale(e.Question) {
		l := e.Locale
		if l == LocaleAny {
			l = "any"
		}
		w.WriteString(key("Locale", "语言") + l + "\n")
	}
	if len(e.Alternates) > 0 {
		w.WriteString(key("Alternates", "同义问法") + strings.Join(e.Alternates, " | ") + "\n")
	}
	if len(e.Tags) > 0 {
		sep := ", "
		if zh {
			sep = "，"
		}
		end := ""
		for _, t := range e.Tags {
			if strings.IndexFunc(t, isTagComma) >= 0 {
				sep = " | "
				if len(e.Tags) == 1 {
					end = " |" // so that "|", not the comma, separates
				}
			}
		}
		w.WriteString(key("Tags", "标签") + strings.Join(e.Tags, sep) + end + "\n")
	}
	if e.Disabled {
		if zh {
			w.WriteString(key("Disabled", "停用") + "是\n")
		} else {
			w.WriteString(key("Disabled", "停用") + "true\n")
		}
	}
	w.WriteString("\n" + e.Answer + "\n")
}

// mdWritable says why e cannot be written as Markdown and read back the
// same, or returns nil.
func mdWritable(e Entry) error {
	oneLine := func(what, v string) error {
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("%s %q has a line break", what, v)
		}
		return nil
	}
	if err := oneLine("question", e.Question); err != nil {
		return err
	}
	if err := oneLine("category", e.Category); err != nil {
		return err
	}
	if strings.ContainsAny(e.ID, "{}\r\n") {
		return errors.New("the id contains a brace or a line break")
	}
	for _, a := range e.Alternates {
		if err := oneLine("alternate", a); err != nil {
			return err
		}
		if strings.Contains(a, altSep) {
			return fmt.Errorf("alternate %q contains %q", a, altSep)
		}
	}
	for _, t := range e.Tags {
		if err := oneLine("tag", t); err != nil {
			return err
		}
		if strings.Contains(t, altSep) {
			return fmt.Errorf("tag %q contains %q", t, altSep)
		}
	}
	if strings.TrimSpace(e.Answer) == "" {
		return errors.New("the answer is empty")
	}
	if strings.Contains(e.Answer, "\r") {
		return errors.New("the answer has a carriage return")
	}
	for i, line := range strings.Split(e.Answer, "\n") {
		if _, _, ok := mdHeading(line); ok {
			return fmt.Errorf("answer line %d %q would read as a heading", i+1, line)
		}
		if _, _, ok := mdField(line); ok {
			return fmt.Errorf("answer line %d %q would read as a field line", i+1, line)
		}
	}
	return nil
}
