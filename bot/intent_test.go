package bot

import (
	"slices"
	"testing"
)

func TestOrderIntent(t *testing.T) {
	tests := []struct {
		text          string
		asked, strong bool
	}{
		{"我的订单到哪了", true, true},
		{"订单 XE2026112001 的物流", true, true},
		{"Where is my order?", true, true},
		{"where's my package", true, true},
		{"Can you track my parcel please", true, true},
		{"XE2026112001", true, true},
		{"快递怎么还没到", true, true},
		{"我的订单", true, false},
		{"I want to see my orders", true, false},
		{"How long does shipping take?", false, false},
		{"快递几天能到", false, false},
		{"如何申请七天无理由退货", false, false},
		{"Do you ship to Canada?", false, false},
	}
	for _, tt := range tests {
		asked, strong := orderIntent(tt.text)
		if asked != tt.asked || strong != tt.strong {
			t.Errorf("orderIntent(%q) = %v, %v; want %v, %v", tt.text, asked, strong, tt.asked, tt.strong)
		}
	}
}

func TestOrderIDs(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"订单XE2026112001的物流", []string{"XE2026112001"}},
		{"order xe2026112001 and XE2026112001", []string{"xe2026112001"}},
		{"orders 1234567890123, AB123456", []string{"1234567890123", "AB123456"}},
		{"call me at 12345", nil},
		{"我的手机号是13800001234", nil},
		{"size 42 shoes", nil},
	}
	for _, tt := range tests {
		if got := orderIDs(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("orderIDs(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestSmallTalk(t *testing.T) {
	tests := []struct{ text, want string }{
		{"你好", talkGreeting},
		{"您好，在吗？", talkGreeting},
		{"Hello!", talkGreeting},
		{"hi there", talkGreeting},
		{"谢谢", talkThanks},
		{"Thank you so much!", talkThanks},
		{"ok thanks, bye", talkThanks},
		{"再见", talkBye},
		{"你好，请问怎么退货", talkNone},
		{"hi, how long does shipping take?", talkNone},
		{"shipping", talkNone},
		{"history of my orders", talkNone},
		{"", talkNone},
	}
	for _, tt := range tests {
		if got := smallTalk(tt.text); got != tt.want {
			t.Errorf("smallTalk(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestDetectLang(t *testing.T) {
	tests := []struct{ text, fallback, want string }{
		{"我的订单到哪了", "en", "zh"},
		{"How long does shipping take?", "zh", "en"},
		{"Where is 订单 XE2026112001", "en", "zh"},
		{"XE2026112001", "en", "en"},
		{"XE2026112001", "zh", "zh"},
		{"12345 ???", "", "zh"},
		{"👍", "en", "en"},
	}
	for _, tt := range tests {
		if got := detectLang(tt.text, tt.fallback); got != tt.want {
			t.Errorf("detectLang(%q, %q) = %q, want %q", tt.text, tt.fallback, got, tt.want)
		}
	}
}

func TestHandoffAsked(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"转人工", true},
		{"我要找客服", true},
		{"I want to talk to a person", true},
		{"agent please", true},
		{"Can I speak to a human?", true},
		{"你是人工智能吗", false},
		{"How do I become a sales agent for your brand and earn commission?", false},
		{"How long does shipping take?", false},
	}
	for _, tt := range tests {
		if got := handoffAsked(tt.text); got != tt.want {
			t.Errorf("handoffAsked(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}
