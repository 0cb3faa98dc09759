package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKBMarkdown imports a Markdown FAQ, imports it again (the same entries,
// not new ones), exports it as Markdown and imports that elsewhere.
func TestKBMarkdown(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	md := write("faq.md", "# 服务\n\n"+
		"## 可以礼品包装吗\n同义问法：能包装成礼物吗 | 有礼盒包装吗\n\n可以，结算时勾选**礼品包装**，收费10元。\n\n"+
		"## Do you offer gift wrapping? {#gift-wrap}\nAlternates: gift wrap available?\n\nYes: choose *gift wrap* at checkout.\n")
	for range 2 {
		out, errOut, err := xiaoer(t, "kb", "import", "--data", dir, md)
		if err != nil || !strings.Contains(out, "imported 2 entries") || !strings.Contains(out, "the knowledge base has 2 entries") {
			t.Fatalf("import: %q %s %v", out, errOut, err)
		}
	}

	exported, _, err := xiaoer(t, "kb", "export", "--data", dir, "--format", "md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# 服务\n", "## Do you offer gift wrapping? {#gift-wrap}\n", "## 可以礼品包装吗 {#md-", "**礼品包装**"} {
		if !strings.Contains(exported, want) {
			t.Errorf("Markdown export does not contain %q:\n%s", want, exported)
		}
	}
	other := t.TempDir()
	if _, errOut, err := xiaoer(t, "kb", "import", "--data", other, write("export.markdown", exported)); err != nil {
		t.Fatalf("re-import of the Markdown export: %v\n%s", err, errOut)
	}
	a, _, _ := xiaoer(t, "kb", "export", "--data", dir, "--format", "json")
	b, _, _ := xiaoer(t, "kb", "export", "--data", other, "--format", "json")
	if a != b {
		t.Errorf("the Markdown export imported elsewhere differs:\n%s\nwant\n%s", b, a)
	}
	var entries []struct{ ID, Locale string }
	if err := json.Unmarshal([]byte(a), &entries); err != nil || len(entries) != 2 {
		t.Fatalf("export: %v\n%s", err, a)
	}

	// --locale: every entry without a Locale line gets it.
	en := t.TempDir()
	if _, errOut, err := xiaoer(t, "kb", "import", "--data", en, "--locale", "en", md); err != nil {
		t.Fatalf("import --locale en: %v\n%s", err, errOut)
	}
	out, _, _ := xiaoer(t, "kb", "export", "--data", en, "--format", "json")
	if strings.Count(out, `"locale": "en"`) != 2 {
		t.Errorf("import --locale en gave:\n%s", out)
	}

	bad := write("bad.md", "Intro text.\n\n## Q1\n\n## Q2 {#x}\nA.\n## Q3 {#x}\nB.\n")
	_, _, err = xiaoer(t, "kb", "import", "--data", dir, "--replace", bad)
	if err == nil {
		t.Fatal("a Markdown file with problems was imported")
	}
	for _, want := range []string{"nothing was imported", "line 1: text outside an entry", `line 3: question "Q1" has no answer`, `line 7: id "x" is duplicated (first on line 5)`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("import error %q does not mention %q", err, want)
		}
	}
	if after, _, _ := xiaoer(t, "kb", "export", "--data", dir, "--format", "json"); after != a {
		t.Error("a refused import changed the knowledge base")
	}

	for _, args := range [][]string{
		{"kb", "import", "--data", dir, "--locale", "fr", md},
		{"kb", "import", "--data", dir, "--locale", "en", write("faq.csv", "id,locale,question,alternates,answer,category\n")},
		{"kb", "export", "--data", dir, "--format", "yaml"},
	} {
		if _, _, err := xiaoer(t, args...); exitCode(err) != 2 {
			t.Errorf("xiaoer %q: err %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
}

// TestKBCSVOptionalColumns checks that the export's CSV header has the
// optional columns and that a file with them imports.
func TestKBCSVOptionalColumns(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(t.TempDir(), "faq.csv")
	body := "id,locale,question,alternates,answer,category,tags,disabled\n" +
		"a,en,Do you ship abroad?,,Not yet.,shipping,intl|shipping,no\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := xiaoer(t, "kb", "import", "--data", dir, p); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	out, _, err := xiaoer(t, "kb", "export", "--data", dir)
	if err != nil || !strings.HasPrefix(out, "id,locale,question,alternates,answer,category,tags,disabled\n") {
		t.Errorf("export: %v\n%s", err, out)
	}
}
