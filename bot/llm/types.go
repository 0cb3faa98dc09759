// Package llm talks to an OpenAI-compatible chat-completions endpoint
// (OpenAI, DeepSeek, Qwen's compatible mode, vLLM, Ollama) through
// github.com/sashabaranov/go-openai: streamed replies, tool calls, and the
// failure handling a chat service needs (time-to-first-token and whole-reply
// timeouts, retries with backoff on 429 and 5xx, a circuit breaker).
//
// The types here are the package's own, so the bot does not depend on the
// wire library and tests can script a model without it.
package llm

import (
	"encoding/json"
	"errors"
	"time"
)

// Roles of chat messages.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one chat message sent to the model.
type Message struct {
	Role    string
	Content string
	// ToolCalls are the calls an assistant message asked for.
	ToolCalls []ToolCall
	// ToolCallID ties a tool message to the call it answers.
	ToolCallID string
}

// ToolCall is one function call the model asked for. Arguments is the raw
// JSON text the model produced: untrusted, validated by the tool.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// Tool is a function the model may call, described by a JSON schema.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// Request is one chat completion request.
type Request struct {
	Messages []Message
	Tools    []Tool
	// MaxTokens bounds the reply; zero means the client's default.
	MaxTokens int
}

// Usage counts the tokens of one call, as the endpoint reported them (or
// estimated when it reported none).
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Total is PromptTokens + CompletionTokens.
func (u Usage) Total() int { return u.PromptTokens + u.CompletionTokens }

// Response is the complete reply of one call.
type Response struct {
	Content      string
	ToolCalls    []ToolCall
	FinishReason string
	Usage        Usage
	// UsageEstimated is true when the endpoint reported no usage and Usage
	// was estimated from the text (see EstimateTokens).
	UsageEstimated bool
	// FirstToken is the time from sending the request to the first content
	// or tool-call token; Total the time to the end of the stream.
	FirstToken time.Duration
	Total      time.Duration
	// Attempts is how many HTTP requests the call took (1 without retries).
	Attempts int
}

// Errors returned by Client.Stream, wrapped with detail.
var (
	// ErrUnavailable: the circuit breaker is open after repeated failures;
	// no request was sent.
	ErrUnavailable = errors.New("llm: unavailable (circuit open)")
	// ErrTimeout: no first token within the first-token timeout, or the
	// whole reply took longer than the reply timeout.
	ErrTimeout = errors.New("llm: timeout")
	// ErrUpstream: the endpoint failed (HTTP error, broken stream) after the
	// allowed retries.
	ErrUpstream = errors.New("llm: upstream error")
)
