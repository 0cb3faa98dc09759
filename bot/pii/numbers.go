package pii

import (
	"regexp"
	"strings"
)

// Limits of the digit rules; see the package doc.
const (
	// maxGroups is the most runs one number may be written in: a 19-digit
	// card in fours is five groups, plus one for a "+86" style prefix.
	maxGroups = 6
	// maxDigits is the longest number any rule accepts.
	maxDigits = 19
)

// parenLandlineRE matches a landline with its area code in brackets,
// "(010)12345678" or "（0755）1234567".
var parenLandlineRE = regexp.MustCompile(`(?:\(|（)0[1-9][0-9]{1,2}(?:\)|）)[ \-]?[0-9]{7,8}`)

// findParenLandlines reports landlines written with a bracketed area code
// that are not followed by another digit.
func findParenLandlines(s string, add func(string, int, int)) {
	if !strings.ContainsAny(s, "(（") {
		return
	}
	for _, loc := range parenLandlineRE.FindAllStringIndex(s, -1) {
		if _, _, ok := digitAt(s, loc[1]); !ok {
			add(KindPhone, loc[0], loc[1])
		}
	}
}

// digitRun is a maximal run of digits: its byte span in the text and its
// digits in ASCII.
type digitRun struct {
	start, end int
	digits     string
}

// digitAt returns the ASCII value and byte width of the digit at s[i],
// accepting ASCII and full-width digits.
func digitAt(s string, i int) (d byte, size int, ok bool) {
	if i >= len(s) {
		return 0, 0, false
	}
	if c := s[i]; c >= '0' && c <= '9' {
		return c, 1, true
	}
	// U+FF10..U+FF19 are EF BC 90..99 in UTF-8.
	if s[i] == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] >= 0x90 && s[i+2] <= 0x99 {
		return '0' + s[i+2] - 0x90, 3, true
	}
	return 0, 0, false
}

// digitRuns returns the digit runs of s.
func digitRuns(s string) []digitRun {
	var runs []digitRun
	var buf []byte
	for i := 0; i < len(s); {
		if _, _, ok := digitAt(s, i); !ok {
			i++
			continue
		}
		start := i
		buf = buf[:0]
		for {
			d, n, ok := digitAt(s, i)
			if !ok {
				break
			}
			buf = append(buf, d)
			i += n
		}
		runs = append(runs, digitRun{start: start, end: i, digits: string(buf)})
	}
	return runs
}

// findNumbers reports phone, ID-card and card numbers. Runs separated by a
// single space or hyphen form a chunk; within a chunk, the longest sequence
// of runs (from the left) that some rule accepts is taken.
func findNumbers(s string, add func(string, int, int)) {
	runs := digitRuns(s)
	for i := 0; i < len(runs); {
		j := i
		for j+1 < len(runs) && isGroupSep(s[runs[j].end:runs[j+1].start]) {
			j++
		}
		chunk := runs[i : j+1]
		plus := chunk[0].start > 0 && s[chunk[0].start-1] == '+'
		last := chunk[len(chunk)-1].end
		x := last < len(s) && (s[last] == 'X' || s[last] == 'x')
		for a := 0; a < len(chunk); {
			matched := false
			for b := min(len(chunk), a+maxGroups); b > a; b-- {
				kind, start, end, ok := classify(chunk[a:b], plus && a == 0, x && b == len(chunk))
				if ok {
					add(kind, start, end)
					a, matched = b, true
					break
				}
			}
			if !matched {
				a++
			}
		}
		i = j + 1
	}
}

// isGroupSep reports whether sep may join two digit groups of one number.
func isGroupSep(sep string) bool {
	return sep == " " || sep == "-"
}

