package main

import (
	"testing"
	"time"
)

func TestParseRetention(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"180d", 180 * 24 * time.Hour, true}, {"0", 0, true}, {"720h", 720 * time.Hour, true}, {"0d", 0, true},
		{"-1d", 0, false}, {"ten days", 0, false}, {"-5h", 0, false},
	} {
		got, err := parseRetention(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
