package knowledge

import (
	"fmt"
	"strings"
)

// ParseFormat reads a format name as people write it: csv, json, md or
// markdown (any case); "" means CSV.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "csv":
		return FormatCSV, nil
	case "json":
		return FormatJSON, nil
	case "md", "markdown":
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("knowledge: unknown format %q (want csv, json or md)", s)
}

// ContentType is the MIME type of files in format f.
func (f Format) ContentType() string {
	switch f {
	case FormatJSON:
		return "application/json; charset=utf-8"
	case FormatMarkdown:
		return "text/markdown; charset=utf-8"
	}
	return "text/csv; charset=utf-8"
}

// Ext is the usual file extension for format f, without the dot.
func (f Format) Ext() string { return string(f) }
