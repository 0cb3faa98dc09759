package handoff

import (
	"fmt"
	"strings"
	"time"
)

// Hours are a shop's service hours: per weekday, one or more ranges of
// local time in a time zone.
type Hours struct {
	Loc  *time.Location
	days [7][]span // by time.Weekday
	spec string
}

// span is a range of minutes since local midnight, [from, to).
type span struct{ from, to int }

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseHours reads service hours such as
//
//	mon-fri 09:00-18:00; sat 10:00-16:00; sun closed
//
// in the time zone tz (an IANA name such as "Asia/Shanghai"). Each part is
// a day or a range of days (mon..sun, wrapping: "fri-mon"), then one or more
// comma-separated ranges HH:MM-HH:MM ("24:00" ends a day; a range may not
// cross midnight: split it over two days) or "closed". Days not named are
// closed, and "closed" closes a day an earlier part opened ("mon-sun
// 09:00-18:00; sun closed"). "always" or "" means always open, returned as nil.
func ParseHours(spec, tz string) (*Hours, error) {
	spec = strings.TrimSpace(strings.ToLower(spec))
	if spec == "" || spec == "always" {
		return nil, nil
	}
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("service hours: time zone %q: %w", tz, err)
	}
	h := &Hours{Loc: loc, spec: spec}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		dayPart, rangePart, ok := strings.Cut(part, " ")
		if !ok {
			return nil, fmt.Errorf("service hours: %q: want days then times, e.g. \"mon-fri 09:00-18:00\"", part)
		}
		days, err := parseDays(dayPart)
		if err != nil {
			return nil, err
		}
		rangePart = strings.TrimSpace(rangePart)
		var spans []span
		if rangePart != "closed" {
			for _, r := range strings.Split(rangePart, ",") {
				sp, err := parseSpan(strings.TrimSpace(r))
				if err != nil {
					return nil, err
				}
				spans = append(spans, sp)
			}
		}
		for _, d := range days {
			if rangePart == "closed" {
				h.days[d] = nil // "closed" wins over what an earlier part said
				continue
			}
			h.days[d] = append(h.days[d], spans...)
		}
	}
	return h, nil
}

func parseDays(s string) ([]time.Weekday, error) {
	from, to, isRange := strings.Cut(s, "-")
	a, ok := weekdays[from]
	if !ok {
		return nil, fmt.Errorf("service hours: unknown day %q: use mon, tue, wed, thu, fri, sat, sun", from)
	}
	if !isRange {
		return []time.Weekday{a}, nil
	}
	b, ok := weekdays[to]
	if !ok {
		return nil, fmt.Errorf("service hours: unknown day %q: use mon, tue, wed, thu, fri, sat, sun", to)
	}
	var out []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		out = append(out, d)
		if d == b {
			return out, nil
		}
	}
}

func parseSpan(s string) (span, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return span{}, fmt.Errorf("service hours: %q: want HH:MM-HH:MM", s)
	}
	from, err1 := parseClock(a)
	to, err2 := parseClock(b)
	if err1 != nil || err2 != nil || from >= to {
		return span{}, fmt.Errorf("service hours: %q: want HH:MM-HH:MM with the start before the end, within one day", s)
	}
	return span{from, to}, nil
}

func parseClock(s string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

// Open reports whether t falls within the hours. Nil hours are always open.
func (h *Hours) Open(t time.Time) bool {
	if h == nil {
		return true
	}
	lt := t.In(h.Loc)
	min := lt.Hour()*60 + lt.Minute()
	for _, sp := range h.days[lt.Weekday()] {
		if min >= sp.from && min < sp.to {
			return true
		}
	}
	return false
}

// NextOpen returns when the hours next open after t (t itself when open
// now), or the zero time when they do not within about a week. Times are
// wall-clock times in h.Loc: on a day a daylight-saving change skips, a
// range opens when the clock reaches it (or not at all when the gap
// swallows it whole).
func (h *Hours) NextOpen(t time.Time) time.Time {
	if h == nil || h.Open(t) {
		return t
	}
	lt := t.In(h.Loc)
	for i := 0; i < 8; i++ {
		// time.Date, not midnight plus a duration: a day is not always 24 hours.
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+i, 12, 0, 0, 0, h.Loc)
		var first time.Time
		for _, sp := range h.days[day.Weekday()] { // in the order written, not of time
			start := time.Date(day.Year(), day.Month(), day.Day(), sp.from/60, sp.from%60, 0, 0, h.Loc)
			if wall := start.Hour()*60 + start.Minute(); wall != sp.from || start.Day() != day.Day() {
				// A wall time in a gap, which time.Date moves to either
				// side of it (even to the day before, for a gap at
				// midnight): the clock reaches it when the gap ends.
				begin, end := start.ZoneBounds()
				if start.Day() != day.Day() && start.Before(day) || start.Day() == day.Day() && wall < sp.from {
					start = end
				} else {
					start = begin
				}
			}
			if !start.After(t) {
				// When the clock falls back just after, the wall time comes again.
				_, off := start.Zone()
				if _, end := start.ZoneBounds(); !end.IsZero() {
					_, offAfter := end.Zone()
					if again := start.Add(time.Duration(off-offAfter) * time.Second); end.After(start) && !end.After(again) {
						start = again
					}
				}
			}
			if !start.After(t) || !h.Open(start) {
				continue
			}
			if first.IsZero() || start.Before(first) {
				first = start
			}
		}
		if !first.IsZero() {
			return first
		}
	}
	return time.Time{}
}

// String is the specification the hours were parsed from, with the zone.
func (h *Hours) String() string {
	if h == nil {
		return "always"
	}
	return h.spec + " (" + h.Loc.String() + ")"
}