// classify decides whether the runs g are one phone, ID-card or card number.
// plus means a '+' precedes g, x that an X or x follows it. It returns the
// kind and the span to mask.
func classify(g []digitRun, plus, x bool) (kind string, start, end int, ok bool) {
	var buf [maxDigits]byte
	n := 0
	for _, r := range g {
		if n+len(r.digits) > maxDigits {
			return "", 0, 0, false
		}
		n += copy(buf[n:], r.digits)
	}
	d := string(buf[:n])
	start, end = g[0].start, g[len(g)-1].end
	if plus {
		start--
	}

	if len(g) == 1 {
		switch {
		case len(d) == 18 && plausibleDate(d[6:14]):
			return KindIDCard, start, end, true
		case len(d) == 17 && x && plausibleDate(d[6:14]):
			return KindIDCard, start, end + 1, true
		case isMobile(d):
			return KindPhone, start, end, true
		case plus && len(d) >= 8 && len(d) <= 15:
			return KindPhone, start, end, true
		case (len(d) == 11 || len(d) == 12) && d[0] == '0' && d[1] != '0':
			return KindPhone, start, end, true
		case len(d) >= 13 && luhn(d):
			return KindBankCard, start, end, true
		}
		return "", 0, 0, false
	}

	lens := make([]int, len(g))
	for i, r := range g {
		lens[i] = len(r.digits)
	}
	switch {
	case isIDGrouping(lens, 4) && plausibleDate(d[6:14]):
		return KindIDCard, start, end, true
	case isIDGrouping(lens, 3) && x && plausibleDate(d[6:14]):
		return KindIDCard, start, end + 1, true
	case isGroupedMobile(g):
		return KindPhone, start, end, true
	case plus && len(d) >= 8 && len(d) <= 15:
		return KindPhone, start, end, true
	case isGroupedLandline(g):
		return KindPhone, start, end, true
	case len(d) >= 13 && isCardGrouping(lens) && luhn(d):
		return KindBankCard, start, end, true
	}
	return "", 0, 0, false
}

// isIDGrouping reports whether lens is 6, 8, last: an ID card in groups.
func isIDGrouping(lens []int, last int) bool {
	return len(lens) == 3 && lens[0] == 6 && lens[1] == 8 && lens[2] == last
}

// isMobile reports whether d is a mainland mobile number, optionally with
// the country code 86 or 0086 in front.
func isMobile(d string) bool {
	switch len(d) {
	case 11:
		return d[0] == '1' && d[1] >= '3' && d[1] <= '9'
	case 13:
		return d[:2] == "86" && isMobile(d[2:])
	case 15:
		return d[:4] == "0086" && isMobile(d[4:])
	}
	return false
}

// isGroupedMobile reports whether g is a mobile number in groups of at
// least three digits, after an optional 86 or 0086 group.
func isGroupedMobile(g []digitRun) bool {
	if d := g[0].digits; d == "86" || d == "0086" {
		g = g[1:]
	}
	var buf [11]byte
	n := 0
	for _, r := range g {
		if len(r.digits) < 3 || n+len(r.digits) > len(buf) {
			return false
		}
		n += copy(buf[n:], r.digits)
	}
	return n == 11 && isMobile(string(buf[:]))
}

// isGroupedLandline reports whether g is an area code 0xx or 0xxx followed
// by 7–8 digits in groups of at least three.
func isGroupedLandline(g []digitRun) bool {
	area := g[0].digits
	if len(area) < 3 || len(area) > 4 || area[0] != '0' || area[1] == '0' {
		return false
	}
	n := 0
	for _, r := range g[1:] {
		if len(r.digits) < 3 {
			return false
		}
		n += len(r.digits)
	}
	return n == 7 || n == 8
}

// isCardGrouping reports whether lens is a card number's grouping: fours
// with a last group of 1–4, or 4-6-5 / 4-6-4.
func isCardGrouping(lens []int) bool {
	if len(lens) == 3 && lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4) {
		return true
	}
	for i, l := range lens {
		if l != 4 && (i < len(lens)-1 || l > 4) {
			return false
		}
	}
	return true
}

// luhn reports whether the digits d pass the Luhn check.
func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// plausibleDate reports whether the eight digits d are a date YYYYMMDD
// between 1900-01-01 and 2099-12-31.
func plausibleDate(d string) bool {
	num := func(s string) int {
		v := 0
		for i := 0; i < len(s); i++ {
			v = v*10 + int(s[i]-'0')
		}
		return v
	}
	y, m, day := num(d[:4]), num(d[4:6]), num(d[6:8])
	if y < 1900 || y > 2099 || m < 1 || m > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return day <= days
}
