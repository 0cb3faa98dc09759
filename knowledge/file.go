package knowledge

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Format is an FAQ file format.
type Format string

// File formats.
//
// CSV has the header `id,locale,question,alternates,answer,category`
// (columns in any order) and optionally the columns `tags` and `disabled`;
// alternates and tags are separated by "|", and disabled is true, false, 1,
// 0, yes, no (or 是, 否) or empty for false.
//
// JSON is an array of Entry objects with alternates and tags as lists.
//
// Markdown has one entry per "## " heading: see the package's
// Markdown file format (markdown.go).
const (
	FormatCSV      Format = "csv"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "md"
)

// altSep separates alternates (and tags) in a CSV cell.
const altSep = "|"

// csvColumns are the CSV columns ReadEntries requires; csvOptional the ones
// it also accepts. WriteEntries writes both, in this order.
var (
	csvColumns  = [...]string{"id", "locale", "question", "alternates", "answer", "category"}
	csvOptional = [...]string{"tags", "disabled"}
)

// csvWant describes the CSV header for problem messages.
var csvWant = strings.Join(csvColumns[:], ",") + " (and optionally " + strings.Join(csvOptional[:], ",") + ")"

// MaxFileSize caps how much ReadEntries reads.
const MaxFileSize = 64 << 20

// FormatOf returns the format for path by its extension (.csv, .json, .md
// or .markdown, any case).
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV, nil
	case ".json":
		return FormatJSON, nil
	case ".md", ".markdown":
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("knowledge: %s: unknown FAQ file format %q (want .csv, .json or .md)", path, filepath.Ext(path))
}

// ReadOptions are the settings of ReadEntriesWith. The zero value reads as
// ReadEntries does.
type ReadOptions struct {
	// Locale is the locale of the Markdown entries that do not state one
	// with a "Locale:" line: "zh-CN" or "en" (or a spelling NormalizeLocale
	// knows), or "any" for both. Empty detects it per entry from the
	// question: Han characters make it zh-CN, anything else en. CSV and JSON
	// carry a locale in every entry and ignore it.
	Locale string
}

// ReadEntries reads, normalises (see Entry.Normalize) and validates an FAQ
// file. It is all-or-nothing: on any problem it returns a *FileError listing
// every problem with its line (CSV, Markdown) or array index, id and line
// (JSON).
func ReadEntries(r io.Reader, f Format) ([]Entry, error) {
	return ReadEntriesWith(r, f, ReadOptions{})
}

// ReadEntriesWith is ReadEntries with options. It returns an error that is
// not a *FileError when o is invalid.
func ReadEntriesWith(r io.Reader, f Format, o ReadOptions) ([]Entry, error) {
	locale, detect, err := markdownLocale(o.Locale)
	if err != nil {
		return nil, fmt.Errorf("knowledge: read entries: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("knowledge: read entries: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("knowledge: read entries: file is larger than %d bytes", MaxFileSize)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // Excel writes a BOM
	var (
		entries []Entry
		pos     []position
		ps      []Problem
	)
	switch f {
	case FormatCSV:
		entries, pos, ps = readCSV(data)
	case FormatJSON:
		entries, pos, ps = readJSON(data)
	case FormatMarkdown:
		entries, pos, ps = readMarkdown(data, locale, detect)
	default:
		return nil, fmt.Errorf("knowledge: read entries: unknown format %q", f)
	}
	entries = Normalize(entries)
	ps = append(ps, check(entries, pos)...)
	if len(ps) > 0 {
		// In file order; problems without a line (file-level) first.
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
		return nil, &FileError{Problems: ps}
	}
	return entries, nil
}

func fileProblem(format string, args ...any) Problem {
	return Problem{Index: -1, Msg: fmt.Sprintf(format, args...)}
}

func lineProblem(line int, format string, args ...any) Problem {
	return Problem{Line: line, Index: -1, Where: fmt.Sprintf("line %d", line), Msg: fmt.Sprintf(format, args...)}
}

func readCSV(data []byte) ([]Entry, []position, []Problem) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1 // checked below, so the problem carries a line
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, []Problem{fileProblem("file is empty (want the header %s)", csvWant)}
	}
	if err != nil {
		return nil, nil, []Problem{csvProblem(err)}
	}
	col := make(map[string]int, len(csvColumns)+len(csvOptional))
	var ps, unknown []Problem
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; dup {
			ps = append(ps, lineProblem(1, "header column %q appears twice", h))
			continue
		}
		if !slices.Contains(csvColumns[:], h) && !slices.Contains(csvOptional[:], h) {
			unknown = append(unknown, lineProblem(1, "header has unknown column %q (want %s)", h, csvWant))
			continue
		}
		col[h] = i
	}
	for _, c := range csvColumns {
		if _, ok := col[c]; !ok {
			ps = append(ps, lineProblem(1, "header is missing column %q (want %s)", c, csvWant))
		}
	}
	ps = append(ps, unknown...)
	if len(ps) > 0 {
		return nil, nil, ps
	}
	var (
		entries []Entry
		pos     []position
	)
	ps = eachCSVRow(cr, len(header), ps, func(line int, rec []string) string {
		get := func(c string) string {
			if i, ok := col[c]; ok {
				return rec[i]
			}
			return ""
		}
		e := Entry{
			ID:       get("id"),
			Locale:   get("locale"),
			Question: get("question"),
			Answer:   get("answer"),
			Category: get("category"),
		}
		if a := get("alternates"); strings.TrimSpace(a) != "" {
			e.Alternates = strings.Split(a, altSep)
		}
		if t := get("tags"); strings.TrimSpace(t) != "" {
			e.Tags = strings.Split(t, altSep)
		}
		var problem string
		if d, ok := parseBool(get("disabled")); ok {
			e.Disabled = d
		} else {
			problem = fmt.Sprintf("disabled is %q, want %s", get("disabled"), boolWant)
		}
		// The entry is kept even with a problem, so that its other
		// problems (and later duplicates of its id) are reported too.
		pos = append(pos, position{line: line, index: len(entries), csv: true})
		entries = append(entries, e)
		return problem
	})
	return entries, pos, ps
}

