package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// runKBImport loads FAQ entries from a file into the data folder, all or
// nothing: the file is read and validated whole before anything is written.
func runKBImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("kb import", stderr)
	data := dataFlag(fs, getenv)
	replace := fs.Bool("replace", false, "delete every existing entry the file does not contain (softly: restorable from the admin page)")
	dryRun := fs.Bool("dry-run", false, "check the file and the saved regression set, say what would change, write nothing")
	force := fs.Bool("force", false, "import even if the saved regression set gets worse")
	by := fs.String("by", "cli", "who imports, recorded in each entry's history")
	format := fs.String("format", "", "csv, json or md (default: by the file's extension)")
	locale := fs.String("locale", "", "for Markdown: the locale of entries without a Locale line, zh-CN, en or any (default: detected per entry)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"kb import needs exactly one FILE (.csv, .json or .md)"}
	}
	path := fs.Arg(0)
	f, err := fileFormat(path, *format)
	if err != nil {
		return err
	}
	if *locale != "" {
		if f != knowledge.FormatMarkdown {
			return usageError{"--locale is for Markdown files: CSV and JSON give every entry's locale"}
		}
		if _, ok := knowledge.NormalizeLocale(*locale); !ok && !strings.EqualFold(*locale, "any") {
			return usageError{fmt.Sprintf("unknown locale %q: want zh-CN, en or any", *locale)}
		}
	}
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("kb import: %w", err)
	}
	defer in.Close()
	entries, err := knowledge.ReadEntriesWith(bufio.NewReader(in), f, knowledge.ReadOptions{Locale: *locale})
	if err != nil {
		return fmt.Errorf("kb import: %s: nothing was imported: %w", path, err)
	}
	log, err := newLogger(stderr, "text", "warn")
	if err != nil {
		return err
	}
	d, err := openData(ctx, *data, log)
	if err != nil {
		return fmt.Errorf("kb import: %w", err)
	}
	defer d.Close()
	rep, err := d.kb.Import(ctx, entries, knowledge.ImportOptions{Replace: *replace, By: *by, DryRun: *dryRun, SkipRegression: *force})
	if re, ok := knowledge.IsRegression(err); ok {
		fmt.Fprintf(stderr, "the saved regression set gets worse: hit@1 %.3f -> %.3f, out-of-scope declined %.3f -> %.3f\n",
			re.Before.Hit1, re.After.Hit1, re.Before.OOSDeclined, re.After.OOSDeclined)
		for _, f := range re.NewFailures {
			want := f.Case.ExpectedID
			if want == "" {
				want = "(decline)"
			}
			fmt.Fprintf(stderr, "  %q: want %s, got %q (confidence %.2f)\n", f.Case.Query, want, f.GotID, f.Confidence)
		}
		return fmt.Errorf("kb import: %s: nothing was imported: the regression set gets worse (fix the file or the set, or pass --force)", path)
	}
	if err != nil {
		return fmt.Errorf("kb import: %w", err)
	}
	all, err := d.kb.Entries(ctx)
	if err != nil {
		return fmt.Errorf("kb import: %w", err)
	}
	verb := "imported"
	if *dryRun {
		verb = "dry run: would import"
	}
	fmt.Fprintf(stdout, "%s %d entries from %s into %s: %d created, %d updated, %d unchanged, %d deleted; the knowledge base has %d entries\n",
		verb, len(entries), path, *data, rep.Created, rep.Updated, rep.Unchanged, rep.Deleted, len(all))
	for _, f := range rep.Flagged {
		for _, fl := range f.Flags {
			fmt.Fprintf(stderr, "check %s: %s\n", f.ID, fl)
		}
	}
	if rep.After != nil {
		fmt.Fprintf(stdout, "regression set: %d cases, hit@1 %.3f -> %.3f, out-of-scope declined %.3f -> %.3f\n",
			rep.After.Cases, rep.Before.Hit1, rep.After.Hit1, rep.Before.OOSDeclined, rep.After.OOSDeclined)
	}
	return nil
}

// runKBExport writes the data folder's FAQ entries as CSV, JSON or Markdown. It reads
// the database only, so it works while a server is running.
func runKBExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("kb export", stderr)
	data := dataFlag(fs, getenv)
	format := fs.String("format", "", "csv, json or md (default: by --out's extension, else csv)")
	out := fs.String("out", "", "file to write (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"kb export takes no arguments; use --out FILE"}
	}
	f := knowledge.FormatCSV
	if *format != "" || *out != "" {
		var err error
		if f, err = fileFormat(*out, *format); err != nil {
			return err
		}
	}
	dbPath := filepath.Join(*data, dbFile)
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("kb export: no database in %s: %w", *data, err)
	}
	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("kb export: %w", err)
	}
	defer store.Close()
	entries, _, err := store.Entries(ctx)
	if err != nil {
		return fmt.Errorf("kb export: %w", err)
	}
	w := stdout
	var file *os.File
	if *out != "" {
		file, err = os.Create(*out)
		if err != nil {
			return fmt.Errorf("kb export: %w", err)
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriter(w)
	if err := knowledge.WriteEntries(bw, f, entries); err != nil {
		return fmt.Errorf("kb export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("kb export: %w", err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("kb export: %w", err)
		}
		fmt.Fprintf(stderr, "exported %d entries to %s\n", len(entries), *out)
	}
	return nil
}

// fileFormat picks the format from an explicit flag or the file's extension.
func fileFormat(path, explicit string) (knowledge.Format, error) {
	if explicit == "" {
		f, err := knowledge.FormatOf(path)
		if err != nil {
			return "", usageError{err.Error() + "; or pass --format csv|json|md"}
		}
		return f, nil
	}
	f, err := knowledge.ParseFormat(explicit)
	if err != nil {
		return "", usageError{err.Error()}
	}
	return f, nil
}
