package bot

import (
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMoodOf(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		score int
		cues  []string // nil: not checked
	}{
		// Calm messages score 0.
		{"calm zh order", "我的订单到哪了", 0, []string{}},
		{"calm en order", "Where is my order?", 0, []string{}},
		{"calm thanks", "Thanks!", 0, []string{}},
		{"calm ok", "OK!", 0, []string{}},
		{"calm greeting", "你好，在吗？", 0, nil},
		{"calm shipping", "How long does shipping take?", 0, nil},
		{"calm polite zh", "麻烦帮我查一下快递", 0, nil},
		{"calm bin bags", "垃圾袋还有货吗", 0, nil},
		{"calm spam sms", "怎么退订垃圾短信", 0, nil},
		{"calm no hurry", "不着急，慢慢来", 0, nil},
		{"calm worst case", "What is the worst case delivery time?", 0, nil},
		{"calm vacuum", "Does this vacuum suck up dust? It sucks up hair well", 0, nil},
		{"calm stomach", "Is this tea good for an upset stomach?", 0, nil},
		{"calm questions", "Where is it???", 0, nil},
		{"calm order number", "Order XE2026051388 via DHL", 0, nil},

		// Chinese lexicon, each weight.
		{"zh mild", "有点失望", 1, []string{"lexicon:失望"}},
		{"zh mild 不太满意", "不太满意", 1, []string{"lexicon:不太满意"}},
		{"zh strong", "我很生气", 2, []string{"lexicon:生气"}},
		{"zh strong 垃圾", "垃圾", 2, []string{"lexicon:垃圾"}},
		{"zh strong 什么破", "什么破服务", 2, []string{"lexicon:什么破"}},
		{"zh strong 离谱", "这也太离谱了吧", 3, []string{"lexicon:离谱", "intensifier:太"}},
		{"zh severe 气死", "气死我了", 3, []string{"lexicon:气死"}},
		{"zh severe 骗子", "你们就是骗子", 3, []string{"lexicon:骗子"}},
		{"zh severe 受够了", "我受够了", 3, []string{"lexicon:受够了"}},
		{"zh severe 忍无可忍", "忍无可忍", 3, []string{"lexicon:忍无可忍"}},
		{"zh profanity longest", "他妈的", 3, []string{"lexicon:他妈的"}},
		{"zh profanity mild", "卧槽", 2, []string{"lexicon:卧槽"}},

		// Chinese intensifiers and negation.
		{"zh intensifier 太", "太失望了", 2, []string{"lexicon:失望", "intensifier:太"}},
		{"zh intensifier 非常", "非常不满意", 2, []string{"lexicon:不满意", "intensifier:非常"}},
		{"zh intensifier 真的", "真的太差了", 3, []string{"lexicon:太差", "intensifier:真的"}},
		{"zh intensifier 极其", "极其失望", 2, nil},
		{"zh negation", "我不生气", 0, []string{}},
		{"zh negation 没有", "没有失望", 0, nil},
		{"zh negation 别", "别生气", 0, nil},
		{"zh negation 不是", "我不是不满意", 0, nil},
		{"zh negation over intensifier", "我不太生气", 0, nil},
		{"zh negation spares profanity", "不他妈的", 3, nil},
		{"zh negation stops at punctuation", "不，生气", 2, nil},

		// English lexicon, each weight, word boundaries, case.
		{"en mild", "I'm a bit frustrated", 1, []string{"lexicon:frustrated"}},
		{"en mild disappointed", "Disappointed with this", 1, nil},
		{"en mild not happy", "I’m not happy", 1, []string{"lexicon:not happy"}},
		{"en strong", "This is ridiculous", 2, []string{"lexicon:ridiculous"}},
		{"en strong unacceptable", "Unacceptable.", 2, nil},
		{"en strong worst", "the worst service ever", 2, []string{"lexicon:worst"}},
		{"en strong hyphen", "what a rip-off", 2, []string{"lexicon:rip off"}},
		{"en strong sick of", "I'm sick of waiting", 2, []string{"lexicon:sick of"}},
		{"en severe", "I'm furious", 3, []string{"lexicon:furious"}},
		{"en severe scam", "this is a scam", 3, []string{"lexicon:scam"}},
		{"en severe fed up", "I am fed up", 3, []string{"lexicon:fed up"}},
		{"en severe sick and tired", "sick and tired of this", 3, []string{"lexicon:sick and tired"}},
		{"en wtf", "wtf", 3, []string{"lexicon:wtf"}},
		{"en WTF case-insensitive", "WTF", 3, []string{"lexicon:wtf"}},
		{"en scampi", "Is the scampi fresh?", 0, nil},
		{"en damn", "damn", 1, []string{"lexicon:damn"}},
		{"en damnation", "damnation", 0, nil},
		{"en shit", "this is shit", 2, nil},
		{"en profanity sums", "this is fucking useless", 5, []string{"lexicon:fucking", "lexicon:useless"}},
		{"en repeated once", "useless, useless, useless", 2, []string{"lexicon:useless"}},

		// English intensifiers and negation.
		{"en intensifier really", "I'm really angry", 3, []string{"lexicon:angry", "intensifier:really"}},
		{"en intensifier very", "very disappointed", 2, []string{"lexicon:disappointed", "intensifier:very"}},
		{"en intensifier so", "so fed up", 4, nil},
		{"en intensifier extremely", "extremely frustrated", 2, nil},
		{"en negation", "I am not angry", 0, []string{}},
		{"en negation disappointed", "not disappointed at all", 0, nil},
		{"en negation contraction", "I'm not angry, I wasn't disappointed, it isn't terrible", 0, nil},
		{"en negation curly", "it isn’t terrible", 0, nil},
		{"en negation over intensifier", "not very angry", 0, nil},
		{"en negation at all", "I'm not at all angry", 0, nil},
		{"en negation article", "it's not a scam, right?", 0, nil},
		{"en negation spares profanity", "I'm not fucking happy", 3, []string{"lexicon:fucking"}},
		{"en negation stops at punctuation", "No. Angry.", 2, nil},

		// Exclamation marks.
		{"exclaim 2 ascii", "Thanks!!", 1, []string{"exclaim"}},
		{"exclaim 2 full-width", "快点！！", 1, []string{"exclaim"}},
		{"exclaim ?!", "真的吗？！", 1, []string{"exclaim"}},
		{"exclaim 3", "Where is it!!!", 2, []string{"exclaim"}},
		{"exclaim 3 full-width", "快点！！！", 2, nil},
		{"exclaim mixed", "what?!?!", 2, nil},
		{"exclaim spaced", "hello ! !", 0, nil},
		{"exclaim with word", "太垃圾了！！！", 5, []string{"lexicon:垃圾", "intensifier:太", "exclaim"}},

		// All caps.
		{"caps", "WHERE IS MY ORDER", 2, []string{"caps"}},
		{"caps with order number", "WHERE IS MY ORDER XE2026051388", 2, []string{"caps"}},
		{"caps acronyms only", "DHL SF VIP ID", 0, nil},
		{"caps acronyms in text", "my DHL VIP ID is missing", 0, nil},
		{"caps acronyms and number", "DHL VIP ID XE2026051388 ok", 0, nil},
		{"caps too few words", "I NEED IT", 0, nil},
		{"caps title case", "Where Is My Order", 0, nil},
		{"caps mostly lower", "WHERE is my order", 0, nil},
		{"caps below 70%", "THIS IS useless", 2, []string{"lexicon:useless"}},
		{"caps and exclaim", "WHY IS MY ORDER LATE!!!", 4, []string{"exclaim", "caps"}},
		{"caps with lexicon", "THIS IS A SCAM", 5, []string{"lexicon:scam", "caps"}},

		// Both languages in one message.
		{"mixed", "垃圾 service, terrible!!", 5, []string{"lexicon:垃圾", "lexicon:terrible", "exclaim"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := moodOf(tt.text)
			if got.Score != tt.score {
				t.Errorf("moodOf(%q).Score = %d, want %d (cues %q)", tt.text, got.Score, tt.score, got.Cues)
			}
			if tt.cues != nil && !slices.Equal(got.Cues, tt.cues) && !(len(got.Cues) == 0 && len(tt.cues) == 0) {
				t.Errorf("moodOf(%q).Cues = %q, want %q", tt.text, got.Cues, tt.cues)
			}
		})
	}
}

