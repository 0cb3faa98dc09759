package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
)

// Model is the LLM the bot phrases answers with (bot/llm.Client): one
// streamed chat completion per call, onDelta called with each chunk of
// text as it arrives.
type Model interface {
	Stream(ctx context.Context, req llm.Request, onDelta func(text string)) (llm.Response, error)
}

// coster is implemented by models that can estimate what a call cost.
type coster interface {
	Cost(u llm.Usage) float64
}

// UsageLedger records the model's token use, for the per-conversation and
// per-day budgets and the figures per conversation.
type UsageLedger interface {
	// AddUsage adds one turn's use to the conversation and the day (a
	// YYYY-MM-DD date in the shop's zone). first is true when this is the
	// conversation's first use of the model.
	AddUsage(ctx context.Context, conversationID, day string, u llm.Usage, cost float64) (first bool, err error)
	// UsageOf returns the tokens that count against the budgets.
	UsageOf(ctx context.Context, conversationID, day string) (TokenUse, error)
}

// TokenUse is the model's use the budgets count, in tokens.
type TokenUse struct {
	Conversation int64 // the conversation's, on all days
	OwnerToday   int64 // its owner's (the shopper's or visitor's), today
	AllToday     int64 // everyone's, today
}

// ModelMetrics observes the model's use (bot/llm.Metrics).
type ModelMetrics interface {
	ObserveTurn(u llm.Usage, cost float64)
	CountConversation()
	// ObserveReply records the time from the start of a turn to the first
	// text shown and to the complete reply, and whether it fell back.
	ObserveReply(firstText, total time.Duration, fallback bool)
}

// LLMConfig tunes answers phrased by a model. Zero values mean the
// documented defaults.
type LLMConfig struct {
	// ShopName names the shop in the instructions; zero means "the shop".
	ShopName string
	// MaxToolCalls bounds the tool calls executed in one turn; zero means 5.
	MaxToolCalls int
	// References is how many knowledge entries each turn retrieves for the
	// model; zero means 4.
	References int
	// MemoryTokens bounds the earlier turns sent with each question
	// (estimated tokens); older turns are summarised in one line. Zero
	// means 1200.
	MemoryTokens int
	// FirstTokenTimeout: a model that shows nothing (no text, no tool
	// call) this long after the turn started is given up for the
	// retrieval-only answer; zero means 8 s.
	FirstTokenTimeout time.Duration
	// StallTimeout: a model that stops streaming this long is given up;
	// zero means 8 s.
	StallTimeout time.Duration
	// ReplyTimeout bounds the whole model part of a turn, tool calls
	// included; zero means 40 s.
	ReplyTimeout time.Duration
	// ConversationTokens and DailyTokens are the token budgets per
	// conversation and per day (all conversations); over budget, turns are
	// answered without the model. Zero means 60,000 and 5,000,000;
	// negative means no limit.
	ConversationTokens int64
	DailyTokens        int64
	// ShopperDailyTokens is the budget of one shopper (or visitor) per day,
	// across their conversations; zero means 100,000, negative no limit.
	ShopperDailyTokens int64
	// MaxInputRunes: longer shopper input never reaches the model; zero
	// means 2,000.
	MaxInputRunes int
}

func (c LLMConfig) withDefaults() LLMConfig {
	if c.ShopName == "" {
		c.ShopName = "the shop"
	}
	if c.MaxToolCalls <= 0 {
		c.MaxToolCalls = 5
	}
	if c.References <= 0 {
		c.References = 4
	}
	if c.MemoryTokens <= 0 {
		c.MemoryTokens = 1200
	}
	if c.FirstTokenTimeout <= 0 {
		c.FirstTokenTimeout = 8 * time.Second
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 8 * time.Second
	}
	if c.ReplyTimeout <= 0 {
		c.ReplyTimeout = 40 * time.Second
	}
	if c.ConversationTokens == 0 {
		c.ConversationTokens = 60_000
	}
	if c.ShopperDailyTokens == 0 {
		c.ShopperDailyTokens = 100_000
	}
	if c.DailyTokens == 0 {
		c.DailyTokens = 5_000_000
	}
	if c.MaxInputRunes <= 0 {
		c.MaxInputRunes = 2000
	}
	return c
}

// modelDeps is what a bot with a model holds beyond the plain bot.
type modelDeps struct {
	cfg     LLMConfig
	model   Model
	usage   UsageLedger
	metrics ModelMetrics
	// canary is a random marker in the instructions: a reply that contains
	// it is repeating the instructions, and is never shown.
	canary string
	// instructions is the system prompt's template: the instructions
	// constant, which only tests replace.
	instructions string

	shingleOnce sync.Once
	shingleSets map[string]map[string]bool
}

func newModelDeps(cfg LLMConfig, deps Deps) *modelDeps {
	b := make([]byte, 6)
	rand.Read(b) // never fails (crypto/rand documents it)
	return &modelDeps{cfg: cfg.withDefaults(), model: deps.Model, usage: deps.Usage, metrics: deps.Metrics,
		canary: "XC-" + hex.EncodeToString(b), instructions: instructions}
}

// newMessageID returns a fresh message id, in the store's format, for a
// reply whose deltas are sent before it is stored.
func newMessageID() string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand documents it)
	return "m_" + hex.EncodeToString(b)
}
