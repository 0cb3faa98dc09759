package llm

import (
	"unicode"

	openai "github.com/sashabaranov/go-openai"
)

// EstimateTokens roughly counts the tokens of s for an endpoint that reports
// none: one per CJK character (Han, kana, Hangul) and one per four other
// bytes, rounded up. Real tokenizers differ by model; this is for cost
// figures and budgets, not for limits that must hold exactly.
func EstimateTokens(s string) int {
	cjk, other := 0, 0
	for _, r := range s {
		if isCJK(r) {
			cjk++
		} else {
			other += len(string(r))
		}
	}
	return cjk + (other+3)/4
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303F) || // CJK punctuation
		(r >= 0xFF00 && r <= 0xFFEF) // full-width forms
}

// perMessageTokens approximates the role and separator tokens each chat
// message costs on top of its content.
const perMessageTokens = 4

// estimatePrompt estimates the prompt tokens of a request: the messages,
// their tool calls and the tool schemas.
func estimatePrompt(w openai.ChatCompletionRequest) int {
	n := 0
	for _, m := range w.Messages {
		n += perMessageTokens + EstimateTokens(m.Content)
		for _, tc := range m.ToolCalls {
			n += EstimateTokens(tc.Function.Name) + EstimateTokens(tc.Function.Arguments)
		}
	}
	for _, t := range w.Tools {
		if t.Function == nil {
			continue
		}
		n += EstimateTokens(t.Function.Name) + EstimateTokens(t.Function.Description)
		if p, ok := t.Function.Parameters.([]byte); ok {
			n += EstimateTokens(string(p))
		}
	}
	return n
}

// estimateCalls estimates the completion tokens of tool calls.
func estimateCalls(calls []ToolCall) int {
	n := 0
	for _, tc := range calls {
		n += EstimateTokens(tc.Name) + EstimateTokens(tc.Arguments)
	}
	return n
}
