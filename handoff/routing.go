package handoff

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// priorityMinutes is how many minutes of waiting one point of priority is
// worth when the queue is ranked: a gold member (1 point) who just arrived
// is served before someone who has waited 4 minutes, after someone who has
// waited 6.
const priorityMinutes = 5

// rank orders queued cases: highest priority plus waiting time first, then
// the earliest request. It also numbers them (Position, from 1).
func (d *Desk) rank(cases []Case, now time.Time) {
	score := func(c Case) float64 {
		return float64(c.Priority*priorityMinutes) + now.Sub(c.RequestedAt).Minutes()
	}
	sort.SliceStable(cases, func(i, j int) bool {
		si, sj := score(cases[i]), score(cases[j])
		if si != sj {
			return si > sj
		}
		return cases[i].ID < cases[j].ID
	})
	for i := range cases {
		cases[i].Position = i + 1
	}
}

// agentsNow returns the agents with their presence, connection and capacity.
func (d *Desk) agentsNow(ctx context.Context) ([]Agent, error) {
	agents, err := d.deps.Store.Agents(ctx)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range agents {
		a := &agents[i]
		if a.MaxChats <= 0 {
			a.MaxChats = d.cfg.MaxChats
		}
		a.Connected = d.conns[a.ID] > 0
		a.Presence = Offline
		if a.Connected {
			a.Presence = d.presence[a.ID]
			if a.Presence == "" {
				a.Presence = Online
			}
		}
	}
	return agents, nil
}

// takesWork reports whether a is online, connected and has room.
func takesWork(a Agent) bool {
	return a.Connected && a.Presence == Online && a.Active < a.MaxChats
}

// staffed reports whether someone can take a new conversation now: within
// the hours, and an agent connected who is online or briefly away.
func (d *Desk) staffed(agents []Agent, now time.Time) bool {
	if !d.cfg.Hours.Open(now) {
		return false
	}
	for _, a := range agents {
		if a.Connected && (a.Presence == Online || a.Presence == Away) {
			return true
		}
	}
	return false
}

