package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// FuzzReadLine splits arbitrary input as `xiaoer import` splits a JSONL
// file, with a small limit and the smallest reader buffer so that lines
// span buffers: the lines come in order, each without its "\n" and one
// "\r", the ones over the limit flagged and empty, so that line numbers in
// the report are the file's.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("ab\r\n\n"+"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n12345\nlast"), uint8(5))
	f.Add([]byte("{\"type\":\"shopper\",\"id\":\"s1\",\"lang\":\"zh\"}\r\n\r\n\r"), uint8(40))
	f.Add([]byte("\r\r\n\n\n"), uint8(0))
	f.Add([]byte("1234567\r\n12345678\r\n"), uint8(6))
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		want := bytes.Split(data, []byte("\n"))
		if len(want[len(want)-1]) == 0 {
			want = want[:len(want)-1] // a final newline ends the last line
		}
		r := bufio.NewReaderSize(bytes.NewReader(data), 16)
		var buf []byte
		for n := 0; ; n++ {
			line, tooLong, err := readLine(r, buf[:0], int(max))
			if err == io.EOF && len(line) == 0 && !tooLong {
				// A last line that is only "\r" ends the input like
				// nothing: it is blank, so no record is lost.
				if n != len(want) && !(n == len(want)-1 && bytes.Equal(want[n], []byte("\r"))) {
					t.Fatalf("%q: %d lines, want %d", data, n, len(want))
				}
				return
			}
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
			if n >= len(want) {
				t.Fatalf("%q: line %d %q past the %d lines", data, n+1, line, len(want))
			}
			w := bytes.TrimSuffix(want[n], []byte("\r"))
			switch {
			case len(w) > int(max) && (!tooLong || len(line) != 0):
				t.Fatalf("%q: line %d (%d bytes, limit %d) = %q, tooLong %v", data, n+1, len(w), max, line, tooLong)
			case len(w) <= int(max) && (tooLong || !bytes.Equal(line, w)):
				t.Fatalf("%q: line %d = %q, tooLong %v; want %q", data, n+1, line, tooLong, w)
			}
			buf = line
		}
	})
}
