package bot

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// Properties of the streaming reply filter and the memory.

const reviewCanary = "XC-0123456789ab"

func reviewFilter() *replyFilter {
	m := pii.NewMasker()
	m.Known(pii.KindPhone, "13800138000")
	m.Mask("call 13800138000") // issues [PHONE_1]
	return newReplyFilter(m, reviewCanary, nil)
}

// feed runs chunks through a fresh filter and returns what was shown, in
// order, and the filter.
func reviewFeed(chunks []string) (string, *replyFilter) {
	f := reviewFilter()
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(f.Write(c))
	}
	b.WriteString(f.Flush())
	return b.String(), f
}

// splitRunes cuts s at random rune boundaries.
func splitRunes(r *rand.Rand, s string) []string {
	rs := []rune(s)
	var out []string
	for len(rs) > 0 {
		n := 1 + r.IntN(min(len(rs), 6))
		out = append(out, string(rs[:n]))
		rs = rs[n:]
	}
	return out
}

var reviewPieces = []string{"Hello", "退款", " ", "  ", "\n", "[1]", "[12]", "【2】", "[1, 2]", "[PHONE_1]", "[EMAIL_9]",
	"!", "![alt](http://e.x/a)", "[", "]", "(", ")", "NO_ANSWER", "X", "XC-", "http://e.x/?q=", "www.", "[A]", ".", "a"}

// TestReplyFilterSameWhateverTheChunks: the same model text, however the
// stream chunks it, must show the same text, cite the same references and
// reach the same NO_ANSWER verdict.
func TestReplyFilterSameWhateverTheChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fails := 0
	for iter := 0; iter < 20000 && fails < 5; iter++ {
		var sb strings.Builder
		for n := 1 + r.IntN(8); n > 0; n-- {
			sb.WriteString(reviewPieces[r.IntN(len(reviewPieces))])
		}
		text := sb.String()
		want, wf := reviewFeed([]string{text})
		for k := 0; k < 20; k++ {
			chunks := splitRunes(r, text)
			got, gf := reviewFeed(chunks)
			// Spaces around a dropped image or citation may fall
			// differently with the split: compare without them.
			if strings.Join(strings.Fields(got), "") != strings.Join(strings.Fields(want), "") || gf.NoAnswer() != wf.NoAnswer() || len(gf.Cited()) != len(wf.Cited()) {
				t.Errorf("text %q\n whole:  shown %q noAnswer %v cited %v\n chunks %q:\n         shown %q noAnswer %v cited %v",
					text, want, wf.NoAnswer(), wf.Cited(), chunks, got, gf.NoAnswer(), gf.Cited())
				fails++
				break
			}
		}
	}
}

// TestReplyFilterDeltasJoinToTheFinalText: what streamed is what is stored.
func TestReplyFilterDeltasJoinToTheFinalText(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fails := 0
	for iter := 0; iter < 20000 && fails < 5; iter++ {
		var sb strings.Builder
		for n := 1 + r.IntN(8); n > 0; n-- {
			sb.WriteString(reviewPieces[r.IntN(len(reviewPieces))])
		}
		got, f := reviewFeed(splitRunes(r, sb.String()))
		if f.NoAnswer() || f.Leaked() || strings.HasPrefix(f.Text(), noAnswer) {
			continue // replaced by the caller
		}
		if strings.TrimSpace(got) != f.Text() {
			t.Errorf("text %q: deltas %q, final %q", sb.String(), got, f.Text())
			fails++
		}
	}
}

// TestReplyFilterHoldsNoAnswerAfterWhitespace: "NO_ANSWER" is held
// back only when it is the very first thing in the buffer; a leading
// newline (common with some models) streams it to the shopper.
func TestReplyFilterHoldsNoAnswerAfterWhitespace(t *testing.T) {
	shown, _ := reviewFeed([]string{"\nNO_ANSWER"})
	if strings.Contains(shown, "NO_ANSWER") {
		t.Errorf("delta %q shows the NO_ANSWER sentinel to the shopper", shown)
	}
}

// TestReplyFilterNoAnswerPrefixShowsNothing: once the reply starts with
// NO_ANSWER everything after it is held, and Flush emits it raw: citation
// markers, placeholders and images are not processed.
func TestReplyFilterNoAnswerPrefixShowsNothing(t *testing.T) {
	shown, _ := reviewFeed([]string{"NO_ANSWER", " but see [1]. ![x](http://evil.example/a)"})
	if strings.Contains(shown, "[1]") || strings.Contains(shown, "![x]") {
		t.Errorf("flushed delta %q: citations and an image went out unfiltered", shown)
	}
}

// TestReplyFilterRestoresNoDataIntoURLsOrImages: a reference-style definition with a
// scheme-relative URL is not seen as a URL, so the placeholder is restored
// into it; a reference-style image is not stripped either.
func TestReplyFilterRestoresNoDataIntoURLsOrImages(t *testing.T) {
	for _, text := range []string{
		"![logo][r]\n\n[r]: //evil.example/p?q=[PHONE_1]",
		"see //evil.example/p?q=[PHONE_1]",
		"![[PHONE_1]](http://evil.example/a.png)",
	} {
		shown, _ := reviewFeed([]string{text})
		if strings.Contains(shown, "13800138000") && strings.Contains(shown, "evil.example") {
			t.Errorf("%q shown as %q: the shopper's phone next to / inside an outbound URL or image", text, shown)
		}
	}
}

type reviewHistory []Message

func (h reviewHistory) MessagesAfter(ctx context.Context, conversationID string, after int64, limit int) ([]Message, error) {
	var out []Message
	for _, m := range h {
		if m.Seq > after && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

// TestMemorySummaryMasksBeforeShortening: summarise truncates each
// old question to 80 runes BEFORE masking, so a phone number, bank card or
// the shopper's own address cut by the truncation no longer matches any
// pattern nor the Known value, and its prefix reaches the model unmasked.
func TestMemorySummaryMasksBeforeShortening(t *testing.T) {
	addr := "上海市浦东新区世纪大道100号2号楼1203室"
	pad := strings.Repeat("我", 70)
	var h reviewHistory
	h = append(h, Message{Seq: 1, Role: RoleShopper, Text: pad + "电话13800138000"})
	h = append(h, Message{Seq: 2, Role: RoleShopper, Text: strings.Repeat("我", 66) + "寄到" + addr})
	for i := int64(3); i < 30; i++ {
		h = append(h, Message{Seq: i, Role: RoleBot, Text: strings.Repeat("好", 200)})
	}
	m := pii.NewMasker()
	m.Known(pii.KindPhone, "13800138000")
	m.Known(pii.KindAddress, addr)
	msgs, err := memory(context.Background(), h, "c", 31, 1200, m)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, lm := range msgs {
		all.WriteString(lm.Content)
	}
	for _, leak := range []string{"1380013", "世纪大道"} {
		if strings.Contains(all.String(), leak) {
			t.Errorf("the model is sent %q unmasked in the summary: %q", leak, all.String())
		}
	}
}
