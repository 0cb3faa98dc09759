package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestReadLine: lines come without their "\n" or "\r\n", the last one
// without a final newline too; a line over the limit is dropped whole
// (even past the reader's buffer) and the next one read as usual.
func TestReadLine(t *testing.T) {
	in := "ab\r\n\n" + strings.Repeat("x", 40) + "\n12345\n" + strings.Repeat("y", 6) + "\nlast"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	var got []string
	for {
		line, tooLong, err := readLine(r, nil, 5)
		if err == io.EOF && len(line) == 0 && !tooLong {
			break
		}
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%q/%v", line, tooLong))
	}
	want := []string{`"ab"/false`, `""/false`, `""/true`, `"12345"/false`, `""/true`, `"last"/false`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}
