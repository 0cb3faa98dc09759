package handoff

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzZones are the time zones FuzzParseHours tries: China's, and some with
// daylight saving (Lord Howe's moves by 30 minutes, Santiago's at
// midnight) or odd offsets.
var fuzzZones = []string{"Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"}

// FuzzParseHours parses arbitrary service-hours specifications (the
// --hours flag, and what an admin types) and checks what the parsed hours
// say: Open and NextOpen agree with each other minute by minute, and
// parsing the normalised specification again gives the same hours.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{
		"mon-fri 09:00-18:00; sat 10:00-16:00; sun closed",
		"mon-sun 09:00-12:00,13:30-22:00; sun closed",
		"fri-mon 00:00-24:00",
		"sun 02:00-03:00; sun 01:30-02:30",
		"MON 9:5-9:06",
		"always", "", " ; ; ", "mon", "mon 18:00-09:00", "mon 24:00-24:00", "xyz 09:00-10:00",
		"mon 09:00-10:00abc", "mon-mon 09:00-10:00", "mon 09:00--10:00", "周一 09:00-18:00",
	} {
		f.Add(s, uint8(0), int64(1780000000))
	}
	f.Add("sun 02:00-03:00", uint8(2), int64(1772953200))     // New York springs forward that Sunday
	f.Add("sun 09:00-10:00", uint8(2), int64(1772900000))     // Saturday before it
	f.Add("sun 01:00-02:00", uint8(2), int64(1793512800))     // and falls back in November
	f.Add("sun 02:00-02:30", uint8(4), int64(1775300000))     // Lord Howe, 30 minutes
	f.Add("mon-fri 09:00-18:00", uint8(5), int64(1780000000)) // +05:30
	f.Fuzz(func(t *testing.T, spec string, zone uint8, unix int64) {
		tz := fuzzZones[int(zone)%len(fuzzZones)]
		h, err := ParseHours(spec, tz)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "service hours: ") {
				t.Errorf("ParseHours(%q): error %q does not say it is about service hours", spec, err)
			}
			return
		}
		if h == nil {
			if s := strings.TrimSpace(strings.ToLower(spec)); s != "" && s != "always" {
				t.Errorf("ParseHours(%q) = always open", spec)
			}
			return
		}
		for _, spans := range h.days {
			for _, sp := range spans {
				if sp.from < 0 || sp.from >= sp.to || sp.to > 24*60 {
					t.Fatalf("ParseHours(%q): span %+v", spec, sp)
				}
			}
		}
		again, err := ParseHours(h.spec, tz)
		if err != nil || !reflect.DeepEqual(again.days, h.days) {
			t.Fatalf("ParseHours(%q) then its spec %q: %v, %v", spec, h.spec, again, err)
		}

		// Any moment from 2000 to 2100.
		const from, span = 946684800, 100 * 365 * 24 * 3600
		at := time.Unix(from+((unix-from)%span+span)%span, 0)
		next := h.NextOpen(at)
		// The first open minute within a week (every weekday recurs in
		// one), found the slow way.
		want := time.Time{}
		if h.Open(at) {
			want = at
		} else {
			for m := at.Truncate(time.Minute).Add(time.Minute); m.Before(at.Add(7 * 24 * time.Hour)); m = m.Add(time.Minute) {
				if h.Open(m) {
					want = m
					break
				}
			}
		}
		switch {
		case !want.IsZero() && !next.Equal(want):
			t.Fatalf("hours %s at %s: NextOpen = %s, want %s", h, at.In(h.Loc), next.In(h.Loc), want.In(h.Loc))
		case want.IsZero() && !next.IsZero() && (!h.Open(next) || next.Before(at.Add(7*24*time.Hour))):
			t.Fatalf("hours %s at %s: NextOpen = %s (open %v), want none within a week", h, at.In(h.Loc), next.In(h.Loc), h.Open(next))
		}
	})
}
