package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// runKBEval measures how well the data folder's knowledge base answers
// labelled questions: hit@1, hit@3, MRR, the share of out-of-scope
// questions declined, per category, and the misses. It reads the database
// only and searches an index it builds in memory, so it works while a
// server runs and never changes anything.
func runKBEval(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("kb eval", stderr)
	data := dataFlag(fs, getenv)
	queries := fs.String("queries", "", "CSV file with the header query,expected_id (an empty expected_id: the bot should decline)")
	threshold := fs.Float64("threshold", 0, "confidence needed to answer (default: the bot's, "+fmt.Sprint(knowledge.DefaultThreshold)+")")
	locale := fs.String("locale", "", "search only this locale (zh-CN or en) and entries for any locale")
	misses := fs.Int("misses", 20, "how many misses to list (0: none, -1: all)")
	asJSON := fs.Bool("json", false, "print the whole report as JSON")
	minHit1 := fs.Float64("min-hit1", 0, "exit with status 1 when hit@1 is below this (for scripts and CI)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *queries == "" || fs.NArg() > 0 {
		return usageError{"kb eval needs --queries FILE and takes no arguments"}
	}
	in, err := os.Open(*queries)
	if err != nil {
		return fmt.Errorf("kb eval: %w", err)
	}
	qs, err := knowledge.ReadLabelledQueries(bufio.NewReader(in))
	in.Close()
	if err != nil {
		return fmt.Errorf("kb eval: %s: %w", *queries, err)
	}
	dbPath := filepath.Join(*data, dbFile)
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("kb eval: no database in %s: %w", *data, err)
	}
	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("kb eval: %w", err)
	}
	defer store.Close()
	ix, err := knowledge.OpenMemIndex(nil)
	if err != nil {
		return fmt.Errorf("kb eval: %w", err)
	}
	defer ix.Close()
	// Sync fills the memory index from the store, with the folder's synonyms.
	if err := knowledge.NewBase(store, ix, nil).Sync(ctx); err != nil {
		return fmt.Errorf("kb eval: %w", err)
	}
	live, err := ix.DocCount()
	if err != nil {
		return fmt.Errorf("kb eval: %w", err)
	}
	r := knowledge.Evaluate(ctx, ix, qs, knowledge.SearchOptions{Threshold: *threshold, Locale: *locale})
	if len(r.Errors) > 0 {
		return fmt.Errorf("kb eval: %d searches failed, the first: %s", len(r.Errors), r.Errors[0])
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printEvalReport(stdout, r, *data, live, *queries, *misses)
	}
	if *minHit1 > 0 && r.Hit1 < *minHit1 {
		return fmt.Errorf("kb eval: hit@1 %.3f is below --min-hit1 %.3f", r.Hit1, *minHit1)
	}
	return nil
}

func printEvalReport(w io.Writer, r knowledge.Report, data string, entries int, queries string, misses int) {
	fmt.Fprintf(w, "knowledge base %s: %d entries answerable\n", data, entries)
	fmt.Fprintf(w, "questions %s: %d in scope, %d out of scope; threshold %.2f\n\n", queries, r.InScope, r.OutOfScope, r.Threshold)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if r.InScope > 0 {
		fmt.Fprintf(tw, "hit@1\t%.3f\n", r.Hit1)
		fmt.Fprintf(tw, "hit@3\t%.3f\n", r.Hit3)
		fmt.Fprintf(tw, "MRR@3\t%.3f\n", r.MRR3)
		fmt.Fprintf(tw, "in-scope answered\t%.3f\t(with the right entry: %.3f)\n", r.InScopeAnswered, r.InScopeAnsweredCorrect)
	}
	if r.OutOfScope > 0 {
		fmt.Fprintf(tw, "out-of-scope declined\t%.3f\n", r.OOSDeclined)
	}
	fmt.Fprintf(tw, "answers that were right\t%.3f\n", r.AnsweredPrecision)
	tw.Flush()
	if len(r.UnknownIDs) > 0 {
		fmt.Fprintf(w, "\nexpected ids not in the knowledge base (%d): %v\n", len(r.UnknownIDs), r.UnknownIDs)
	}
	if len(r.Categories) > 1 || (len(r.Categories) == 1 && r.Categories[0].Name != "") {
		fmt.Fprintf(w, "\nper category:\n")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  category\tquestions\thit@1\thit@3\tMRR@3\tanswered")
		for _, c := range r.Categories {
			name := c.Name
			if name == "" {
				name = "(none)"
			}
			fmt.Fprintf(tw, "  %s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\n", name, c.InScope, c.Hit1, c.Hit3, c.MRR3, c.InScopeAnswered)
		}
		tw.Flush()
	}
	if misses == 0 || len(r.Misses) == 0 {
		return
	}
	fmt.Fprintf(w, "\nmisses (%d):\n", len(r.Misses))
	for i, m := range r.Misses {
		if misses > 0 && i == misses {
			fmt.Fprintf(w, "  ... and %d more (--misses -1 lists all)\n", len(r.Misses)-misses)
			break
		}
		want := m.ExpectedID
		if want == "" {
			want = "(decline)"
		}
		verdict := "declined"
		if m.Answerable {
			verdict = "answered"
		}
		got := m.GotID
		if got == "" {
			got = "(nothing)"
		}
		fmt.Fprintf(w, "  line %d: %q want %s, got %s (confidence %.2f, %s)\n", m.Line, m.Query, want, got, m.Confidence, verdict)
	}
}
