package pii

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Building blocks of the Chinese address pattern; see the package doc.
const (
	// zhName is a Han character that may be part of a place or road name:
	// common function words are left out so that "寄到" or "地址是" in front
	// of an address is not swallowed by it.
	zhName  = `[^\P{Han}的是在我你他她们这那到送寄发收址了吗呢吧请把给从往去改为要想住]`
	zhDigit = `[0-9０-９]`
	// zhAdmin is one administrative part: 上海市, 浦东新区, 广西壮族自治区.
	zhAdmin = `(?:` + zhName + `{2,4}(?:省|市|区|县|旗|盟|镇|乡)|` + zhName + `{2,6}自治(?:区|州|县|旗))`
	// zhRoad is a road name: 世纪大道, 文三路, 南锣鼓巷.
	zhRoad = zhName + `{2,8}?(?:大街|大道|公路|胡同|路|街|道|巷|弄|里)`
	// zhHouse is a house number: 100号, 478 号, 100弄.
	zhHouse = `\s*` + zhDigit + `+(?:[-－]` + zhDigit + `+)?\s*(?:号|號|弄)`
	// zhPlace is a residential place, which with a unit part is an address
	// even without a road: 阳光小区, 幸福家园.
	zhPlace = `(?:` + zhName + `|[A-Za-z]){2,12}?(?:小区|花园|公寓|大厦|家园|新村|社区|大楼|公馆|村|苑)`
	// zhBuilding is a named building after a house number: SOHO现代城.
	zhBuilding = `(?:` + zhName + `|[A-Za-z]){1,12}?(?:小区|花园|公寓|大厦|家园|新村|社区|大楼|公馆|广场|中心|村|苑|城|园|府)`
	// zhUnit is a building, unit, floor or room part: 5号楼, 2单元, 1203室.
	zhUnit = `\s?(?:` + zhDigit + `+|[A-Za-z])(?:[-－]` + zhDigit + `+)?\s?(?:号楼|号院|单元|栋|幢|座|层|楼|室|号|户|组|门)`
	// zhRoom is a bare room number after the units: the 501 of 2单元501.
	zhRoom = `(?:` + zhDigit + `{2,5}(?:室|号)?)?`
)

// zhAddressRE matches a Chinese street address.
var zhAddressRE = regexp.MustCompile(zhAdmin + `*(?:` +
	zhRoad + zhHouse + `(?:(?:` + zhBuilding + `)?(?:` + zhUnit + `)+` + zhRoom + `)?` +
	`|(?:` + zhRoad + `)?` + zhPlace + `(?:` + zhUnit + `)+` + zhRoom + `)`)

// Building blocks of the English address pattern; see the package doc.
const (
	enCapWord   = `(?:[A-Z][A-Za-z'.\-]*|[0-9]{1,3}(?:st|nd|rd|th))`
	enCapSuffix = `(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Parkway|Pkwy|Place|Pl|Terrace|Circle|Cir|Highway|Hwy|Square|Sq|Crescent|Close|Alley|Trail|Plaza)\b\.?`
	enLowWord   = `[a-z][a-z'\-]*`
	enLowSuffix = `(?:street|avenue|road|boulevard|lane)\b`
	enStreet    = `\b[0-9]{1,6}[A-Za-z]?\s+(?:(?:` + enCapWord + `\s+){1,4}` + enCapSuffix +
		`|(?:` + enLowWord + `\s+){1,2}` + enLowSuffix + `)`
	enUnit = `(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Room|Rm|Floor|Fl|Bldg|Building)\.?\s*#?\s*[A-Za-z0-9\-]+|,?\s+#\s*[A-Za-z0-9\-]+)?`
	enCity = `[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+){0,2}`
	// enRegion is a US state and ZIP, with or without the city, or a city
	// and a UK postcode.
	enRegion = `(?:,\s*(?:` + enCity + `,?\s+)?[A-Z]{2}\s+[0-9]{5}(?:-[0-9]{4})?` +
		`|,\s*` + enCity + `\s+[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2})?`
)

// enAddressRE matches an English street address at the start of a text.
var enAddressRE = regexp.MustCompile(`^` + enStreet + enUnit + enRegion)

// enNotStreetWords are lower-case words that show a lower-case match is a
// phrase ("2 for the road"), not a street name.
var enNotStreetWords = map[string]bool{
	"a": true, "an": true, "and": true, "at": true, "by": true, "for": true,
	"from": true, "in": true, "is": true, "my": true, "of": true, "on": true,
	"or": true, "that": true, "the": true, "this": true, "to": true,
	"with": true, "your": true,
}

// zhAddressMarks holds characters one of which every Chinese address
// contains; text without any is not searched.
const zhAddressMarks = "号號弄楼院单栋幢座层室户组门"

// findChineseAddresses reports Chinese street addresses. An address is
// made of Han characters, ASCII letters and digits, spaces and hyphens, so
// only stretches of those that hold a digit and one of zhAddressMarks are
// searched; no match can cross from one stretch into another.
func findChineseAddresses(s string, add func(string, int, int)) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !inZhAddress(r) {
			i += n
			continue
		}
		start, digit, mark := i, false, false
		for i < len(s) {
			r, n = utf8.DecodeRuneInString(s[i:])
			if !inZhAddress(r) {
				break
			}
			digit = digit || (r >= '0' && r <= '9') || (r >= '０' && r <= '９')
			mark = mark || strings.ContainsRune(zhAddressMarks, r)
			i += n
		}
		if !digit || !mark {
			continue
		}
		for _, loc := range zhAddressRE.FindAllStringIndex(s[start:i], -1) {
			add(KindAddress, start+loc[0], start+loc[1])
		}
	}
}

// inZhAddress reports whether r may be part of a Chinese address.
func inZhAddress(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '-' ||
			(r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
	case r >= '０' && r <= '９', r == '－':
		return true
	}
	return unicode.Is(unicode.Han, r)
}

// findEnglishAddresses reports English street addresses. The pattern is
// tried only where a house number starts a word and is followed by white
// space. A match whose words include a common phrase word in lower case
// ("2 for the road") is refused.
func findEnglishAddresses(s string, add func(string, int, int)) {
	for i := 0; i < len(s); i++ {
		if !isHouseNumberStart(s, i) {
			continue
		}
		window := s[i:min(len(s), i+enMaxAddress)]
		loc := enAddressRE.FindStringIndex(window)
		if loc == nil || !isStreetPhrase(window[:loc[1]]) {
			continue
		}
		add(KindAddress, i, i+loc[1])
		i += loc[1] - 1
	}
}

// enMaxAddress bounds the bytes an English address may span.
const enMaxAddress = 200

// isHouseNumberStart reports whether a word starting with digits, at most
// one letter, then white space begins at s[i].
func isHouseNumberStart(s string, i int) bool {
	if s[i] < '0' || s[i] > '9' || (i > 0 && isWordByte(s[i-1])) {
		return false
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j < len(s) && isLetter(s[j]) {
		j++
	}
	return j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')
}

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

func isWordByte(c byte) bool { return isLetter(c) || (c >= '0' && c <= '9') || c == '_' }

// isStreetPhrase reports whether an English match contains no common phrase
// word in lower case.
func isStreetPhrase(m string) bool {
	for _, w := range strings.Fields(m) {
		if enNotStreetWords[w] {
			return false
		}
	}
	return true
}
