package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestFormatOf(t *testing.T) {
	tests := []struct {
		path    string
		want    Format
		wantErr bool
	}{
		{"faq.csv", FormatCSV, false},
		{"dir/FAQ.JSON", FormatJSON, false},
		{"faq.md", FormatMarkdown, false},
		{"FAQ.Markdown", FormatMarkdown, false},
		{"faq.txt", "", true},
		{"faq", "", true},
	}
	for _, tt := range tests {
		got, err := FormatOf(tt.path)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("FormatOf(%q) = %q, %v; want %q, error %v", tt.path, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestReadEntries(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		want   []Entry
		// wantProblems are substrings of the problems, in order; nil means no error.
		wantProblems []string
	}{
		{
			name:   "csv normalises",
			format: FormatCSV,
			in: "\ufeffid,locale,question,alternates,answer,category\n" +
				" ret-01 ,zh,  如何退货 ,退货流程| |退货流程|如何退货|怎么退,\"七天内\n可退\",\n" +
				"ship-01,en-US,When will it ship?,,Soon.,shipping\n" +
				",,,,,\n", // trailing empty row is skipped
			want: []Entry{
				{ID: "ret-01", Locale: "zh-CN", Question: "如何退货", Alternates: []string{"退货流程", "怎么退"}, Answer: "七天内\n可退"},
				{ID: "ship-01", Locale: "en", Question: "When will it ship?", Answer: "Soon.", Category: "shipping"},
			},
		},
		{
			name:   "csv columns in another order",
			format: FormatCSV,
			in:     "question,id,answer,category,locale,alternates\nHi?,a,Hello,,,x|y\n",
			want:   []Entry{{ID: "a", Question: "Hi?", Alternates: []string{"x", "y"}, Answer: "Hello"}},
		},
		{
			name:   "csv reports every problem with its line",
			format: FormatCSV,
			in: "id,locale,question,alternates,answer,category\n" +
				"ret-01,zh-CN,q1,,a,\n" + // line 2
				"ret-02,zh-CN,\"multi\nline\nquestion\",,a,\n" + // lines 3-5
				"ret-01,en,q3,,a,\n" + // line 6: duplicate
				"ret-03,fr,,,a,\n" + // line 7: bad locale and empty question
				"ret-04,en,q,a,\n", // line 8: too few fields
			wantProblems: []string{
				`line 6: id "ret-01" is duplicated (first on line 2)`,
				`line 7: locale "fr" is not supported`,
				`line 7: question is empty`,
				`line 8: has 5 fields, want 6`,
			},
		},
		{
			name:   "csv header missing and extra columns",
			format: FormatCSV,
			in:     "id,question,answer,category,extra\n",
			wantProblems: []string{
				`line 1: header is missing column "locale"`,
				`line 1: header is missing column "alternates"`,
				`line 1: header has unknown column "extra"`,
			},
		},
		{
			name:   "csv tags and disabled",
			format: FormatCSV,
			in: "id,locale,question,alternates,answer,category,tags,disabled\n" +
				"a,en,Q1?,,A1,,vip| gift |vip,TRUE\n" +
				"b,en,Q2?,,A2,,,\n" +
				"c,en,Q3?,,A3,,x, no \n" +
				"d,en,Q4?,,A4,,,1\n" +
				"e,zh-CN,问题？,,答案,,,是\n",
			want: []Entry{
				{ID: "a", Locale: "en", Question: "Q1?", Answer: "A1", Tags: []string{"vip", "gift"}, Disabled: true},
				{ID: "b", Locale: "en", Question: "Q2?", Answer: "A2"},
				{ID: "c", Locale: "en", Question: "Q3?", Answer: "A3", Tags: []string{"x"}},
				{ID: "d", Locale: "en", Question: "Q4?", Answer: "A4", Disabled: true},
				{ID: "e", Locale: "zh-CN", Question: "问题？", Answer: "答案", Disabled: true},
			},
		},
		{
			name:   "csv with only the tags column",
			format: FormatCSV,
			in:     "tags,id,locale,question,alternates,answer,category\nx|y,a,,Q?,,A,\n",
			want:   []Entry{{ID: "a", Question: "Q?", Answer: "A", Tags: []string{"x", "y"}}},
		},
		{
			name:   "csv bad disabled values are problems with their line",
			format: FormatCSV,
			in: "id,locale,question,alternates,answer,category,disabled\n" +
				"a,en,Q?,,A,,maybe\n" + // line 2
				"b,en,,,A,,off\n" + // line 3: bad value and empty question
				"a,en,Q?,,A,,\n", // line 4: still seen as a duplicate of line 2
			wantProblems: []string{
				`line 2: disabled is "maybe", want true, false, 1, 0, yes, no`,
				`line 3: disabled is "off"`,
				`line 3: question is empty`,
				`line 4: id "a" is duplicated (first on line 2)`,
			},
		},
		{
			name:   "csv tag problems",
			format: FormatCSV,
			in: "id,locale,question,alternates,answer,category,tags\n" +
				"a,en,Q?,,A,," + manyTags(33) + "\n",
			wantProblems: []string{`line 2: has 33 tags, at most 32`},
		},
		{
			name:         "csv header with the optional columns twice",
			format:       FormatCSV,
			in:           "id,locale,question,alternates,answer,category,tags,Tags\n",
			wantProblems: []string{`line 1: header column "tags" appears twice`},
		},
		{
			name:         "csv bad quote",
			format:       FormatCSV,
			in:           "id,locale,question,alternates,answer,category\na,,q\"x,,,\n",
			wantProblems: []string{`line 2: bare " in non-quoted-field`},
		},
		{
			name:         "empty file",
			format:       FormatCSV,
			in:           "",
			wantProblems: []string{"file is empty"},
		},
		{
			name:   "json",
			format: FormatJSON,
			in:     `[{"id":"a","locale":"zh_CN","question":"退货","alternates":["退款"," "],"answer":"可以","category":"售后"},{"id":"b","question":"Hi"}]`,
			want: []Entry{
				{ID: "a", Locale: "zh-CN", Question: "退货", Alternates: []string{"退款"}, Answer: "可以", Category: "售后"},
				{ID: "b", Question: "Hi"},
			},
		},
		{
			name:   "json reports index, id and line",
			format: FormatJSON,
			in: "[\n" +
				`{"id":"a","question":"q"},` + "\n" +
				`{"id":"b","question":""},` + "\n" +
				`{"id":"a","question":"q2"},` + "\n" +
				`{"id":"c","question":"q","alternates":"x"},` + "\n" +
				`{"id":"d","question":"q","anwser":"x"}` + "\n" +
				"]\n",
			wantProblems: []string{
				`entry 1 (id "b", line 3): question is empty`,
				`entry 2 (id "a", line 4): id "a" is duplicated (first on line 2)`,
				`entry 3 (id "c", line 5): field "alternates" must be a list of strings, not string`,
				`entry 4 (id "d", line 6): unknown field "anwser"`,
			},
		},
		{
			name:   "json tags and disabled",
			format: FormatJSON,
			in:     `[{"id":"a","question":"Q","tags":["x"," x ","y",""],"disabled":true},{"id":"b","question":"Q2","tags":[],"disabled":false}]`,
			want: []Entry{
				{ID: "a", Question: "Q", Tags: []string{"x", "y"}, Disabled: true},
				{ID: "b", Question: "Q2"},
			},
		},
		{
			name:   "json disabled must be a boolean",
			format: FormatJSON,
			in:     "[\n" + `{"id":"a","question":"Q","disabled":"yes"}` + "\n]",
			wantProblems: []string{
				`entry 0 (id "a", line 2): field "disabled" must be true or false, not string`,
			},
		},
		{
			name:         "json not an array",
			format:       FormatJSON,
			in:           `{"id":"a"}`,
			wantProblems: []string{"want a JSON array"},
		},
		{
			name:         "json syntax error",
			format:       FormatJSON,
			in:           "[\n{\"id\":\"a\",\"question\":\"q\"},\n{\"id\":}\n]",
			wantProblems: []string{"line 3: invalid character '}'"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadEntries(strings.NewReader(tt.in), tt.format)
			if tt.wantProblems == nil {
				if err != nil {
					t.Fatalf("ReadEntries: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ReadEntries:\n got %#v\nwant %#v", got, tt.want)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("ReadEntries error = %v, want a *FileError", err)
			}
			if got != nil {
				t.Errorf("ReadEntries returned %d entries with an error, want none", len(got))
			}
			if len(fe.Problems) != len(tt.wantProblems) {
				t.Fatalf("got %d problems, want %d:\n%s", len(fe.Problems), len(tt.wantProblems), fe)
			}
			for i, want := range tt.wantProblems {
				if got := fe.Problems[i].String(); !strings.Contains(got, want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got, want)
				}
			}
		})
	}
}

// manyTags returns n distinct tags separated by "|".
func manyTags(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}
	return strings.Join(tags, "|")
}

func TestFileErrorCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,locale,question,alternates,answer,category\n")
	for range 25 {
		b.WriteString("x,,,,,\n")
	}
	_, err := ReadEntries(strings.NewReader(b.String()), FormatCSV)
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v, want *FileError", err)
	}
	// 25 empty questions + 24 duplicates.
	if len(fe.Problems) != 49 {
		t.Errorf("got %d problems, want 49", len(fe.Problems))
	}
	if msg := err.Error(); !strings.Contains(msg, "; and 29 more") || strings.Count(msg, "; ") != 20 {
		t.Errorf("Error() = %q, want 20 problems and \"and 29 more\"", msg)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		want    string // substring of the error; "" for none
	}{
		{"ok", []Entry{{ID: "a", Locale: "zh", Question: "q"}, {ID: "b", Question: "q"}}, ""},
		{"empty answer and category allowed", []Entry{{ID: "a", Question: "q"}}, ""},
		{"empty id", []Entry{{Question: "q"}}, "entry 0: id is empty"},
		{"duplicate", []Entry{{ID: "a", Question: "q"}, {ID: "a", Question: "q"}}, `entry 1 (id "a"): id "a" is duplicated (first on entry 0)`},
		{"pipe in alternate", []Entry{{ID: "a", Question: "q", Alternates: []string{"x|y"}}}, `contains "|"`},
		{"bad locale", []Entry{{ID: "a", Question: "q", Locale: "zh-TW"}}, `locale "zh-TW" is not supported`},
	}
	for _, tt := range tests {
		err := Validate(tt.entries)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// roundTripEntries are normalised entries every format can hold.
var roundTripEntries = Normalize([]Entry{
	{ID: "ret-01", Locale: "zh-CN", Question: "如何申请七天无理由退货？", Alternates: []string{"七天无理由", "退货流程"}, Answer: "在订单页点击\"申请售后\"，\n选择退货。", Category: "售后", Tags: []string{"退货", "售后, 政策"}},
	{ID: "ship-01", Locale: "en", Question: "When will my order ship?", Answer: "Within 24 hours, <usually>.\n\n- **Weekdays**: same day\n- *Weekends*: Monday", Category: "shipping, delivery", Tags: []string{"shipping", "eta"}},
	{ID: "any-01", Question: "Hello, \"bot\"", Alternates: []string{"hi", "hey"}, Answer: "Hi! See [our help](https://shop.example/help).", Disabled: true},
	{ID: "ret-02", Locale: "zh-CN", Question: "Return label 怎么打印", Answer: "在订单页下载。\n### 注意\n标签仅限本单。", Category: "售后", Disabled: true},
	{ID: "en-zh", Locale: "en", Question: "你们有英文客服吗", Answer: "Yes: type *human*.", Category: "service"},
})

func TestWriteEntriesRoundTrip(t *testing.T) {
	for _, f := range []Format{FormatCSV, FormatJSON, FormatMarkdown} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteEntries(&buf, f, roundTripEntries); err != nil {
				t.Fatalf("WriteEntries: %v", err)
			}
			written := buf.String()
			got, err := ReadEntries(&buf, f)
			if err != nil {
				t.Fatalf("ReadEntries: %v\n%s", err, written)
			}
			want := roundTripEntries
			if f == FormatMarkdown {
				want = byCategory(want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %#v\nwant %#v\nfile:\n%s", got, want, written)
			}
		})
	}
}

