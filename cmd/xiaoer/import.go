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
// as a stream, so its size does not matter; a line over maxImportLine is
// reported and skipped like any bad line, and the lines after it are
// still imported.
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

	r := bufio.NewReaderSize(in, 64<<10)
	var buf []byte
	var lines, upserted, failed int
	for {
		line, tooLong, err := readLine(r, buf[:0], maxImportLine)
		if err == io.EOF && len(line) == 0 && !tooLong {
			break
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("import: line %d: %w (%d records written before it)", lines+1, err, upserted)
		}
		buf = line
		lines++
		if tooLong {
			// Reported and skipped like any bad line: the rest of the file
			// is still imported.
			failed++
			fmt.Fprintf(stdout, "line %d: longer than %d bytes, skipped\n", lines, maxImportLine)
			continue
		}
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
	fmt.Fprintf(stdout, "%d upserted, %d failed\n", upserted, failed)
	if failed > 0 {
		return fmt.Errorf("import: %d of %d records failed (the others were written; fix those lines and import them again)", failed, upserted+failed)
	}
	return nil
}

// readLine reads one line from r into buf, without its "\n" (or "\r\n").
// A line longer than max bytes is read to its end and dropped: tooLong is
// true and line empty, so one overlong line costs at most max bytes of
// memory and the next line is read as usual. err is io.EOF at the end of
// the input, with the last line when it had no final newline.
func readLine(r *bufio.Reader, buf []byte, max int) (line []byte, tooLong bool, err error) {
	for {
		frag, err := r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(frag) > max+2 { // room for "\r\n"
				tooLong, buf = true, buf[:0]
			} else {
				buf = append(buf, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if tooLong {
			return buf[:0], true, err
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		if len(buf) > max {
			return buf[:0], true, err
		}
		return buf, false, err
	}
}
