package bot

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Sensitive categories: matters a person must take over, whatever the
// bot could answer. The trigger recorded for one is "sensitive_" and the
// category, e.g. "sensitive_legal".
const (
	SensitiveComplaint    = "complaint"       // 投诉, 举报, formal complaint, "file a complaint"
	SensitiveLegal        = "legal"           // 律师, 起诉, 法院, 消协, 12315, lawyer, sue, "take you to court"
	SensitivePayment      = "payment_dispute" // 重复扣款, 盗刷, 拒付, chargeback, charged twice, unauthorized charge
	SensitiveSafety       = "safety"          // 受伤, 起火, 过敏了, 漏电, injured, caught fire, had an allergic reaction
	SensitiveDataDeletion = "data_deletion"   // 删除我的个人信息, 注销账号, delete my data, close my account, GDPR
)

// sensitiveRule is one way a category is raised: the text matches match,
// and unless (when set) does not.
type sensitiveRule struct {
	category string
	match    *scriptPattern
	unless   *scriptPattern
}

// scriptPattern is one alternation split by script: the alternatives
// that name Chinese (or other non-ASCII) text, and the ASCII ones (English
// words, 12315), matched against the lower-cased text. A text runs only
// the half its script can match: one large alternation of both ran Go's
// general matcher over every text at 23 µs (Chinese) to 97 µs (English)
// a turn, the bot's largest cost after retrieval.
type scriptPattern struct {
	han, ascii *regexp.Regexp // nil when the alternation has none
}

// matchString reports whether the text matches; lower is the text in
// lower case, and hasHan and hasASCII say which scripts it contains.
func (p *scriptPattern) matchString(lower string, hasHan, hasASCII bool) bool {
	return p != nil && (hasHan && p.han != nil && p.han.MatchString(lower) ||
		hasASCII && p.ascii != nil && p.ascii.MatchString(lower))
}

