package knowledge

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestReadMarkdown(t *testing.T) {
	tests := []struct {
		name   string
		locale string // ReadOptions.Locale
		in     string
		want   []Entry
		// wantProblems are substrings of the problems, in order; nil means no error.
		wantProblems []string
	}{
		{
			name: "categories, ids, field lines and detected locales",
			in: "# 售后\n" +
				"\n" +
				"## 如何申请七天无理由退货？ {#ret-01}\n" +
				"同义问法：七天无理由 | 退货流程\n" +
				"标签：退货，售后、政策\n" +
				"\n" +
				"签收后 7 天内，在**订单详情**里点击“申请售后”。\n" +
				"\n" +
				"- 保持包装完好\n" +
				"- 附上赠品\n" +
				"\n" +
				"## How do I return an item?\n" +
				"alternates : return policy|send it back\n" +
				"TAGS: returns\n" +
				"Within 7 days of delivery: open the order and tap *Return*.\n" +
				"### Note\n" +
				"Gift cards cannot be returned.\n" +
				"Alternates: money back\n" + // field lines count anywhere in the body
				"\n" +
				"#\n" + // clears the category
				"## 发票 {# inv-1 }\n" +
				"语言: en\n" +
				"停用：是\n" +
				"电子发票。\n",
			want: []Entry{
				{ID: "ret-01", Locale: "zh-CN", Question: "如何申请七天无理由退货？", Alternates: []string{"七天无理由", "退货流程"},
					Answer:   "签收后 7 天内，在**订单详情**里点击“申请售后”。\n\n- 保持包装完好\n- 附上赠品",
					Category: "售后", Tags: []string{"退货", "售后", "政策"}},
				{ID: MarkdownID("en", "How do I return an item?"), Locale: "en", Question: "How do I return an item?",
					Alternates: []string{"return policy", "send it back", "money back"},
					Answer:     "Within 7 days of delivery: open the order and tap *Return*.\n### Note\nGift cards cannot be returned.",
					Category:   "售后", Tags: []string{"returns"}},
				{ID: "inv-1", Locale: "en", Question: "发票", Answer: "电子发票。", Disabled: true},
			},
		},
		{
			name:   "the locale option applies where no Locale line says otherwise",
			locale: "zh",
			in:     "## Where is my parcel?\nIt is on its way.\n\n## Hi\nLocale: any\nHello.\n",
			want: []Entry{
				{ID: MarkdownID("zh-CN", "Where is my parcel?"), Locale: "zh-CN", Question: "Where is my parcel?", Answer: "It is on its way."},
				{ID: MarkdownID("", "Hi"), Question: "Hi", Answer: "Hello."},
			},
		},
		{
			name:   "locale any",
			locale: "ANY",
			in:     "## 你好\n您好！\n",
			want:   []Entry{{ID: MarkdownID("", "你好"), Question: "你好", Answer: "您好！"}},
		},
		{
			name: "CRLF line ends and a BOM",
			in:   "\ufeff# Shipping\r\n\r\n## When will it ship? {#s1}\r\nTags: a | b, c\r\n\r\nToday.\r\nOr tomorrow.\r\n",
			want: []Entry{{ID: "s1", Locale: "en", Question: "When will it ship?", Answer: "Today.\nOr tomorrow.", Category: "Shipping", Tags: []string{"a", "b, c"}}},
		},
		{
			name: "lone CR line ends",
			in:   "## Q {#q}\rA\r\r## R {#r}\rB",
			want: []Entry{{ID: "q", Locale: "en", Question: "Q", Answer: "A"}, {ID: "r", Locale: "en", Question: "R", Answer: "B"}},
		},
		{
			name: "hashtags and deeper headings are not entries",
			in:   "## Q {#q}\n#hashtag\n####\n",
			want: []Entry{{ID: "q", Locale: "en", Question: "Q", Answer: "#hashtag\n####"}},
		},
		{
			name: "every problem with its line",
			in: "Welcome to our FAQ.\n" + // 1: stray text
				"It has answers.\n" + // 2: same stray block, reported once
				"\n" +
				"# Orders\n" + // 4
				"Orders and shipping.\n" + // 5: stray text after a category heading
				"## Where is my order? {#o1}\n" + // 6
				"Disabled: sometimes\n" + // 7
				"See My Orders.\n" +
				"## Empty one\n" + // 9: no answer
				"Tags: x\n" +
				"\n" +
				"## Where is my order?\n" + // 12
				"Here.\n" +
				"## Where is my order?\n" + // 14: same question and locale: same derived id
				"There.\n" +
				"## Again {#o1}\n" + // 16: duplicate explicit id
				"x\n" +
				"## {#}\n" + // 18: empty id and empty question
				"y\n" +
				"## Bad locale\n" + // 20
				"Locale: fr\n" +
				"z\n",
			wantProblems: []string{
				"line 1: text outside an entry",
				"line 5: text outside an entry",
				`line 7: disabled is "sometimes"`,
				`line 9: question "Empty one" has no answer`,
				`line 14: id "` + MarkdownID("en", "Where is my order?") + `" is duplicated (first on line 12)`,
				`line 16: id "o1" is duplicated (first on line 6)`,
				"line 18: the id in {#} is empty",
				"line 18: question is empty",
				`line 20: locale "fr" is not supported`,
			},
		},
		{
			name:         "a heading with no body at the end",
			in:           "## Q1\nA1\n## Q2\n",
			wantProblems: []string{`line 3: question "Q2" has no answer`},
		},
		{
			name:         "empty file",
			in:           "\n\n",
			wantProblems: []string{"no entries"},
		},
		{
			name:         "categories only",
			in:           "# A\n\n# B\n",
			wantProblems: []string{"no entries"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadEntriesWith(strings.NewReader(tt.in), FormatMarkdown, ReadOptions{Locale: tt.locale})
			if tt.wantProblems == nil {
				if err != nil {
					t.Fatalf("ReadEntriesWith: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ReadEntriesWith:\n got %#v\nwant %#v", got, tt.want)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("ReadEntriesWith error = %v, want a *FileError", err)
			}
			if got != nil {
				t.Errorf("ReadEntriesWith returned %d entries with an error, want none", len(got))
			}
			if len(fe.Problems) != len(tt.wantProblems) {
				t.Fatalf("got %d problems, want %d:\n%s", len(fe.Problems), len(tt.wantProblems), strings.ReplaceAll(fe.Error(), "; ", "\n"))
			}
			for i, want := range tt.wantProblems {
				if got := fe.Problems[i].String(); !strings.Contains(got, want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got, want)
				}
			}
		})
	}
}

