package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
)

// TestReviewImportGoesOnAfterAnOverlongLine: docs/ingest.md says "a bad
// line is reported with its number and id, and the others are still
// written", and the issue asks that bad input loses nothing. A line over
// 16 MiB (a corrupt export: a missing newline glues records together, or
// a runaway field) makes bufio.Scanner stop (import.go:84), so import
// ends there and every record after that line is silently not imported
// (the message says how many were written before, not that the rest of
// the file was skipped).
//
// What a user notices: after a nightly sync with one broken line, all the
// orders further down the file are missing from the chat.
func TestReviewImportGoesOnAfterAnOverlongLine(t *testing.T) {
	dir := t.TempDir()
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	huge := `{"type":"product","sku":"SKU-BIG","name_zh":"` + strings.Repeat("x", maxImportLine+1) + `","price_cents":1}`
	lines := []string{
		`{"type":"product","sku":"SKU-1","name_zh":"保温杯","price_cents":12900}`,
		huge,
		`{"type":"product","sku":"SKU-2","name_zh":"跑鞋","price_cents":39900}`,
	}
	file := filepath.Join(t.TempDir(), "shop.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, importErr := xiaoer(t, "import", "--data", dir, file)
	if importErr == nil {
		t.Errorf("import with an overlong line succeeded:\n%s", out)
	}
	store, err = sqlite.Open(context.Background(), filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	products, err := store.Products(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var skus []string
	for _, p := range products {
		skus = append(skus, p.SKU)
	}
	if strings.Join(skus, ",") != "SKU-1,SKU-2" {
		t.Errorf("after a file whose line 2 is over %d bytes, the catalog holds %v, want SKU-1 and SKU-2 (line 3 was lost; import said: %v)", maxImportLine, skus, importErr)
	}
}
