package sqlite

import (
	"context"
	"fmt"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/llm"
)

var _ bot.UsageLedger = (*Store)(nil)

// AddUsage adds one turn's model use to the conversation's row for day.
// first is true when the conversation had used the model on no day before.
func (s *Store) AddUsage(ctx context.Context, conversationID, day string, u llm.Usage, cost float64) (first bool, err error) {
	// A model turn also stores two messages: its usage joins their group
	// commit instead of paying an fsync of its own.
	var n int
	err = s.group.do(ctx, func(ctx context.Context, b *batchTx) error {
		tx := b.tx
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM llm_usage WHERE conversation_id = ?`, conversationID).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: add model use: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO llm_usage (conversation_id, day, prompt_tokens, completion_tokens, cost, turns)
		VALUES (?, ?, ?, ?, ?, 1)
		ON CONFLICT (conversation_id, day) DO UPDATE SET prompt_tokens = prompt_tokens + excluded.prompt_tokens,
		completion_tokens = completion_tokens + excluded.completion_tokens, cost = cost + excluded.cost, turns = turns + 1`,
			conversationID, day, u.PromptTokens, u.CompletionTokens, cost); err != nil {
			return fmt.Errorf("sqlite: add model use: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO llm_usage_owner_day (owner, day, tokens)
		VALUES (COALESCE((SELECT owner FROM conversations WHERE id = ?), ''), ?, ?)
		ON CONFLICT (owner, day) DO UPDATE SET tokens = tokens + excluded.tokens`,
			conversationID, day, u.Total()); err != nil {
			return fmt.Errorf("sqlite: add model use per owner: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO llm_usage_day (day, tokens, cost) VALUES (?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET tokens = tokens + excluded.tokens, cost = cost + excluded.cost`,
			day, u.Total(), cost); err != nil {
			return fmt.Errorf("sqlite: add model use per day: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return n == 0, nil
}

// UsageOf returns the tokens that count against the budgets: the
// conversation's on all days, its owner's on day, and everyone's on day.
func (s *Store) UsageOf(ctx context.Context, conversationID, day string) (bot.TokenUse, error) {
	var u bot.TokenUse
	if err := s.read.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT SUM(prompt_tokens + completion_tokens) FROM llm_usage WHERE conversation_id = ?), 0),
		COALESCE((SELECT tokens FROM llm_usage_owner_day
			WHERE owner = (SELECT owner FROM conversations WHERE id = ?) AND day = ?), 0),
		COALESCE((SELECT tokens FROM llm_usage_day WHERE day = ?), 0)`,
		conversationID, conversationID, day, day).Scan(&u.Conversation, &u.OwnerToday, &u.AllToday); err != nil {
		return u, fmt.Errorf("sqlite: model use of %s: %w", conversationID, err)
	}
	return u, nil
}

// ConversationUsage is one conversation's model use over all days.
type ConversationUsage struct {
	PromptTokens, CompletionTokens int64
	Cost                           float64
	Turns                          int64
}

// UsageOfConversation returns a conversation's model use over all days.
func (s *Store) UsageOfConversation(ctx context.Context, conversationID string) (ConversationUsage, error) {
	var u ConversationUsage
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),
		COALESCE(SUM(cost), 0), COALESCE(SUM(turns), 0) FROM llm_usage WHERE conversation_id = ?`, conversationID).
		Scan(&u.PromptTokens, &u.CompletionTokens, &u.Cost, &u.Turns)
	if err != nil {
		return u, fmt.Errorf("sqlite: model use of %s: %w", conversationID, err)
	}
	return u, nil
}
