package pii

import (
	"regexp"
	"strings"
	"testing"
)

// Independent re-statements of what must never reach the LLM. Digits are
// ASCII or full-width, as in the masker; full-width ones are folded to
// ASCII before checking, so that a run is judged whole.
var fuzzRunRE = regexp.MustCompile(`[0-9]+[Xx]?`)

// foldDigits returns s with full-width digits replaced by ASCII ones.
func foldDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return '0' + (r - '０')
		}
		return r
	}, s)
}

// leak returns a description of the first unmasked mobile number, ID-card
// number or Luhn-valid card number in s, or "".
func leak(s string) string {
	s = foldDigits(s)
	for _, loc := range fuzzRunRE.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		digits := strings.TrimRight(tok, "Xx")
		switch {
		case len(digits) == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9':
			return "mobile " + digits
		case len(digits) == 18 && fuzzDate(digits[6:14]):
			return "id card " + digits
		case len(digits) == 17 && len(tok) == 18 && fuzzDate(digits[6:14]):
			return "id card " + tok
		case len(digits) >= 16 && len(digits) <= 19 && fuzzLuhn(digits):
			return "card " + digits
		}
	}
	return ""
}

// fuzzDate reports whether d is a real date YYYYMMDD in 1900–2099, checked
// by round-tripping through a calendar.
func fuzzDate(d string) bool {
	y, m, day := atoi(d[:4]), atoi(d[4:6]), atoi(d[6:8])
	if y < 1900 || y > 2099 || m < 1 || m > 12 || day < 1 {
		return false
	}
	next := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if y%400 == 0 || (y%4 == 0 && y%100 != 0) {
		next[2] = 29
	}
	return day <= next[m]
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// fuzzLuhn is the Luhn check written from the left.
func fuzzLuhn(d string) bool {
	sum := 0
	for i, c := range d {
		v := int(c - '0')
		if (len(d)-i)%2 == 0 {
			v = v * 2 % 9
			if c == '9' {
				v = 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func TestLeakChecker(t *testing.T) {
	tests := []struct {
		s    string
		leak bool
	}{
		{"13800138000", true},
		{"１３８００１３８０００", true},
		{"113800138000", false},
		{"11010519491231002X", true},
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"[PHONE_1]", false},
	}
	for _, tc := range tests {
		if got := leak(tc.s) != ""; got != tc.leak {
			t.Errorf("leak(%q) = %v, want %v", tc.s, got, tc.leak)
		}
	}
}

func FuzzMask(f *testing.F) {
	for _, tc := range goldenCases {
		f.Add(tc.in)
	}
	f.Add("113800138000 13800138000 138 13800138000")
	f.Add("586 13800138000 0086-13800138000 +8613800138000")
	f.Add("阳光小区3栋2单元50113800138000")
	f.Add("4111111111111111X 11010519491231002x1")
	f.Fuzz(func(t *testing.T, s string) {
		m := NewMasker()
		masked := m.Mask(s)
		if l := leak(masked); l != "" {
			t.Errorf("Mask(%q) = %q leaks %s", s, masked, l)
		}
		if found := Find(masked); len(found) > 0 {
			t.Errorf("Mask(%q) = %q, in which Find still finds %+v", s, masked, found)
		}
		if again := m.Mask(masked); again != masked {
			t.Errorf("Mask(%q) = %q, masked again %q", s, masked, again)
		}
		if !strings.Contains(s, "[") {
			if back := m.Restore(masked); back != s {
				t.Errorf("Restore(Mask(%q)) = %q (masked %q)", s, back, masked)
			}
		}
		for _, f := range Find(s) {
			if s[f.Start:f.End] != f.Value {
				t.Errorf("Find(%q): %+v does not match its offsets", s, f)
			}
		}
	})
}
