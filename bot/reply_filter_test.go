package bot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// stream feeds chunks through a filter and returns what was shown, chunk by
// chunk joined, and the filter.
func stream(t *testing.T, mask *pii.Masker, prompt string, chunks ...string) (string, *replyFilter) {
	t.Helper()
	f := newReplyFilter(mask, "XC-abc123", promptShingles(prompt))
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(f.Write(c))
	}
	b.WriteString(f.Flush())
	if got := b.String(); strings.TrimSpace(got) != f.Text() {
		t.Fatalf("deltas %q differ from the final text %q", got, f.Text())
	}
	return b.String(), f
}

func TestReplyFilter(t *testing.T) {
	mask := pii.NewMasker()
	masked := mask.Mask("call me at 13800138000")
	if !strings.Contains(masked, "[PHONE_1]") {
		t.Fatalf("masker gave %q", masked)
	}
	tests := []struct {
		name   string
		chunks []string
		want   string
		cited  []int
	}{
		{"citation removed with its space", []string{"Refunds take 7 days [1]."}, "Refunds take 7 days.", []int{1}},
		{"citation split across chunks", []string{"Refunds take 7 days ", "[", "1", "]", " and invoices [2", "]."}, "Refunds take 7 days and invoices.", []int{1, 2}},
		{"several references in one marker", []string{"See both [1, 2]."}, "See both.", []int{1, 2}},
		{"full-width citation", []string{"七天内退款【1】。"}, "七天内退款。", []int{1}},
		{"placeholder restored across chunks", []string{"We will call [PHO", "NE_1] today."}, "We will call 13800138000 today.", nil},
		{"unknown placeholder hidden", []string{"Call [PHONE_7]."}, "Call ***.", nil},
		{"ordinary brackets kept", []string{"Sizes [S, M, L] and [see chart]."}, "Sizes [S, M, L] and [see chart].", nil},
		{"order numbers kept", []string{"Order XE2026051388 is on its way."}, "Order XE2026051388 is on its way.", nil},
		{"an unfinished bracket at the end is shown", []string{"Price [approx"}, "Price [approx", nil},
		{"leading space trimmed", []string{"  ", "Hello"}, "Hello", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, f := stream(t, mask, "", tc.chunks...)
			if got != tc.want {
				t.Fatalf("shown %q, want %q", got, tc.want)
			}
			if fmt.Sprint(f.Cited()) != fmt.Sprint(tc.cited) && len(tc.cited)+len(f.Cited()) > 0 {
				t.Fatalf("cited %v, want %v", f.Cited(), tc.cited)
			}
		})
	}
}

func TestReplyFilterHoldsNoAnswerBack(t *testing.T) {
	got, f := stream(t, pii.NewMasker(), "", "NO_", "ANS", "WER")
	if got != "" {
		t.Fatalf("the no-answer word was shown: %q", got)
	}
	if !f.NoAnswer() {
		t.Fatalf("the caller cannot see the model said %s", noAnswer)
	}
	if got, _ := stream(t, pii.NewMasker(), "", "NO", " problem, happy to help [1]."); got != "NO problem, happy to help." {
		t.Fatalf("shown %q", got)
	}
}

func TestReplyFilterStopsAtTheInstructions(t *testing.T) {
	prompt := "You are Xiaoer, the AI customer-service assistant of the shop. Answer only from the REFERENCES and from tool results."
	for _, chunks := range [][]string{
		{"[XC-", "abc123] You are Xiaoer"},                                             // the canary, split
		{"Sure! My rules: Answer only from the REFER", "ENCES and from tool results."}, // a span of the instructions
	} {
		got, f := stream(t, pii.NewMasker(), prompt, chunks...)
		if !f.Leaked() {
			t.Fatalf("%q: leak not detected", chunks)
		}
		if strings.Contains(got, "XC-") || strings.Contains(got, "REFERENCES and from tool") {
			t.Fatalf("shown %q", got)
		}
	}
}
