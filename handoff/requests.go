package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

var _ bot.Handoff = (*Desk)(nil)

// Request asks for a person on a conversation (bot.Handoff). With someone
// to take it (within the hours, an agent online or briefly away) the
// conversation joins the queue (and in auto routing goes on to a free agent
// at once); without, the request is recorded as missed and the shopper is
// invited to leave a message. A conversation already with the people is
// told where it stands. Either way the shopper is told, in their language.
func (d *Desk) Request(ctx context.Context, req bot.HandoffRequest) (bot.HandoffStatus, error) {
	conv, err := d.deps.Store.Conversation(ctx, req.ConversationID)
	if err != nil {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: request: %w", err)
	}
	lang := langOf(req.Lang, conv.Lang)
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	now := d.cfg.Now()

	agents, err := d.agentsNow(ctx)
	if err != nil {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: request: %w", err)
	}
	open, err := d.deps.Store.OpenCaseOf(ctx, conv.ID)
	if err == nil && open.Status == StatusTicket && d.staffed(agents, now) {
		// A message left earlier, and now someone is here: the
		// conversation joins the queue like a new request.
		queued := open
		queued.Status = StatusQueued
		if err := d.updateCase(ctx, open.ID, StatusTicket, 0, queued); err != nil && !errors.Is(err, ErrTaken) {
			return bot.HandoffStatus{}, fmt.Errorf("handoff: queue a ticket: %w", err)
		}
		d.notify(0, Notice{Kind: "board"})
		if open, err = d.deps.Store.OpenCaseOf(ctx, conv.ID); err == nil && open.Status == StatusQueued {
			return d.routeNew(ctx, open, agents, lang, req, now)
		}
	}
	if err == nil {
		st, err := d.statusOf(ctx, open)
		if err != nil {
			return st, err
		}
		switch open.Status {
		case StatusAssigned:
			st.Text = say(lang, sayAlreadyAssigned, open.AgentName)
		case StatusTicket:
			st.Text = say(lang, sayTicketOpen)
		default:
			st.Text = say(lang, sayQueued, st.Position, waitText(lang, time.Duration(st.ETASeconds)*time.Second))
		}
		return st, d.tell(ctx, conv.ID, req.ReplyTo, st.Text, st)
	} else if !errors.Is(err, ErrNotFound) {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: request: %w", err)
	}

	c := Case{ConversationID: conv.ID, ShopperID: conv.ShopperID, Lang: lang, Trigger: req.Trigger,
		Status: StatusQueued, RequestedAt: now}
	if req.Shopper != nil {
		c.Tier = strings.ToLower(req.Shopper.Tier)
	}
	c.Priority = triggerPriority(req.Trigger) + d.cfg.TierPriority[c.Tier]
	c.Summary = d.extractSummary(ctx, conv.ID, req.Trigger)

	if !d.staffed(agents, now) {
		// Recorded as a missed request (for the figures, and as the trigger
		// of a message left next), closed at once.
		c.Status, c.ClosedAt, c.Resolution = StatusClosed, now, "missed"
		missed, created, err := d.openCase(ctx, c)
		if err != nil {
			return bot.HandoffStatus{}, fmt.Errorf("handoff: record missed request: %w", err)
		}
		if created {
			d.emitHandedOff(ctx, missed, "missed")
		}
		st := bot.HandoffStatus{Status: StatusOffline, Text: say(lang, sayOffline)}
		if !d.cfg.Hours.Open(now) {
			st.Text = say(lang, sayOfflineHours, d.cfg.Hours.describe(lang))
		}
		d.log.Info("handoff requested while nobody is there", "conversation", conv.ID, "trigger", req.Trigger)
		return st, d.tell(ctx, conv.ID, req.ReplyTo, st.Text, st)
	}

	stored, created, err := d.openCase(ctx, c)
	if err != nil {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: open case: %w", err)
	}
	if created {
		d.summarizeLater(stored, lang)
		d.emitHandedOff(ctx, stored, stored.Status)
	}
	d.notify(0, Notice{Kind: "board"})
	return d.routeNew(ctx, stored, agents, lang, req, now)
}

