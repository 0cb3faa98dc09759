// Package pii masks personal data in text before it is sent to the LLM,
// and restores it in the reply where the shopper's own data belongs.
//
// A [Masker] replaces each phone number, e-mail address, street address,
// ID-card number and bank-card number with a numbered ASCII placeholder such
// as [PHONE_1] or [ADDRESS_2] and remembers the value, so that
// [Masker.Restore] can put it back. [Find] reports the same findings without
// masking, for tests and for checks that logs stay clean.
//
// # What is detected, and why this way
//
// Digits are ASCII 0-9 and full-width ０-９ (typed by Chinese input methods);
// a "run" is a maximal sequence of them. Runs joined by a single space or
// hyphen ("138 0013 8000", "6222-0212-3456-7890") form one number. Every
// rule below looks at whole runs, so a rule never fires on part of a longer
// number: a 20-digit tracking number is left alone, and an 11-digit mobile
// number embedded in a 12-digit run is not a mobile number. Letters are not
// boundaries for digits, so the 10-digit tail of order number XE2026051388
// is judged on its own (and is nothing), while "XE13800138000" would be
// masked as a phone: for privacy a false positive is cheaper than a leak.
//
//   - PHONE. Mainland mobiles: 11 digits 1[3-9]xxxxxxxxx, optionally with
//     +86, 86 or 0086 in front and grouped by spaces or hyphens into groups
//     of at least three digits ("+86-138-0013-8000"). Landlines: an area
//     code 0xx or 0xxx followed by 7–8 digits ("010-12345678",
//     "0755 1234567", "(021)12345678"), or the same written as one 11–12
//     digit run starting with 0. International: "+" followed by 8–15 digits
//     in any grouping ("+1 650 253 0000", "+44 20 7946 0958").
//     400/800 hotlines ("400-820-8820") are NOT masked: they are shops'
//     numbers, and the LLM needs them to tell the shopper whom to call.
//   - EMAIL. local@domain.tld with an alphabetic TLD of two letters or more.
//     It runs before the digit rules, so "13800138000@qq.com" is one e-mail.
//   - IDCARD. 18 characters: 17 digits and a digit or X/x, whose characters
//     7–14 are a plausible birth date YYYYMMDD in 1900–2099. The checksum is
//     NOT required: a mistyped ID card is still personal data. Also the
//     grouping 6-8-4 ("110105 19491231 002X"). The old 15-digit IDs are not
//     detected: they expired in 2013, and 3–4% of random 15-digit numbers
//     would look like one.
//   - CARD. 13–19 digits, contiguous or grouped in fours (the last group may
//     be shorter) or 4-6-5, passing the Luhn check. About one in ten
//     13–19 digit order or tracking numbers passes Luhn by chance and is
//     masked too; that is accepted, because masking is reversible.
//   - ADDRESS, Chinese. Any number of administrative parts (省, 市, 区, 县,
//     镇, 乡, 自治区 …) followed by either a road (路, 街, 大道, 巷, 弄 …)
//     with a house number (号) and optional building, unit and room parts
//     ("北京市朝阳区建国路88号SOHO现代城5号楼1203室"), or a residential
//     place (小区, 花园, 公寓, 大厦, 村, 苑 …) with at least one building,
//     unit or room part ("阳光小区3栋2单元501"). The whole span is masked.
//     Place names alone ("上海发货", "北京时间", "浦东仓库已发出") and roads
//     without a house number are not addresses. Name characters exclude
//     common function words (的, 是, 在, 到, 寄 …) so that "寄到" or "地址是"
//     before an address stays in the text.
//   - ADDRESS, English. A house number, one to four capitalised words (or
//     one or two lower-case words before street/avenue/road/boulevard/lane)
//     and a street suffix ("123 Main Street", "42 Baker St"; a lower-case
//     match with a word like "the" or "for" is a phrase, "2 for the road",
//     and is refused), then optionally
//     a unit ("Apt 5B", "Suite 200", "#12") and a city with a US state and
//     ZIP ("Mountain View, CA 94043") or a UK postcode.
//
// Detection runs in this order, each step only on text not yet claimed:
// placeholders already in the text (left alone, so masking is idempotent),
// values registered with [Masker.Known] (longest first), e-mail addresses,
// phone, ID-card and card numbers, addresses, and the digit rules once more
// because an address can end in the middle of a digit run.
//
// # Known limits
//
//   - Numbers written in Chinese numerals (一三八…) or with other separators
//     (dots, slashes, several spaces) are not recognised; nor are landline
//     extensions (only "010-12345678" of "010-12345678-8001" is masked).
//   - International numbers need the "+"; "0044 20 7946 0958" is not masked.
//   - Chinese addresses need a house number or a building/unit/room part;
//     "上海市浦东新区世纪大道" alone is not masked. A few words right before
//     an address may be masked with it ("货上门世纪大道100号"), and a
//     building-like word after a house number may be taken as part of it.
//   - English street names in lower case are only recognised before the five
//     long suffixes; "12 main st" is not masked.
//   - Names of people are not detected; register them with Known if needed.
//
// The shopper's profile values should always be registered with
// [Masker.Known]: it catches what the patterns miss.
package pii
