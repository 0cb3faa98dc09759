package knowledge

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The FAQ file readers take files an editor uploads in the admin console,
// so they are fuzzed: `go test -run='^$' -fuzz='^FuzzReadCSV$' ./knowledge`
// (likewise FuzzReadJSON, FuzzReadMarkdown). The seed corpora are in
// testdata/fuzz and run with the ordinary tests.

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"id,locale,question,alternates,answer,category\nret-01,zh-CN,如何退货？,七天无理由|退货流程,签收后 7 天内可申请。,售后\n",
		"\ufeffid,locale,question,alternates,answer,category,tags,disabled\r\nship-1,en,When does it ship?,shipping time,\"Within 48 hours, \"\"usually\"\" sooner.\",Shipping,a|b,yes\r\n",
		"Category,Answer,Question,Locale,ID,Alternates\n售后,\"第一行\n第二行\",怎么退款,zh,r2,\n,,,,,\n",
		"id,locale,question,alternates,answer,category\nx,fr,q,,a,c\nx,en,,,a,c\ny,en,q\n",
		"id,locale,question,alternates,answer,category\n\"unterminated,en,q,,a,c\n",
		"id,id,question\n",
		"",
		"id,locale,question,alternates,answer,category\nz,en,\xff\xfe,,a,c\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, FormatCSV, data) })
}

func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{
		`[{"id":"ret-01","locale":"zh-CN","question":"如何退货？","alternates":["七天无理由"],"answer":"签收后 7 天内可申请。","category":"售后","tags":["退货"]}]`,
		"\ufeff[\r\n  {\"id\": \"a\", \"locale\": \"en\", \"question\": \"Q\", \"alternates\": [], \"answer\": \"line 1\\r\\nline 2\", \"category\": \"\", \"disabled\": true}\r\n]",
		`[{"id":"a","question":"q","answr":"typo"},{"id":1,"question":"q"},{"id":"a","question":"q"}]`,
		`[{"id":"a","question":"q"}] trailing`,
		`[{"id":"a","question":"q"`,
		`{"id":"a"}`,
		`[` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `]`,
		`[{"id":"a\u0000b","question":"\ud800","answer":"x"}]`,
		``,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, FormatJSON, data) })
}

func FuzzReadMarkdown(f *testing.F) {
	for _, s := range []string{
		"# 售后\n\n## 如何申请七天无理由退货？ {#ret-01}\n同义问法：七天无理由 | 退货流程\n标签：退货，售后\n\n签收后 7 天内，在**订单详情**里点击“申请售后”。\n",
		"\ufeff## How do I return an item?\r\nAlternates: return policy | send it back\r\nLocale: any\r\n\r\nWithin 7 days.\r\n",
		"stray text\n## q {#}\n\n# c\nmore stray\n## no answer\nDisabled: maybe\n",
		"## q {#a}\nx\n## q {#a}\ny\n",
		"## Q\r### not a heading\r#hashtag\rA",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, FormatMarkdown, data) })
}

// checkRead reads data as an FAQ file of format f and checks what any
// reader must guarantee: either valid, normalised entries that every
// format writes and reads back the same, or a *FileError whose problems
// each have a message and a line within the file.
func checkRead(t *testing.T, f Format, data []byte) {
	t.Helper()
	entries, err := ReadEntries(bytes.NewReader(data), f)
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("ReadEntries: %v is not a *FileError", err)
		}
		if entries != nil {
			t.Fatalf("ReadEntries returned %d entries with an error", len(entries))
		}
		if len(fe.Problems) == 0 {
			t.Fatal("a *FileError without problems")
		}
		// A line is ended by "\n" (or "\r" in Markdown), so the file has at
		// most one line more than it has of those.
		lines := 1 + bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r"))
		for _, p := range fe.Problems {
			if p.Msg == "" {
				t.Errorf("problem without a message: %+v", p)
			}
			if p.Line < 0 || p.Line > lines {
				t.Errorf("problem on line %d of a file of %d lines: %+v", p.Line, lines, p)
			}
			if p.Line > 0 && p.Where == "" {
				t.Errorf("problem with a line but no Where: %+v", p)
			}
			if p.Index < -1 {
				t.Errorf("problem with index %d: %+v", p.Index, p)
			}
		}
		return
	}
	if err := Validate(entries); err != nil {
		t.Fatalf("ReadEntries returned entries that do not validate: %v", err)
	}
	if norm := Normalize(entries); !reflect.DeepEqual(norm, entries) {
		t.Fatalf("ReadEntries returned entries that are not normalised:\n got %#v\nnorm %#v", entries, norm)
	}
	if len(entries) == 0 {
		return // a CSV header alone; no format writes an empty file that reads
	}
	for _, to := range []Format{FormatCSV, FormatJSON, FormatMarkdown} {
		var buf bytes.Buffer
		if err := WriteEntries(&buf, to, entries); err != nil {
			if to == FormatMarkdown {
				continue // Markdown cannot hold every entry (see WriteEntries)
			}
			t.Fatalf("WriteEntries(%s) of entries read from %s: %v", to, f, err)
		}
		again, err := ReadEntries(bytes.NewReader(buf.Bytes()), to)
		if err != nil {
			t.Fatalf("what WriteEntries(%s) wrote does not read: %v\n%s", to, err, buf.Bytes())
		}
		want := entries
		if to == FormatMarkdown {
			want = byCategory(entries)
		}
		if !reflect.DeepEqual(again, want) {
			t.Fatalf("%s to %s round trip:\n got %#v\nwant %#v\nfile:\n%s", f, to, again, want, buf.Bytes())
		}
	}
}