// anyOf compiles the alternatives, split by script (scriptPattern). An
// alternative with a non-ASCII character is Chinese and needs one in the
// text; the others are ASCII-only patterns, in lower case.
func anyOf(alternatives ...string) *scriptPattern {
	var han, ascii []string
	for _, a := range alternatives {
		re, err := syntax.Parse(a, syntax.Perl)
		if err != nil {
			panic(fmt.Sprintf("bot: sensitive pattern %q: %v", a, err))
		}
		subs := []*syntax.Regexp{re}
		if re.Op == syntax.OpAlternate {
			subs = re.Sub
		}
		for _, sub := range subs {
			if p := sub.String(); isASCII(p) {
				ascii = append(ascii, p)
			} else {
				han = append(han, p)
			}
		}
	}
	var p scriptPattern
	if len(han) > 0 {
		p.han = regexp.MustCompile(`(?:` + strings.Join(han, `|`) + `)`)
	}
	if len(ascii) > 0 {
		p.ascii = regexp.MustCompile(`(?:` + strings.Join(ascii, `|`) + `)`)
	}
	return &p
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// sensitiveRules in priority order: safety, legal, payment dispute, data
// deletion, complaint. The first rule that matches names the category.
// Built once and never changed.
//
// Each pattern asks for the matter in so many words, to keep ordinary
// questions out: "court" alone is a shoe, so legal wants "take you to
// court"; "allergy information" is a question, so safety wants a reaction
// that happened (过敏了, "had an allergic reaction"); "my card was charged"
// is a payment, so a dispute wants "charged twice" or "unauthorized";
// "delete an item from my cart" is shopping, so data deletion wants my
// data, my personal information or my account.
var sensitiveRules = []sensitiveRule{
	{category: SensitiveSafety, match: anyOf(
		`受伤|受了伤|伤到了|烫伤|烫到了|被烫到|烧伤|割伤|划伤|砸伤|夹伤|弄伤`,
		`起火|着火|失火|自燃|冒烟|爆炸|炸了`,
		`过敏了|过敏得|(?:起了|出现了|发生了|引起了|导致了|造成了|有了)过敏|起疹子|起了疹子|起红疹|长疹子|红肿`,
		`中毒了|食物中毒|漏电|触电|被电到|电到我|电击|噎住|噎到|卡住喉咙|窒息`,
		`送医|住院|进了医院|去了医院|上医院|急诊`,
		`\binjur(?:ed|y|ies)\b`,
		`\b(?:got|get|was|were|been|am|is|are)\s+(?:badly\s+|seriously\s+|severely\s+)?(?:hurt|burned|burnt|injured|scalded|electrocuted|poisoned)\b`,
		`\b(?:hurt|burned|burnt|injured|scalded)\s+(?:me|my|myself|him|his|himself|her|herself|them|their|us|our)\b`,
		`\bcaught\s+(?:on\s+)?fire\b|\bon\s+fire\b|\bburst\s+into\s+flames\b|\bstarted\s+(?:a\s+)?(?:fire|smoking|sparking)\b`,
		`\bexplo(?:ded|des|sion)\b|\bblew\s+up\b`,
		`\b(?:had|having|got|gave|given|caused|causing|developed|suffered|suffering)\s+(?:(?:me|him|her|them|us|my\s+\w+)\s+)?(?:an?\s+)?(?:\w+\s+)?allergic\s+reaction\b`,
		`\b(?:broke|breaking)\s+out\s+in\b|\bhives\b`,
		`\bpoison(?:ed|ing)\b|\belectric(?:al)?\s+shocks?\b|\belectrocut(?:ed|ion)\b`,
		`\bchok(?:ed|ing)\b`,
		`\b(?:went|go|going|taken|rushed|had\s+to\s+go|admitted)\s+to\s+(?:the\s+)?(?:hospital|er|emergency\s+room|a&e)\b|\bin\s+(?:the\s+)?hospital\b`,
	)},
	{category: SensitiveLegal, match: anyOf(
		`律师|起诉|诉讼|打官司|法院|法庭|法律途径|法律程序|法律手段|法律责任`,
		`告你们|告死你|要告你|去告你|就告你`,
		`消协|消费者协会|工商局|工商部门|市场监管|市场监督管理|(?:^|[^0-9])12315(?:[^0-9]|$)`,
		`\blawyers?\b|\battorneys?\b|\blawsuits?\b`,
		`\blegal\s+(?:action|proceedings|steps|advice|team|department|claim)\b`,
		`\bsu(?:e|ing)\s+(?:you|u|ya|your|them|this|the|for|over)\b|\b(?:will|gonna|to|i'll|ill|i'd|would|and|then)\s+sue\b|\bsued\b`,
		`\b(?:take|taking|took|bring|bringing|drag|dragging|see)\s+(?:you|u|ya|them|this|it|your\s+\w+)\s+(?:to|in)\s+court\b`,
		`\bsmall\s+claims\b|\bcourt\s+(?:case|action|order|claim)\b`,
		`\bconsumer\s+protection\b|\btrading\s+standards\b|\bbetter\s+business\s+bureau\b|\bftc\b`,
	)},
	{category: SensitivePayment, match: anyOf(
		`扣了?(?:两|2|二)次|扣了(?:两|2)遍|(?:两|2)次扣款|重复(?:扣款|扣费|扣钱|支付|付款|收费)|付了(?:两|2)次|支付了(?:两|2)次`,
		`多扣(?:了|钱|款|费)|多收(?:了|钱|费)|乱扣|莫名(?:其妙)?(?:被)?扣`,
		`盗刷|拒付|未经(?:我的?)?(?:同意|授权|允许)(?:就)?(?:扣|收|支付)|没(?:经过|经)我的?同意(?:就)?扣`,
		`\bcharge[\s-]?backs?\b`,
		`\b(?:double|twice)[\s-]?(?:charged|billed)\b`,
		`\b(?:charged|billed|debited|deducted)\s+(?:me\s+|us\s+|my\s+card\s+)?(?:twice|two\s+times|2\s+times|double|2x|three\s+times|multiple\s+times)\b`,
		`\bpaid\s+twice\b|\bduplicate\s+(?:charges?|payments?|transactions?|billing)\b`,
		`\bunauthori[sz]ed\s+(?:charges?|payments?|transactions?|purchases?|debits?)\b`,
		`\bfraud(?:ulent)?\s+(?:charges?|transactions?|payments?|purchases?)\b|\bfraud\s+on\s+my\s+(?:card|account)\b`,
		`\bdispute\s+(?:(?:a|the|this|that|my)\s+)?(?:charges?|transactions?|payments?)\b`,
		`\b(?:didn'?t|did\s+not|never)\s+authori[sz]e\b|\bovercharged\b`,
	)},
	{category: SensitiveDataDeletion, match: anyOf(
		`(?:删除|删掉|清除|清空|销毁|抹掉)(?:掉)?(?:我的?|我们的)?(?:所有|全部)?的?(?:个人)?(?:数据|信息|资料|隐私|账号|账户|帐号|帐户)`,
		`注销(?:我的?)?(?:账号|账户|帐号|帐户|会员)|销户|个人信息保护法|个保法`,
		`\b(?:delete|erase|remove|wipe|purge|destroy)\s+(?:all\s+)?(?:of\s+)?(?:my|our)\s+(?:personal\s+|customer\s+)?(?:data|information|info|account|profile|records)\b`,
		`\b(?:my|our)\s+(?:personal\s+)?(?:data|information|info|account)\s+(?:deleted|erased|removed)\b`,
		`\b(?:close|deactivate|terminate)\s+my\s+account\b`,
		`\bgdpr\b|\bpipl\b|\bccpa\b|\bdsar\b|\bright\s+to\s+(?:be\s+forgotten|erasure|deletion)\b`,
		`\b(?:data|privacy)\s+(?:deletion|erasure|subject)\s+request\b|\bremove\s+me\s+from\s+your\s+(?:database|system|records)\b`,
	)},
	// A complaint named as such, or a report of the shop.
	{category: SensitiveComplaint, match: anyOf(
		`举报|维权`,
		`\b(?:formal|official)\s+complaint\b|\breport\s+(?:you|your\s+(?:company|store|shop|staff))\b`,
	)},
	// Any mention of complaining, but not "no complaints" or "不是投诉".
	// Asking for the complaints line (投诉电话, "complaints number") counts:
	// who asks for it means to complain, and a person handles it better.
	{category: SensitiveComplaint,
		match: anyOf(`投诉`, `\bcomplain(?:t|ts|ed|ing|s)?\b`),
		unless: anyOf(
			`(?:不是|不想|不会|不用|没有|没|不)要?投诉`,
			`\b(?:no|not|never|nothing\s+to|zero|without|can'?t|cannot)\s+(?:a\s+)?complain`,
		)},
}

// sensitiveMatter returns the category of a sensitive matter the text
// raises, or "". When several match, the first in priority order wins:
// safety, legal, payment_dispute, data_deletion, complaint. A negated
// mention still counts ("I'm not going to sue, but..."), except for a
// complaint denied in so many words: handing over is cheap, missing a
// lawyer or an injury is not.
func sensitiveMatter(text string) string {
	lower := strings.ToLower(strings.ReplaceAll(text, "’", "'"))
	hasHan, hasASCII := false, false
	for i := 0; i < len(lower); i++ {
		if c := lower[i]; c >= utf8.RuneSelf {
			hasHan = true
		} else if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			hasASCII = true
		}
	}
	for _, r := range sensitiveRules {
		if r.match.matchString(lower, hasHan, hasASCII) && !r.unless.matchString(lower, hasHan, hasASCII) {
			return r.category
		}
	}
	return ""
}
