package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseRetention reads --retention: a number of days ("180d"), a Go
// duration ("720h"), or "0" to keep conversations forever.
func parseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "0" || v == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("--retention must be a number of days like 180d, a duration like 720h, or 0, got %q", v)
}
