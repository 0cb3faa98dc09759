// Package handoff moves conversations from the bot to human agents.
//
// This first version records every request for a person on the
// conversation and tells the shopper that no agent is online: the agent
// console, the queue and routing come with the handoff issue, behind the
// same Request method.
package handoff

import (
	"context"
	"fmt"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// Recorder stores a handoff request on a conversation.
type Recorder interface {
	RecordHandoff(ctx context.Context, conversationID, trigger string) error
}

// Desk takes requests for a person.
type Desk struct {
	rec Recorder
}

var _ bot.Handoff = (*Desk)(nil)

// NewDesk returns a Desk that records requests in rec.
func NewDesk(rec Recorder) *Desk { return &Desk{rec: rec} }

// Request records that the conversation asked for a person, with the
// trigger that asked, and returns where it stands. With no agent console
// yet, no agent is ever online: the status is "offline", and the shopper is
// asked to leave a message.
func (d *Desk) Request(ctx context.Context, conversationID, trigger string) (bot.HandoffStatus, error) {
	if err := d.rec.RecordHandoff(ctx, conversationID, trigger); err != nil {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: record request: %w", err)
	}
	return bot.HandoffStatus{Status: "offline"}, nil
}