// boolWant lists the spellings parseBool accepts, for problem messages.
const boolWant = "true, false, 1, 0, yes, no, 是, 否 or empty (false)"

// parseBool reads a yes/no cell; the empty string is false. It returns false
// for anything else.
func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0", "no", "否":
		return false, true
	case "true", "1", "yes", "是":
		return true, true
	}
	return false, false
}

// eachCSVRow calls fn with the line number and fields of every non-blank
// record after the header, appending to ps a problem for each record that
// does not parse or has other than width fields, and for each non-empty
// problem fn returns. It stops after 1000 problems or at an error that is
// not a parse error.
func eachCSVRow(cr *csv.Reader, width int, ps []Problem, fn func(line int, rec []string) (problem string)) []Problem {
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return ps
		}
		if err != nil {
			var pe *csv.ParseError
			ps = append(ps, csvProblem(err))
			if !errors.As(err, &pe) || len(ps) > 1000 {
				return ps
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue // spreadsheets leave trailing empty rows
		}
		if len(rec) != width {
			ps = append(ps, lineProblem(line, "has %d fields, want %d", len(rec), width))
			continue
		}
		if p := fn(line, rec); p != "" {
			ps = append(ps, lineProblem(line, "%s", p))
		}
	}
}

func csvProblem(err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return lineProblem(pe.Line, "%v", pe.Err)
	}
	return fileProblem("%v", err)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// jsonEntry decodes an entry strictly, so a misspelt field is reported
// rather than silently dropped.
type jsonEntry Entry

func readJSON(data []byte) ([]Entry, []position, []Problem) {
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, nil, []Problem{fileProblem("file is empty (want a JSON array of entries)")}
	}
	if err != nil {
		return nil, nil, []Problem{jsonProblem(err, lineAt)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, nil, []Problem{lineProblem(1, "want a JSON array of entries")}
	}
	var (
		entries []Entry
		pos     []position
		ps      []Problem
	)
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// The decoder cannot resynchronise after a syntax error.
			return nil, nil, append(ps, jsonProblem(err, lineAt))
		}
		// InputOffset is just past the element; its start is len(raw) back.
		p := position{line: lineAt(dec.InputOffset() - int64(len(raw))), index: i}
		var e jsonEntry
		ed := json.NewDecoder(bytes.NewReader(raw))
		ed.DisallowUnknownFields()
		if err := ed.Decode(&e); err != nil {
			var id struct {
				ID any `json:"id"`
			}
			_ = json.Unmarshal(raw, &id)
			sid, _ := id.ID.(string)
			ps = append(ps, Problem{Line: p.line, Index: i, ID: sid, Where: p.label(sid), Msg: jsonMsg(err)})
			continue
		}
		entries = append(entries, Entry(e))
		pos = append(pos, p)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, append(ps, jsonProblem(err, lineAt))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, append(ps, lineProblem(lineAt(dec.InputOffset()), "unexpected data after the array"))
	}
	return entries, pos, ps
}

func jsonProblem(err error, lineAt func(int64) int) Problem {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return lineProblem(lineAt(se.Offset), "%v", se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fileProblem("JSON ends early")
	}
	return fileProblem("%v", err)
}

func jsonMsg(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, jsonKind(te.Type.String()), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "[]string":
		return "a list of strings"
	case "bool":
		return "true or false"
	case "knowledge.jsonEntry":
		return "an object"
	}
	return goType
}

// WriteEntries writes entries in format f. What it writes reads back with
// ReadEntries to the same (normalised) entries, in Markdown grouped by
// category. What a format cannot hold is an error and nothing useful is
// written: an alternate or tag containing "|" in CSV and Markdown, and in
// Markdown also an empty answer, line breaks in a question, alternate, tag
// or category, and answer lines that would read as headings or field lines
// (see markdown.go).
func WriteEntries(w io.Writer, f Format, entries []Entry) error {
	switch f {
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(append(csvColumns[:], csvOptional[:]...)); err != nil {
			return fmt.Errorf("knowledge: write entries: %w", err)
		}
		for _, e := range entries {
			for _, list := range []struct {
				name string
				vals []string
			}{{"alternate", e.Alternates}, {"tag", e.Tags}} {
				for _, v := range list.vals {
					if strings.Contains(v, altSep) {
						return fmt.Errorf("knowledge: write entries: id %q: %s %q contains %q", e.ID, list.name, v, altSep)
					}
				}
			}
			rec := []string{e.ID, e.Locale, e.Question, strings.Join(e.Alternates, altSep), e.Answer, e.Category,
				strings.Join(e.Tags, altSep), strconv.FormatBool(e.Disabled)}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("knowledge: write entries: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("knowledge: write entries: %w", err)
		}
		return nil
	case FormatJSON:
		out := make([]Entry, len(entries))
		for i, e := range entries {
			if e.Alternates == nil {
				e.Alternates = []string{} // [] rather than null
			}
			out[i] = e
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("knowledge: write entries: %w", err)
		}
		return nil
	case FormatMarkdown:
		if err := writeMarkdown(w, entries); err != nil {
			return fmt.Errorf("knowledge: write entries: %w", err)
		}
		return nil
	}
	return fmt.Errorf("knowledge: write entries: unknown format %q", f)
}