// TestRoundTripAcrossFormats converts CSV to JSON to Markdown and back to
// CSV, and expects the same entries and the same CSV.
func TestRoundTripAcrossFormats(t *testing.T) {
	entries := byCategory(roundTripEntries) // the order Markdown keeps
	var csv1 bytes.Buffer
	if err := WriteEntries(&csv1, FormatCSV, entries); err != nil {
		t.Fatal(err)
	}
	cur := csv1.String()
	for _, step := range []struct{ from, to Format }{
		{FormatCSV, FormatJSON}, {FormatJSON, FormatMarkdown}, {FormatMarkdown, FormatCSV},
	} {
		got, err := ReadEntries(strings.NewReader(cur), step.from)
		if err != nil {
			t.Fatalf("read %s: %v\n%s", step.from, err, cur)
		}
		if !reflect.DeepEqual(got, entries) {
			t.Fatalf("read %s:\n got %#v\nwant %#v", step.from, got, entries)
		}
		var out bytes.Buffer
		if err := WriteEntries(&out, step.to, got); err != nil {
			t.Fatalf("write %s: %v", step.to, err)
		}
		cur = out.String()
	}
	if cur != csv1.String() {
		t.Errorf("CSV after CSV → JSON → Markdown → CSV:\n%s\nwant\n%s", cur, csv1.String())
	}
}