func TestReadEntriesWithBadLocale(t *testing.T) {
	_, err := ReadEntriesWith(strings.NewReader("## Q\nA\n"), FormatMarkdown, ReadOptions{Locale: "fr"})
	var fe *FileError
	if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), `locale "fr" is not supported`) {
		t.Errorf("ReadEntriesWith with locale fr = %v, want a plain error about the locale", err)
	}
}

// TestMarkdownIDsAreStable checks that importing the same file twice gives
// the same ids, and that the id follows the question and the locale, not
// the answer or the category.
func TestMarkdownIDsAreStable(t *testing.T) {
	read := func(in, locale string) string {
		t.Helper()
		es, err := ReadEntriesWith(strings.NewReader(in), FormatMarkdown, ReadOptions{Locale: locale})
		if err != nil {
			t.Fatal(err)
		}
		return es[0].ID
	}
	id := read("## 怎么退货\n七天内可退。\n", "")
	if !strings.HasPrefix(id, "md-") || len(id) != len("md-")+12 {
		t.Errorf("derived id = %q, want md- and 12 hex digits", id)
	}
	if again := read("# 售后\n## 怎么退货\n三十天内可退。\n", ""); again != id {
		t.Errorf("another answer and category changed the id: %q, want %q", again, id)
	}
	if zh := read("## 怎么退货\n七天内可退。\n", "zh-CN"); zh != id {
		t.Errorf("the detected and the given locale zh-CN give different ids: %q and %q", id, zh)
	}
	if other := read("## 怎么退货？\n七天内可退。\n", ""); other == id {
		t.Error("another question kept the id")
	}
	if en := read("## 怎么退货\n七天内可退。\n", "en"); en == id {
		t.Error("another locale kept the id")
	}
}

func TestDetectLocale(t *testing.T) {
	for q, want := range map[string]string{
		"怎么退货":                     LocaleZH,
		"iPhone 15 保修多久":           LocaleZH,
		"How do I return an item?": LocaleEN,
		"":                         LocaleEN,
		"１２３？":                     LocaleEN, // full-width digits are not Han
	} {
		if got := DetectLocale(q); got != want {
			t.Errorf("DetectLocale(%q) = %q, want %q", q, got, want)
		}
	}
}

// FuzzMarkdownRoundTrip checks that whatever a Markdown file reads to, the
// writer writes back to the same entries (in category order).
func FuzzMarkdownRoundTrip(f *testing.F) {
	for _, s := range []string{
		"# 售后\n\n## 如何退货？ {#ret-01}\n同义问法：七天无理由 | 退货流程\n标签：退货，售后\n\n七天内可退。\n",
		"## Q\nTags: a | b, c\nLocale: any\nDisabled: yes\nA\n### x\n#tag\n\n# C\n## Q2 {#q}\n\nB\n",
		"## q {#a} {#b}\nx\n#\n## r\n语言：en\ny\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ReadEntries(strings.NewReader(in), FormatMarkdown)
		if err != nil {
			return
		}
		var buf strings.Builder
		if err := WriteEntries(&buf, FormatMarkdown, entries); err != nil {
			// An indented first answer line that trimming makes a heading
			// (" #") or a field line reads but does not write.
			if strings.Contains(err.Error(), "answer line 1 ") {
				return
			}
			t.Fatalf("WriteEntries of entries read from Markdown: %v\n%q", err, in)
		}
		again, err := ReadEntries(strings.NewReader(buf.String()), FormatMarkdown)
		if err != nil {
			t.Fatalf("what WriteEntries wrote does not read: %v\n%s", err, buf.String())
		}
		if want := byCategory(entries); !reflect.DeepEqual(again, want) {
			t.Fatalf("round trip:\n got %#v\nwant %#v\nfile:\n%s", again, want, buf.String())
		}
	})
}
