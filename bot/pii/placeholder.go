package pii

import (
	"regexp"
	"strings"
)

// maxPlaceholderDigits bounds the number in a placeholder. It keeps a
// placeholder from ever holding a digit run that looks like a phone, ID or
// card number, so leaving placeholders alone can never let one through.
const maxPlaceholderDigits = 6

// placeholderRE matches a placeholder of any kind, issued or not.
var placeholderRE = regexp.MustCompile(`\[(?:PHONE|EMAIL|ADDRESS|IDCARD|CARD)_[1-9][0-9]{0,5}\]`)

// IsPlaceholderPrefix reports whether s could be the beginning of a
// placeholder but is not yet a whole one: "[", "[PH", "[PHONE_" and
// "[PHONE_1" are, "" and "[PHONE_1]" are not. A streaming caller holds back
// such a tail until the next chunk completes or refutes it; see
// [CutPartial].
func IsPlaceholderPrefix(s string) bool {
	if s == "" || s[0] != '[' {
		return false
	}
	rest := s[1:]
	for _, k := range kinds {
		name := k + "_"
		if len(rest) <= len(name) {
			if strings.HasPrefix(name, rest) {
				return true
			}
			continue
		}
		if !strings.HasPrefix(rest, name) {
			continue
		}
		digits := rest[len(name):]
		if len(digits) > maxPlaceholderDigits || digits[0] == '0' {
			return false
		}
		for i := 0; i < len(digits); i++ {
			if digits[i] < '0' || digits[i] > '9' {
				return false
			}
		}
		return true
	}
	return false
}

// CutPartial splits streamed text s into the part that can be restored and
// sent now and a trailing partial placeholder to hold back until more text
// arrives. partial is "" when s does not end in one.
func CutPartial(s string) (ready, partial string) {
	i := strings.LastIndexByte(s, '[')
	if i >= 0 && IsPlaceholderPrefix(s[i:]) {
		return s[:i], s[i:]
	}
	return s, ""
}