func TestMoodUpset(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"气死我了", true},
		{"太生气了", true},
		{"I'm really angry", true},
		{"WHY IS MY ORDER LATE!!!", true},
		{"this is a scam", true},
		{"我很生气", false},
		{"very disappointed", false},
		{"Where is my order?", false},
		{"Thanks!!", false},
	}
	for _, tt := range tests {
		if got := moodOf(tt.text).Upset(); got != tt.want {
			t.Errorf("moodOf(%q).Upset() = %v, want %v (score %d)", tt.text, got, tt.want, moodOf(tt.text).Score)
		}
	}
	if (Mood{Score: UpsetThreshold - 1}).Upset() || !(Mood{Score: UpsetThreshold}).Upset() {
		t.Errorf("Upset() does not switch at UpsetThreshold = %d", UpsetThreshold)
	}
}

// TestMoodLexiconDocumented keeps docs/handoff-triggers.md in step with the
// lexicons: every term and its weight must be in the doc's tables.
func TestMoodLexiconDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/handoff-triggers.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range slices.Concat(zhMoodLexicon, enMoodLexicon) {
		if !strings.Contains(string(doc), term.text) {
			t.Errorf("docs/handoff-triggers.md does not list %q (weight %d)", term.text, term.weight)
		}
	}
}

func BenchmarkMoodOf(b *testing.B) {
	msg := "你好，我上周买的电热水壶到现在还没收到，物流信息三天没有更新了，客服一直不回复，真的太失望了！！" +
		"Order XE2026051388 was supposed to arrive on Monday. I have asked twice and nobody answers, this is really frustrating. " +
		"请尽快帮我处理，谢谢"
	for utf8.RuneCountInString(msg) < 200 {
		msg += "。"
	}
	msg = string([]rune(msg)[:200])
	b.ReportAllocs()
	for b.Loop() {
		moodOf(msg)
	}
}