// byCategory orders entries as the Markdown writer does: uncategorised
// first, then by category in order of first appearance.
func byCategory(entries []Entry) []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Category == "" {
			out = append(out, e)
		}
	}
	done := map[string]bool{"": true}
	for _, e := range entries {
		if done[e.Category] {
			continue
		}
		done[e.Category] = true
		for _, f := range entries {
			if f.Category == e.Category {
				out = append(out, f)
			}
		}
	}
	return out
}

func TestWriteEntriesRefuses(t *testing.T) {
	ok := Entry{ID: "a", Locale: "en", Question: "Q?", Answer: "A."}
	tests := []struct {
		name   string
		format Format
		change func(*Entry)
		want   string
	}{
		{"csv pipe in alternate", FormatCSV, func(e *Entry) { e.Alternates = []string{"x|y"} }, `alternate "x|y" contains "|"`},
		{"csv pipe in tag", FormatCSV, func(e *Entry) { e.Tags = []string{"x|y"} }, `tag "x|y" contains "|"`},
		{"md pipe in tag", FormatMarkdown, func(e *Entry) { e.Tags = []string{"x|y"} }, `tag "x|y" contains "|"`},
		{"md empty answer", FormatMarkdown, func(e *Entry) { e.Answer = "" }, "the answer is empty"},
		{"md multi-line question", FormatMarkdown, func(e *Entry) { e.Question = "a\nb" }, "question \"a\\nb\" has a line break"},
		{"md brace in id", FormatMarkdown, func(e *Entry) { e.ID = "a}b" }, "brace"},
		{"md heading in answer", FormatMarkdown, func(e *Entry) { e.Answer = "x\n## y" }, `answer line 2 "## y" would read as a heading`},
		{"md field line in answer", FormatMarkdown, func(e *Entry) { e.Answer = "Tags: are on the box" }, "would read as a field line"},
		{"md carriage return", FormatMarkdown, func(e *Entry) { e.Answer = "x\r\ny" }, "carriage return"},
	}
	for _, tt := range tests {
		e := ok
		tt.change(&e)
		err := WriteEntries(io.Discard, tt.format, []Entry{ok, e})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: WriteEntries = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestReadLabelledQueries(t *testing.T) {
	qs, err := ReadLabelledQueries(strings.NewReader("query,expected_id\nwhere is my parcel,ship-1\n\nwhat is the weather,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0].ExpectedID != "ship-1" || qs[1].ExpectedID != "" || qs[1].Line != 4 {
		t.Fatalf("queries = %+v", qs)
	}
	_, err = ReadLabelledQueries(strings.NewReader("query,expected_id\n  ,ship-1\na,b,c\nok,x\n"))
	var fe *FileError
	if !errors.As(err, &fe) || len(fe.Problems) != 2 {
		t.Fatalf("err = %v, want 2 problems", err)
	}
	for i, want := range []string{"line 2: query is empty", "line 3: has 3 fields, want 2"} {
		if got := fe.Problems[i].String(); got != want {
			t.Errorf("problem %d = %q, want %q", i, got, want)
		}
	}
}

func TestNormalizeTierTags(t *testing.T) {
	e := Entry{ID: "x", Question: "q", Answer: "a", Tags: []string{"Tier:Gold", "tier:gold", " TIER: Silver ", "Promo", "tiers"}}.Normalize()
	want := []string{"tier:gold", "tier:silver", "Promo", "tiers"}
	if !slices.Equal(e.Tags, want) {
		t.Errorf("tags %q, want %q: tier tags lower-cased (and deduplicated), others as written", e.Tags, want)
	}
}