// staffedNow is staffed from the desk's memory alone: only staff with the
// conversations permission open a console, so a connected console online
// or away is someone there.
func (d *Desk) staffedNow(now time.Time) bool {
	if !d.cfg.Hours.Open(now) {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, n := range d.conns {
		if p := d.presence[id]; n > 0 && (p == "" || p == Online || p == Away) {
			return true
		}
	}
	return false
}

// pickAgent chooses who gets a conversation in lang: among the agents who
// take work, those who speak lang (anyone, when no one who takes work
// does), the least loaded, and among equals the one who got work longest
// ago (round-robin). It returns false when nobody takes work.
func (d *Desk) pickAgent(agents []Agent, lang string) (int, bool) {
	return d.pickAgentBut(agents, lang, 0)
}

// pickAgentBut is pickAgent that passes over agent avoid (who sent the
// conversation back to the queue) unless nobody else takes work.
func (d *Desk) pickAgentBut(agents []Agent, lang string, avoid int64) (int, bool) {
	if avoid != 0 {
		others := make([]Agent, len(agents))
		copy(others, agents)
		for i := range others {
			if others[i].ID == avoid {
				others[i].Connected = false
			}
		}
		if i, ok := d.pickAgent(others, lang); ok {
			return i, true
		}
	}
	best, bestSpeaks := -1, false
	d.mu.Lock()
	defer d.mu.Unlock()
	better := func(a, b Agent, aSpeaks, bSpeaks bool) bool {
		if aSpeaks != bSpeaks {
			return aSpeaks
		}
		if a.Active != b.Active {
			return a.Active < b.Active
		}
		return d.lastGot[a.ID].Before(d.lastGot[b.ID])
	}
	for i, a := range agents {
		if !takesWork(a) {
			continue
		}
		s := slices.Contains(a.Langs, lang)
		if best < 0 || better(a, agents[best], s, bestSpeaks) {
			best, bestSpeaks = i, s
		}
	}
	return best, best >= 0
}

// estimate is the expected wait at a queue position: the agents online
// serve sum(capacity) conversations at a time, each for the mean handle
// time of the last 20 closed cases (Config.HandleTime until there are some).
func (d *Desk) estimate(ctx context.Context, agents []Agent, position int) time.Duration {
	return estimateWith(d.handleTime(ctx), agents, position)
}

// handleTime is the mean time the last 20 closed cases were with an
// agent, or Config.HandleTime before there are any.
func (d *Desk) handleTime(ctx context.Context) time.Duration {
	times, err := d.deps.Store.HandleTimes(ctx, 20)
	if err != nil || len(times) == 0 {
		return d.cfg.HandleTime
	}
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	return sum / time.Duration(len(times))
}

// estimateWith is estimate with the handle time given.
func estimateWith(handle time.Duration, agents []Agent, position int) time.Duration {
	slots, free := 0, 0
	for _, a := range agents {
		if a.Connected && a.Presence == Online {
			slots += a.MaxChats
			free += max(0, a.MaxChats-a.Active)
		}
	}
	if slots == 0 {
		slots = 1
	}
	if position <= free {
		return 30 * time.Second
	}
	eta := handle * time.Duration(position-free) / time.Duration(slots)
	return max(eta, 30*time.Second)
}

// route gives queued conversations to agents who take work (in auto
// routing), then tells every queued shopper whose place or estimate
// changed. Errors are logged: the next tick tries again.
func (d *Desk) route(ctx context.Context) {
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	if err := d.routeLocked(ctx); err != nil && ctx.Err() == nil {
		d.log.Warn("route the handoff queue", "err", err)
	}
}

func (d *Desk) routeLocked(ctx context.Context) error {
	now := d.cfg.Now()
	agents, err := d.agentsNow(ctx)
	if err != nil {
		return err
	}
	if err := d.reclaim(ctx, agents, now); err != nil {
		return err
	}
	queue, err := d.deps.Store.Cases(ctx, StatusQueued)
	if err != nil {
		return err
	}
	if d.staffed(agents, now) {
		d.mu.Lock()
		d.staffedAt = now
		d.mu.Unlock()
	} else if len(queue) > 0 && (!d.cfg.Hours.Open(now) || now.Sub(d.lastStaffed()) >= d.cfg.AbandonAfter) {
		// Nobody will serve the queue soon: keep each case as a ticket
		// rather than leave the shopper waiting on a silent bot.
		return d.queueToTickets(ctx, queue)
	}
	d.rank(queue, now)
	if d.cfg.Routing == RoutingAuto && d.cfg.Hours.Open(now) {
		rest := queue[:0]
		for _, c := range queue {
			d.mu.Lock()
			avoid := d.released[c.ID]
			d.mu.Unlock()
			i, ok := d.pickAgentBut(agents, c.Lang, avoid)
			if !ok {
				rest = append(rest, c)
				continue
			}
			err := d.assign(ctx, c, StatusQueued, 0, agents[i], now)
			if errors.Is(err, ErrTaken) {
				continue // claimed meanwhile
			}
			if err != nil {
				return err
			}
			agents[i].Active++
		}
		queue = rest
		for i := range queue {
			queue[i].Position = i + 1
		}
	}
	return d.tellQueue(ctx, queue, agents)
}

// tellQueue sends a handoff frame to each queued shopper whose place or
// estimate changed since they were last told, and forgets cases that left.
func (d *Desk) tellQueue(ctx context.Context, queue []Case, agents []Agent) error {
	spots := make(map[int64]queueSpot, len(queue))
	handle := d.handleTime(ctx)
	for _, c := range queue {
		eta := estimateWith(handle, agents, c.Position)
		spots[c.ID] = queueSpot{pos: c.Position, eta: int(eta / time.Second)}
	}
	d.mu.Lock()
	var changed []Case
	for _, c := range queue {
		if d.told[c.ID] != spots[c.ID] {
			changed = append(changed, c)
			d.told[c.ID] = spots[c.ID]
		}
	}
	for id := range d.told {
		if _, ok := spots[id]; !ok {
			delete(d.told, id)
		}
	}
	d.mu.Unlock()
	for _, c := range changed {
		sp := spots[c.ID]
		d.deps.Publish.Publish(c.ConversationID, bot.Event{Type: bot.EventHandoff, Handoff: &bot.HandoffStatus{
			Status: StatusQueued, Position: sp.pos, ETASeconds: sp.eta}})
	}
	if len(changed) > 0 {
		d.notify(0, Notice{Kind: "board"})
	}
	return nil
}

// assign gives case c (now in status from, with agent fromAgent) to agent
// a, and tells the shopper and the agent. Called with routeMu held.
func (d *Desk) assign(ctx context.Context, c Case, from string, fromAgent int64, a Agent, now time.Time) error {
	to := c
	to.Status, to.AgentID, to.AssignedAt = StatusAssigned, a.ID, now
	if err := d.updateCase(ctx, c.ID, from, fromAgent, to); err != nil {
		return err
	}
	d.mu.Lock()
	d.lastGot[a.ID] = now
	delete(d.told, c.ID)
	delete(d.released, c.ID)
	d.mu.Unlock()
	key := sayAssigned
	if from == StatusAssigned {
		key = sayTransferred
	}
	text := say(c.Lang, key, a.Name)
	if err := d.tell(ctx, c.ConversationID, "", text, bot.HandoffStatus{Status: StatusAssigned, Agent: a.Name}); err != nil {
		return err
	}
	d.log.Info("handoff assigned", "conversation", c.ConversationID, "agent", a.ID, "from", from)
	d.notify(a.ID, Notice{Kind: "assigned", ConversationID: c.ConversationID})
	// Consoles watching it (a preview of the queue, the agent who passed
	// it on) re-check whether they still may.
	d.notify(0, Notice{Kind: "case", ConversationID: c.ConversationID})
	d.notify(0, Notice{Kind: "board"})
	return nil
}

// tell stores a system message for the shopper, then publishes it and the
// handoff frame that goes with it.
func (d *Desk) tell(ctx context.Context, conversationID, replyTo, text string, st bot.HandoffStatus) error {
	m, _, err := d.deps.Store.AppendMessage(ctx, bot.Message{ConversationID: conversationID, Role: bot.RoleSystem,
		Text: text, ReplyTo: replyTo, Intent: bot.IntentHandoff})
	if err != nil {
		return err
	}
	d.deps.Publish.Publish(conversationID, bot.Event{Type: bot.EventMessage, Message: &m})
	d.deps.Publish.Publish(conversationID, bot.Event{Type: bot.EventHandoff, Handoff: &st})
	return nil
}

// reclaim takes back the conversations of agents who have had no console
// open for Config.AbandonAfter (or who were disabled): back to the queue
// when someone can take them, else kept as tickets. The shopper is told.
func (d *Desk) reclaim(ctx context.Context, agents []Agent, now time.Time) error {
	assigned, err := d.deps.Store.Cases(ctx, StatusAssigned)
	if err != nil || len(assigned) == 0 {
		return err
	}
	staffed := d.staffed(agents, now)
	for _, c := range assigned {
		i := slices.IndexFunc(agents, func(a Agent) bool { return a.ID == c.AgentID })
		if i >= 0 && (agents[i].Connected || now.Sub(d.goneSince(c.AgentID)) < d.cfg.AbandonAfter) {
			continue
		}
		back := c
		back.AgentID, back.AssignedAt = 0, time.Time{}
		back.Status = StatusTicket
		if staffed {
			back.Status = StatusQueued
		}
		if err := d.updateCase(ctx, c.ID, StatusAssigned, c.AgentID, back); errors.Is(err, ErrTaken) {
			continue
		} else if err != nil {
			return err
		}
		d.log.Info("conversation taken back from an absent agent", "conversation", c.ConversationID, "agent", c.AgentID, "to", back.Status)
		st := bot.HandoffStatus{Status: back.Status}
		text := say(c.Lang, sayAgentLeftTicket)
		if staffed {
			if st, err = d.statusOf(ctx, back); err != nil {
				return err
			}
			text = say(c.Lang, sayAgentLeft, st.Position, waitText(c.Lang, time.Duration(st.ETASeconds)*time.Second))
		}
		if err := d.tell(ctx, c.ConversationID, "", text, st); err != nil {
			return err
		}
		if i >= 0 {
			agents[i].Active--
		}
		d.notify(c.AgentID, Notice{Kind: "case", ConversationID: c.ConversationID})
		d.notify(0, Notice{Kind: "board"})
	}
	return nil
}

// goneSince is when agent id's last console closed: the desk's start for
// an agent never connected since.
func (d *Desk) goneSince(id int64) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.gone[id]; ok {
		return t
	}
	return d.started
}

func (d *Desk) lastStaffed() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.staffedAt
}

// queueToTickets turns queued cases into tickets, telling each shopper.
func (d *Desk) queueToTickets(ctx context.Context, queue []Case) error {
	for _, c := range queue {
		ticket := c
		ticket.Status = StatusTicket
		if err := d.updateCase(ctx, c.ID, StatusQueued, 0, ticket); errors.Is(err, ErrTaken) {
			continue
		} else if err != nil {
			return err
		}
		d.mu.Lock()
		delete(d.told, c.ID)
		d.mu.Unlock()
		d.log.Info("queued conversation kept as a ticket: nobody is there", "conversation", c.ConversationID)
		if err := d.tell(ctx, c.ConversationID, "", say(c.Lang, sayQueueClosed), bot.HandoffStatus{Status: StatusTicket}); err != nil {
			return err
		}
		d.notify(0, Notice{Kind: "board"})
	}
	return nil
}