// routeNew tells the shopper their place in the queue and, in auto
// routing, gives the case to a free agent at once (who joins with a word
// of their own). Called with routeMu held.
func (d *Desk) routeNew(ctx context.Context, c Case, agents []Agent, lang string, req bot.HandoffRequest, now time.Time) (bot.HandoffStatus, error) {
	st, err := d.statusOf(ctx, c)
	if err != nil {
		return st, err
	}
	st.Text = say(lang, sayQueued, st.Position, waitText(lang, time.Duration(st.ETASeconds)*time.Second))
	d.mu.Lock()
	d.told[c.ID] = queueSpot{pos: st.Position, eta: st.ETASeconds}
	d.mu.Unlock()
	d.log.Info("handoff queued", "conversation", c.ConversationID, "trigger", req.Trigger, "position", st.Position)
	if err := d.tell(ctx, c.ConversationID, req.ReplyTo, st.Text, st); err != nil {
		return st, err
	}
	if d.cfg.Routing == RoutingAuto {
		if i, ok := d.pickAgent(agents, lang); ok {
			err := d.assign(ctx, c, StatusQueued, 0, agents[i], now)
			if err == nil {
				return bot.HandoffStatus{Status: StatusAssigned, Agent: agents[i].Name, Text: say(lang, sayAssigned, agents[i].Name)}, nil
			}
			if !errors.Is(err, ErrTaken) {
				return bot.HandoffStatus{}, fmt.Errorf("handoff: assign: %w", err)
			}
		}
	}
	d.wake() // those it overtook are told their new place
	return st, nil
}

// Status says where a conversation stands (bot.Handoff): its open case, or
// Status "" when it is with the bot, with Available saying whether someone
// could take it now.
func (d *Desk) Status(ctx context.Context, conversationID string) (bot.HandoffStatus, error) {
	// Asked on every shopper message: a conversation with the bot, the
	// common case, is answered from memory, with no query.
	mayHave, known := d.open.lookup(conversationID)
	if !known && d.open != nil {
		d.tryLoadOpen(ctx)
		mayHave, known = d.open.lookup(conversationID)
	}
	if known && !mayHave {
		return bot.HandoffStatus{Available: d.staffedNow(d.cfg.Now())}, nil
	}
	c, err := d.deps.Store.OpenCaseOf(ctx, conversationID)
	if errors.Is(err, ErrNotFound) {
		return bot.HandoffStatus{Available: d.staffedNow(d.cfg.Now())}, nil
	}
	if err != nil {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: status: %w", err)
	}
	return d.statusOf(ctx, c)
}

// statusOf describes an open case to its shopper: the queue position and
// estimate of a queued case (ranked now), the agent of an assigned one.
func (d *Desk) statusOf(ctx context.Context, c Case) (bot.HandoffStatus, error) {
	st := bot.HandoffStatus{Status: c.Status}
	switch c.Status {
	case StatusAssigned:
		st.Agent = c.AgentName
	case StatusQueued:
		queue, err := d.deps.Store.Cases(ctx, StatusQueued)
		if err != nil {
			return st, fmt.Errorf("handoff: status: %w", err)
		}
		agents, err := d.agentsNow(ctx)
		if err != nil {
			return st, fmt.Errorf("handoff: status: %w", err)
		}
		d.rank(queue, d.cfg.Now())
		for _, q := range queue {
			if q.ID == c.ID {
				st.Position = q.Position
			}
		}
		st.ETASeconds = int(d.estimate(ctx, agents, st.Position) / time.Second)
	}
	return st, nil
}

