package bot

import (
	"regexp"
	"strings"
	"unicode"
)

// Intents recorded on bot messages.
const (
	IntentOrder     = "order"
	IntentFAQ       = "faq"
	IntentSmallTalk = "smalltalk"
	IntentUnsure    = "unsure"
	IntentHandoff   = "handoff"
)

// Handoff triggers recorded on the conversation.
const (
	TriggerButton = "shopper_button"
	TriggerWords  = "shopper_asked"
	// TriggerUnsure: two bot turns in a row without a confident answer.
	TriggerUnsure = "bot_unsure"
	// TriggerUpset: the shopper reads angry or distressed (moodOf).
	TriggerUpset = "shopper_upset"
	// TriggerSensitive prefixes a sensitive matter's category
	// (sensitiveMatter): "sensitive_legal", "sensitive_safety"...
	TriggerSensitive = "sensitive_"
	// TriggerTier: the shopper's member tier skips the bot (Config.DirectTiers).
	TriggerTier = "tier"
)

// detectLang returns "zh" when the text has Han characters, "en" when it has
// Latin letters and no Han, and fallback otherwise (digits, emoji...).
func detectLang(s, fallback string) string {
	latin := false
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return "zh"
		}
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			latin = true
		}
	}
	if latin {
		// A lone order number such as "XE123456" says nothing about language.
		if orderIDPattern.ReplaceAllString(s, "") != s && !hasWord(orderIDPattern.ReplaceAllString(s, "")) {
			return langOr(fallback)
		}
		return "en"
	}
	return langOr(fallback)
}

