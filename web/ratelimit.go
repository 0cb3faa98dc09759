package web

import "time"

// windowLimiter allows at most max events in any window of the given
// length: the 101st message within 60 s is refused, and so is every message
// until the oldest of the last 100 is a minute old. It keeps the times of
// the last max allowed events, allocated as they come, so idle sockets cost
// nothing. It is used by one goroutine (the socket's reader).
type windowLimiter struct {
	max    int
	window time.Duration
	times  []time.Time // ring of the last allowed events
	next   int         // ring index of the oldest event once full
}

func newWindowLimiter(max int, window time.Duration) *windowLimiter {
	return &windowLimiter{max: max, window: window}
}

// allow reports whether an event at now is within the limit, and records it if so.
func (l *windowLimiter) allow(now time.Time) bool {
	if len(l.times) < l.max {
		l.times = append(l.times, now)
		return true
	}
	if now.Sub(l.times[l.next]) < l.window {
		return false
	}
	l.times[l.next] = now
	l.next = (l.next + 1) % l.max
	return true
}