// LeaveMessage turns a message the shopper left into a ticket (bot.Handoff).
// The bot has stored the shopper's message itself; the ticket carries its
// text and the contact preference, and the trigger of the request that
// found nobody. A conversation already with the people is told where it
// stands instead.
func (d *Desk) LeaveMessage(ctx context.Context, conversationID string, m bot.LeftMessage) (bot.HandoffStatus, error) {
	conv, err := d.deps.Store.Conversation(ctx, conversationID)
	if err != nil {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: leave message: %w", err)
	}
	if !slices.Contains(ContactVias, m.ContactVia) {
		m.ContactVia = "chat"
	}
	lang := langOf(conv.Lang, "")
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	if open, err := d.deps.Store.OpenCaseOf(ctx, conv.ID); err == nil {
		st, err := d.statusOf(ctx, open)
		if err != nil {
			return st, err
		}
		st.Text = say(lang, sayTicketOpen)
		if open.Status == StatusAssigned {
			st.Text = say(lang, sayAlreadyAssigned, open.AgentName)
		}
		return st, d.tell(ctx, conv.ID, "", st.Text, st)
	} else if !errors.Is(err, ErrNotFound) {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: leave message: %w", err)
	}
	trigger := bot.TriggerButton
	if last, err := d.deps.Store.LastCaseOf(ctx, conv.ID); err == nil {
		trigger = last.Trigger
	}
	c := Case{ConversationID: conv.ID, ShopperID: conv.ShopperID, Lang: lang, Trigger: trigger,
		Status: StatusTicket, RequestedAt: d.cfg.Now(), Priority: triggerPriority(trigger),
		Ticket: &Ticket{Text: m.Text, ContactVia: m.ContactVia, Contact: m.Contact}}
	if conv.ShopperID != "" {
		if sh, err := d.deps.Store.Shopper(ctx, conv.ShopperID); err == nil {
			c.Tier = strings.ToLower(sh.Tier)
			c.Priority += d.cfg.TierPriority[c.Tier]
		}
	}
	c.Summary = d.extractSummary(ctx, conv.ID, trigger)
	stored, created, err := d.openCase(ctx, c)
	if err != nil {
		return bot.HandoffStatus{}, fmt.Errorf("handoff: open ticket: %w", err)
	}
	if created {
		d.summarizeLater(stored, lang)
		d.emitHandedOff(ctx, stored, stored.Status)
	}
	d.log.Info("ticket left", "conversation", conv.ID, "contact_via", m.ContactVia)
	d.notify(0, Notice{Kind: "board"})
	st := bot.HandoffStatus{Status: StatusTicket}
	switch m.ContactVia {
	case "email":
		st.Text = say(lang, sayTicketEmail)
	case "phone":
		st.Text = say(lang, sayTicketPhone)
	default:
		st.Text = say(lang, sayTicket)
	}
	return st, d.tell(ctx, conv.ID, "", st.Text, st)
}

// HandedOffEvent is the data of a bot.WebhookHandoff event: a conversation
// was handed to the people. CaseStatus is "queued" (waiting for an agent,
// who may take it at once), "ticket" (a message left while nobody was
// there) or "missed" (nobody was there, and nothing was left yet).
type HandedOffEvent struct {
	ConversationID string    `json:"conversation_id"`
	ShopperID      string    `json:"shopper_id,omitempty"` // empty for a visitor
	Trigger        string    `json:"trigger"`
	CaseStatus     string    `json:"case_status"`
	At             time.Time `json:"at"`
}

// emitHandedOff tells the shop's systems about a new case, after it is
// stored. A failure is logged: the shopper's request stands.
func (d *Desk) emitHandedOff(ctx context.Context, c Case, status string) {
	if d.deps.Webhooks == nil {
		return
	}
	ev := HandedOffEvent{ConversationID: c.ConversationID, ShopperID: c.ShopperID, Trigger: c.Trigger, CaseStatus: status,
		At: c.RequestedAt.UTC()}
	if err := d.deps.Webhooks.Emit(ctx, bot.WebhookHandoff, ev); err != nil {
		d.log.Error("webhook for a handoff not stored", "conversation", c.ConversationID, "err", err)
	}
}

func langOf(l, fallback string) string {
	switch {
	case l == "en" || l == "zh":
		return l
	case fallback == "en":
		return "en"
	}
	return "zh"
}
