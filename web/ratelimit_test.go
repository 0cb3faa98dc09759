package web

import (
	"testing"
	"time"
)

func TestWindowLimiter(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	l := newWindowLimiter(100, time.Minute)
	// 100 messages in the first 30 s pass; the 101st is refused.
	for i := range 100 {
		if !l.allow(start.Add(time.Duration(i) * 300 * time.Millisecond)) {
			t.Fatalf("message %d refused", i+1)
		}
	}
	if l.allow(start.Add(59 * time.Second)) {
		t.Fatal("the 101st message within a minute was allowed")
	}
	// A minute after the first, one more fits; then again none.
	if !l.allow(start.Add(time.Minute)) {
		t.Fatal("refused a minute after the first message")
	}
	if l.allow(start.Add(time.Minute + 100*time.Millisecond)) {
		t.Fatal("allowed a second message though the window still holds 100")
	}
	if !l.allow(start.Add(time.Minute + 300*time.Millisecond)) {
		t.Fatal("refused once the second-oldest message left the window")
	}
}