func hasWord(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// orderIDPattern matches what looks like an order number: a short letter
// prefix and at least 6 digits, or 10+ digits.
var orderIDPattern = regexp.MustCompile(`\b(?:[A-Za-z]{1,4}\d{6,20}|\d{10,20})\b`)

// mobilePattern is a mainland mobile number, which is not an order number.
var mobilePattern = regexp.MustCompile(`^1[3-9]\d{9}$`)

// orderIDs returns the distinct order numbers in s (compared without
// regard to case), as typed, at most 3.
func orderIDs(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range orderIDPattern.FindAllString(s, -1) {
		if mobilePattern.MatchString(m) {
			continue
		}
		key := strings.ToUpper(m)
		if !seen[key] && len(out) < 3 {
			seen[key] = true
			out = append(out, m)
		}
	}
	return out
}

var (
	zhOrderNouns  = []string{"订单", "快递", "包裹", "物流", "货", "单号"}
	zhOrderStatus = []string{"到哪", "在哪", "哪里了", "什么时候到", "何时到", "几时到", "还没到", "没收到", "还没收到",
		"发货了吗", "发货了没", "发了吗", "发了没", "发货没", "状态", "进度", "到了吗", "怎么样了", "查一下", "查查",
		"帮我查", "查询", "送到", "签收了"}
	zhOrderDirect = []string{"我的订单", "我的快递", "我的包裹", "查订单", "订单查询", "我买的东西", "我的货"}

	enOrderStatus = regexp.MustCompile(`(?i)\b(where('?s| is| are)? my|track(ing)? (my|the)|status of my|(order|package|parcel|delivery|shipment) status|has my .*(ship|arriv|deliver)|when will my .*(arrive|come|ship|deliver))`)
	enOrderDirect = regexp.MustCompile(`(?i)\bmy (orders?|packages?|parcels?|deliver(y|ies)|shipments?|purchases?)\b`)
)

// orderIntent says whether the text asks about the shopper's own orders.
// strong is true when it asks for status in so many words; a bare "my
// order" is weak, and a confident FAQ answer wins over it.
func orderIntent(s string) (asked, strong bool) {
	if len(orderIDs(s)) > 0 {
		return true, true
	}
	if enOrderStatus.MatchString(s) {
		return true, true
	}
	for _, n := range zhOrderNouns {
		if strings.Contains(s, n) {
			for _, st := range zhOrderStatus {
				if strings.Contains(s, st) {
					return true, true
				}
			}
		}
	}
	for _, d := range zhOrderDirect {
		if strings.Contains(s, d) {
			return true, false
		}
	}
	return enOrderDirect.MatchString(s), false
}

var (
	zhHandoff = []string{"转人工", "人工客服", "人工服务", "找客服", "真人", "人工", "找个人", "客服小姐姐", "活人"}
	enHandoff = regexp.MustCompile(`(?i)\b(human|real person|live (agent|person|chat)|(talk|speak|chat) (to|with) (a |an |the )?(person|agent|someone|representative|staff)|customer service (agent|representative)|representative|operator)\b`)
)

// handoffAsked says whether the shopper asked for a person in words.
func handoffAsked(s string) bool {
	s = strings.ReplaceAll(s, "人工智能", "") // "AI" is not a request for a person
	for _, w := range zhHandoff {
		if strings.Contains(s, w) {
			return true
		}
	}
	if enHandoff.MatchString(s) {
		return true
	}
	// "agent" alone, or in a short message ("agent please"), asks for one.
	t := strings.ToLower(strings.TrimSpace(s))
	return len(strings.Fields(t)) <= 3 && strings.Contains(t, "agent")
}

// Small talk kinds.
const (
	talkNone     = ""
	talkGreeting = "greeting"
	talkThanks   = "thanks"
	talkBye      = "bye"
)

var smallTalkWords = map[string][]string{
	talkGreeting: {"你好", "您好", "在吗", "在不在", "哈喽", "嗨", "早上好", "下午好", "晚上好", "有人吗", "hello", "hi", "hey",
		"good morning", "good afternoon", "good evening", "anyone there", "hiya", "howdy", "亲"},
	talkThanks: {"谢谢", "多谢", "感谢", "谢了", "好的谢谢", "thanks", "thank you", "thx", "ty", "cheers", "appreciate it", "many thanks", "great thanks", "ok thanks"},
	talkBye:    {"再见", "拜拜", "没有了", "没事了", "就这些", "bye", "goodbye", "see you", "that's all", "that is all", "nothing else", "no more questions"},
}

// smallTalk returns the kind of small talk the whole text is, or talkNone
// when it carries a question beyond greetings and thanks.
func smallTalk(s string) string {
	t := strings.ToLower(s)
	t = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return ' '
		}
		return r
	}, t)
	t = strings.Join(strings.Fields(t), " ")
	if t == "" {
		return talkNone
	}
	found := talkNone
	// Remove every small-talk phrase (longest first within each kind is not
	// needed: phrases do not overlap harmfully); what remains must be filler.
	for _, kind := range []string{talkThanks, talkBye, talkGreeting} {
		for _, w := range smallTalkWords[kind] {
			if containsPhrase(t, w) {
				t = strings.TrimSpace(replacePhrase(t, w))
				if found == talkNone {
					found = kind
				}
			}
		}
	}
	for _, filler := range []string{"啊", "呀", "哦", "嗯", "好的", "好", "ok", "okay", "so much", "very much", "a lot", "you", "there", "xiaoer", "小二", "呢", "吗", "哈", "了"} {
		t = strings.TrimSpace(replacePhrase(t, filler))
	}
	if strings.TrimSpace(t) != "" {
		return talkNone
	}
	return found
}

// containsPhrase reports whether w occurs in t; Latin phrases must stand as
// whole words ("hi" is not in "shipping").
func containsPhrase(t, w string) bool {
	return phraseIndex(t, w) >= 0
}

func replacePhrase(t, w string) string {
	for {
		i := phraseIndex(t, w)
		if i < 0 {
			return t
		}
		t = t[:i] + " " + t[i+len(w):]
	}
}

func phraseIndex(t, w string) int {
	latin := w != "" && w[0] < unicode.MaxASCII
	from := 0
	for {
		i := strings.Index(t[from:], w)
		if i < 0 {
			return -1
		}
		i += from
		if !latin {
			return i
		}
		before := i == 0 || !isWordByte(t[i-1])
		after := i+len(w) == len(t) || !isWordByte(t[i+len(w)])
		if before && after {
			return i
		}
		from = i + 1
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '\''
}
