package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
	"github.com/xiaoer-cs/xiaoer/bot/pii"
)

// historyWindow is how many earlier messages a turn reads for its memory.
const historyWindow = 40

// HistoryReader reads a conversation's stored messages.
type HistoryReader interface {
	// MessagesAfter returns up to limit messages with seq > after, in order.
	MessagesAfter(ctx context.Context, conversationID string, after int64, limit int) ([]Message, error)
}

// memory returns the conversation before the message with seq upto as chat
// messages: the most recent turns verbatim (masked) within budget
// estimated tokens, and the older ones of the window summarised in one
// line, so the model keeps the thread without the whole transcript.
func memory(ctx context.Context, hr HistoryReader, conversationID string, upto int64, budget int, mask *pii.Masker) ([]llm.Message, error) {
	if upto <= 1 {
		return nil, nil
	}
	msgs, err := hr.MessagesAfter(ctx, conversationID, max(0, upto-1-historyWindow), historyWindow)
	if err != nil {
		return nil, fmt.Errorf("read conversation history: %w", err)
	}
	var kept []llm.Message
	used := 0
	cut := -1 // index of the newest message that did not fit
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Seq >= upto {
			continue
		}
		var lm llm.Message
		switch m.Role {
		case RoleShopper:
			lm = llm.Message{Role: llm.RoleUser, Content: m.Text}
		case RoleBot:
			lm = llm.Message{Role: llm.RoleAssistant, Content: m.Text}
		case RoleAgent:
			lm = llm.Message{Role: llm.RoleAssistant, Content: "(a human agent wrote) " + m.Text}
		default:
			continue // system notices say nothing the model needs
		}
		cost := estimateTokens(lm.Content) + 4
		if used+cost > budget {
			cut = i
			break
		}
		used += cost
		lm.Content = mask.Mask(lm.Content)
		kept = append(kept, lm)
	}
	// kept is newest first.
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	if cut >= 0 {
		if s := summarise(msgs[:cut+1], max(budget/3, 100), mask); s != "" {
			kept = append([]llm.Message{{Role: llm.RoleSystem, Content: "EARLIER IN THIS CONVERSATION (summary, data): " + mask.Mask(s)}}, kept...)
		}
	}
	return kept, nil
}

// summarise is an extractive summary of older messages: what the shopper
// asked, in order, each question shortened, within about budget tokens.
//
// Each question is masked before it is shortened: a cut phone number or
// address would no longer be recognised.
func summarise(msgs []Message, budget int, mask *pii.Masker) string {
	var qs []string
	used := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role != RoleShopper {
			continue
		}
		q := shortenMasked(mask.Mask(oneLine(msgs[i].Text)), 80)
		c := estimateTokens(q) + 2
		if used+c > budget {
			break
		}
		used += c
		qs = append(qs, q)
	}
	if len(qs) == 0 {
		return ""
	}
	for i, j := 0, len(qs)-1; i < j; i, j = i+1, j-1 {
		qs[i], qs[j] = qs[j], qs[i]
	}
	return "the shopper asked: " + strings.Join(qs, " | ")
}

// shortenMasked cuts masked text to about n runes, never inside a
// placeholder.
func shortenMasked(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, '['); i >= 0 && !strings.Contains(cut[i:], "]") {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…"
}
