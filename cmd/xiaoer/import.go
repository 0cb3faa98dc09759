package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xiaoer-cs/xiaoer/bot/ingest"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
)

// maxImportLine is the longest JSONL line import reads (an order with
// hundreds of items and tracking events fits many times over).
const maxImportLine = 16 << 20

// runImport loads shop data from a JSONL file (docs/ingest.md): one record
// a line, {"type":"shopper|order|shipment|product", ...the record's fields}.
// It goes through the same validation and upserts as the ingestion API,
// record by record: good lines are written, bad ones reported with their
// line number, and the command fails when any line did. The file is read
// as a stream, so its size does not matter.
//
// Like the user commands it opens only the database and takes no lock, so
// it runs beside a serving xiaoer, which sees each record once it is written.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	data := dataFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{`import needs exactly one FILE.jsonl ("-" reads standard input)`}
	}
	in := stdin
	if path := fs.Arg(0); path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		in = f
	}
	dbPath := filepath.Join(*data, dbFile)
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("import: no database in %s (is --data right? `xiaoer serve --data %s` creates it): %w", *data, *data, err)
	}
	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	svc := ingest.New(store, nil)

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	var lines, upserted, failed int
	for sc.Scan() {
		lines++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		id, err := svc.PutLine(ctx, line)
		var inv *ingest.InvalidError
		switch {
		case err == nil:
			upserted++
		case errors.As(err, &inv):
			failed++
			if id != "" {
				fmt.Fprintf(stdout, "line %d (%s): %s\n", lines, id, inv.Msg)
			} else {
				fmt.Fprintf(stdout, "line %d: %s\n", lines, inv.Msg)
			}
		default:
			return fmt.Errorf("import: line %d: %w (%d records written before it)", lines, err, upserted)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("longer than %d bytes", maxImportLine)
		}
		return fmt.Errorf("import: line %d: %w (%d records written before it)", lines+1, err, upserted)
	}
	fmt.Fprintf(stdout, "%d upserted, %d failed\n", upserted, failed)
	if failed > 0 {
		return fmt.Errorf("import: %d of %d records failed (the others were written; fix those lines and import them again)", failed, upserted+failed)
	}
	return nil
}
