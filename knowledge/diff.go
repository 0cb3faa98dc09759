package knowledge

import (
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// FieldDiff is how one field differs between two versions of an entry.
type FieldDiff struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
	// Ops spell a text field's change word by word (character by character
	// for Chinese): kept, removed and added runs in order.
	Ops []DiffOp `json:"ops,omitempty"`
	// Removed and Added list what a list field (alternates, tags) lost and gained.
	Removed []string `json:"removed,omitempty"`
	Added   []string `json:"added,omitempty"`
}

// DiffOp is a run of text kept ("="), removed ("-") or added ("+").
type DiffOp struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// maxDiffCells bounds the work of a word diff (tokens of old × tokens of
// new); past it the field is shown as removed and added whole.
const maxDiffCells = 4_000_000

// Diff returns the fields that differ from a to b, in a fixed order:
// question, alternates, answer, category, tags, locale, disabled.
func Diff(a, b Entry) []FieldDiff {
	var out []FieldDiff
	text := func(field, x, y string) {
		if x != y {
			out = append(out, FieldDiff{Field: field, Old: x, New: y, Ops: diffText(x, y)})
		}
	}
	list := func(field string, x, y []string) {
		d := FieldDiff{Field: field}
		for _, v := range x {
			if !slices.Contains(y, v) {
				d.Removed = append(d.Removed, v)
			}
		}
		for _, v := range y {
			if !slices.Contains(x, v) {
				d.Added = append(d.Added, v)
			}
		}
		if len(d.Removed)+len(d.Added) > 0 {
			out = append(out, d)
		} else if !slices.Equal(x, y) {
			d.Old, d.New = "(order)", "(order changed)"
			out = append(out, d)
		}
	}
	text("question", a.Question, b.Question)
	list("alternates", a.Alternates, b.Alternates)
	text("answer", a.Answer, b.Answer)
	text("category", a.Category, b.Category)
	list("tags", a.Tags, b.Tags)
	if a.Locale != b.Locale {
		out = append(out, FieldDiff{Field: "locale", Old: a.Locale, New: b.Locale})
	}
	if a.Disabled != b.Disabled {
		out = append(out, FieldDiff{Field: "disabled", Old: strconv.FormatBool(a.Disabled), New: strconv.FormatBool(b.Disabled)})
	}
	return out
}

// diffText diffs two texts by words (a Han character is a word of its own;
// spaces and punctuation are words too), merging adjacent runs of the same kind.
func diffText(a, b string) []DiffOp {
	x, y := diffTokens(a), diffTokens(b)
	var ops []DiffOp
	add := func(op, s string) {
		if n := len(ops); n > 0 && ops[n-1].Op == op {
			ops[n-1].Text += s
			return
		}
		ops = append(ops, DiffOp{Op: op, Text: s})
	}
	if len(x)*len(y) > maxDiffCells {
		if a != "" {
			add("-", a)
		}
		if b != "" {
			add("+", b)
		}
		return ops
	}
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int32, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i] == y[j]:
			add("=", x[i])
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			add("-", x[i])
			i++
		default:
			add("+", y[j])
			j++
		}
	}
	for ; i < len(x); i++ {
		add("-", x[i])
	}
	for ; j < len(y); j++ {
		add("+", y[j])
	}
	return ops
}

// diffTokens splits s into words: runs of letters and digits (Latin and
// the like), single Han characters, and single other characters.
func diffTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		j := i + size
		if (unicode.IsLetter(r) || unicode.IsDigit(r)) && !unicode.Is(unicode.Han, r) {
			for j < len(s) {
				r2, s2 := utf8.DecodeRuneInString(s[j:])
				if !(unicode.IsLetter(r2) || unicode.IsDigit(r2)) || unicode.Is(unicode.Han, r2) {
					break
				}
				j += s2
			}
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}
