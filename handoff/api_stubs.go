package handoff

import (
	"context"
	"errors"
	"log/slog"

	"github.com/xiaoer-cs/xiaoer/bot"
)

var errTodo = errors.New("handoff: not implemented yet")

// NewDesk returns a desk; Run must be called for routing and estimates.
func NewDesk(cfg Config, deps Deps, log *slog.Logger) *Desk { return &Desk{cfg: cfg, deps: deps, log: log} }

// Run routes queued conversations and refreshes estimates until ctx ends.
func (d *Desk) Run(ctx context.Context) error { <-ctx.Done(); return nil }

// Request implements bot.Handoff.
func (d *Desk) Request(ctx context.Context, req bot.HandoffRequest) (bot.HandoffStatus, error) {
	return bot.HandoffStatus{}, errTodo
}

// Status implements bot.Handoff.
func (d *Desk) Status(ctx context.Context, conversationID string) (bot.HandoffStatus, error) {
	return bot.HandoffStatus{}, errTodo
}

// LeaveMessage implements bot.Handoff.
func (d *Desk) LeaveMessage(ctx context.Context, conversationID string, m bot.LeftMessage) (bot.HandoffStatus, error) {
	return bot.HandoffStatus{}, errTodo
}

// PrechatChoice etc. live in Config of the web layer.

// Board is what me's console shows.
func (d *Desk) Board(ctx context.Context, me Staff) (Board, error) { return Board{}, errTodo }

// CanSee returns nil when me may read the conversation, else ErrNotFound:
// admins see every conversation that has a case; agents see queued cases
// and tickets (to claim them) and the conversations assigned to them.
func (d *Desk) CanSee(ctx context.Context, me Staff, conversationID string) error { return errTodo }

// View is a conversation as the console shows it.
type View struct {
	Case     Case          `json:"case"`
	Messages []bot.Message `json:"messages"`
	Notes    []Note        `json:"notes"`
	// Shopper is the profile with personal data masked; nil for a visitor.
	Shopper *bot.Shopper `json:"shopper"`
	Orders  []bot.Order  `json:"orders"`
}

// Conversation returns the console's view of a conversation.
func (d *Desk) Conversation(ctx context.Context, me Staff, conversationID string) (View, error) {
	return View{}, errTodo
}

// Claim assigns a queued case or a ticket to me.
func (d *Desk) Claim(ctx context.Context, me Staff, conversationID string) (Case, error) {
	return Case{}, errTodo
}

// Reply stores an agent's message, then delivers it to the shopper.
func (d *Desk) Reply(ctx context.Context, me Staff, conversationID, clientID, text string) (bot.Message, error) {
	return bot.Message{}, errTodo
}

// Typing tells the shopper that me is typing.
func (d *Desk) Typing(ctx context.Context, me Staff, conversationID string) error { return errTodo }

// AddNote adds an internal note.
func (d *Desk) AddNote(ctx context.Context, me Staff, conversationID, text string) (Note, error) {
	return Note{}, errTodo
}

// Transfer gives me's conversation to another agent, or back to the queue when to is 0.
func (d *Desk) Transfer(ctx context.Context, me Staff, conversationID string, to int64) (Case, error) {
	return Case{}, errTodo
}

// Close ends me's conversation with a resolution; the bot resumes and asks for a rating.
func (d *Desk) Close(ctx context.Context, me Staff, conversationID, resolution string) (Case, error) {
	return Case{}, errTodo
}

// Suggest returns the knowledge entries for the shopper's last question.
func (d *Desk) Suggest(ctx context.Context, me Staff, conversationID string) (Suggestions, error) {
	return Suggestions{}, errTodo
}

// ErrNoModel is returned by Draft without a model.
var ErrNoModel = errors.New("handoff: no model configured")

// Draft returns a model-drafted reply, or ErrNoModel.
func (d *Desk) Draft(ctx context.Context, me Staff, conversationID string) (string, error) {
	return "", errTodo
}

// Reveal returns the unmasked values of the shopper's fields ("phone",
// "email", "address", "contact") and writes an audit row.
func (d *Desk) Reveal(ctx context.Context, me Staff, conversationID string, fields []string, ip string) (map[string]string, error) {
	return nil, errTodo
}

// Connect records an open console of agent id; Disconnect its closing.
func (d *Desk) Connect(id int64)    {}
func (d *Desk) Disconnect(id int64) {}

// SetPresence sets an agent's presence.
func (d *Desk) SetPresence(ctx context.Context, id int64, p Presence) error { return errTodo }

// SetAgent sets an agent's languages and capacity (admins).
func (d *Desk) SetAgent(ctx context.Context, id int64, langs []string, maxChats int) (Agent, error) {
	return Agent{}, errTodo
}

// Canned returns the canned replies.
func (d *Desk) Canned(ctx context.Context) ([]Canned, error) { return nil, errTodo }

// SaveCanned creates (ID 0) or updates a canned reply (admins).
func (d *Desk) SaveCanned(ctx context.Context, by string, c Canned) (Canned, error) { return Canned{}, errTodo }

// DeleteCanned deletes a canned reply (admins).
func (d *Desk) DeleteCanned(ctx context.Context, id int64) error { return errTodo }
