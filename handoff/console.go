package handoff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// suggestionFloor is the confidence a knowledge entry needs to be
// suggested to an agent: lower ones are noise more often than help.
const suggestionFloor = 0.3

// Limits of what agents type.
const (
	maxReplyRunes = 2000
	maxNoteRunes  = 2000
)

var (
	clientIDPattern = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
	shortcutPattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
)

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Board is what me's console shows: tickets, the ranked queue (with
// places and estimates), me's conversations and the agents.
func (d *Desk) Board(ctx context.Context, me Staff) (Board, error) {
	now := d.cfg.Now()
	open, err := d.deps.Store.Cases(ctx, StatusQueued, StatusAssigned, StatusTicket)
	if err != nil {
		return Board{}, fmt.Errorf("handoff: board: %w", err)
	}
	agents, err := d.agentsNow(ctx)
	if err != nil {
		return Board{}, fmt.Errorf("handoff: board: %w", err)
	}
	b := Board{Tickets: []Case{}, Queue: []Case{}, Mine: []Case{}, Agents: agents, Open: d.cfg.Hours.Open(now)}
	for _, c := range open {
		c = forStaff(c)
		switch {
		case c.Status == StatusTicket:
			b.Tickets = append(b.Tickets, c)
		case c.Status == StatusQueued:
			b.Queue = append(b.Queue, c)
		case c.AgentID == me.ID:
			b.Mine = append(b.Mine, c)
		}
	}
	d.rank(b.Queue, now)
	handle := d.handleTime(ctx)
	for i := range b.Queue {
		b.Queue[i].ETASeconds = int(estimateWith(handle, agents, b.Queue[i].Position).Seconds())
	}
	for _, a := range agents {
		if a.ID == me.ID {
			b.Me = a
		}
	}
	if b.Me.ID == 0 {
		b.Me = Agent{ID: me.ID, Name: me.Name, Presence: Offline}
	}
	return b, nil
}

func maskTicket(t *Ticket) *Ticket {
	if t == nil {
		return nil
	}
	m := *t
	m.Text = maskText(m.Text)
	kind := "PHONE"
	if m.ContactVia == "email" {
		kind = "EMAIL"
	}
	m.Contact = maskValue(kind, m.Contact)
	return &m
}

// visibleCase returns the conversation's case that me may see: an admin
// sees the latest case of any conversation that had one; an agent sees
// queued cases and tickets (to decide whether to take them) and cases
// assigned (or last assigned) to them. Anything else is ErrNotFound, like
// a conversation that does not exist.
func (d *Desk) visibleCase(ctx context.Context, me Staff, conversationID string) (Case, error) {
	cases, err := d.deps.Store.CasesOf(ctx, conversationID)
	if err != nil {
		return Case{}, err
	}
	if len(cases) == 0 {
		return Case{}, ErrNotFound
	}
	c := cases[0]
	if me.Admin || c.Status == StatusQueued || c.Status == StatusTicket {
		return c, nil
	}
	// Otherwise the agent who had it last: a later request that found
	// nobody (a missed case, with no agent) does not take it from them.
	for _, old := range cases {
		if old.AgentID != 0 {
			if old.AgentID == me.ID {
				return c, nil
			}
			break
		}
	}
	return Case{}, ErrNotFound
}

// forStaff hides the personal data of a case shown in the console: the
// ticket's text and contact and the last message. Reveal shows them.
func forStaff(c Case) Case {
	c.Ticket = maskTicket(c.Ticket)
	c.LastText = clip(maskText(c.LastText), 120)
	for i, q := range c.Summary.Questions {
		c.Summary.Questions[i] = maskText(q)
	}
	return c
}

// MaskForStaff hides the personal data in a message's text as the console
// shows it until an agent reveals it ("138****5678"): the web layer uses it
// for the messages it streams to agents.
func MaskForStaff(text string) string { return maskText(text) }

// CanSee returns nil when me may read the conversation, else ErrNotFound.
func (d *Desk) CanSee(ctx context.Context, me Staff, conversationID string) error {
	_, err := d.visibleCase(ctx, me, conversationID)
	return err
}

// mine returns the conversation's case if it is assigned to me, else
// ErrNotYours (ErrNotFound when me may not even see it).
func (d *Desk) mine(ctx context.Context, me Staff, conversationID string) (Case, error) {
	c, err := d.visibleCase(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	if c.Status != StatusAssigned || c.AgentID != me.ID {
		return c, ErrNotYours
	}
	return c, nil
}

// View is a conversation as the console shows it.
type View struct {
	Case     Case          `json:"case"`
	Messages []bot.Message `json:"messages"`
	Notes    []Note        `json:"notes"`
	// Shopper is the profile with personal data masked; nil for a visitor.
	Shopper *bot.Shopper `json:"shopper"`
	Orders  []bot.Order  `json:"orders"`
	// Masked says that personal data in the transcript is hidden: Reveal
	// with the field "transcript" shows it.
	Masked bool `json:"masked"`
}

// Conversation returns the console's view of a conversation: the case,
// the whole transcript, the notes, and the shopper's profile (personal data
// masked: Reveal shows it) and recent orders.
func (d *Desk) Conversation(ctx context.Context, me Staff, conversationID string) (View, error) {
	c, err := d.visibleCase(ctx, me, conversationID)
	if err != nil {
		return View{}, err
	}
	c = forStaff(c)
	if c.Status == StatusQueued {
		if st, err := d.statusOf(ctx, c); err == nil {
			c.Position, c.ETASeconds = st.Position, st.ETASeconds
		}
	}
	v := View{Case: c, Orders: []bot.Order{}}
	if v.Messages, err = d.transcript(ctx, conversationID); err != nil {
		return View{}, fmt.Errorf("handoff: transcript: %w", err)
	}
	for i, m := range v.Messages {
		if masked := maskText(m.Text); masked != m.Text {
			v.Messages[i].Text, v.Masked = masked, true
		}
	}
	if v.Notes, err = d.deps.Store.Notes(ctx, conversationID); err != nil {
		return View{}, fmt.Errorf("handoff: notes: %w", err)
	}
	if c.ShopperID != "" {
		sh, err := d.deps.Store.Shopper(ctx, c.ShopperID)
		if err == nil {
			sh.Phone = maskValue("PHONE", sh.Phone)
			sh.Email = maskValue("EMAIL", sh.Email)
			sh.Address = maskValue("ADDRESS", sh.Address)
			v.Shopper = &sh
		} else if !errors.Is(err, ErrNotFound) {
			return View{}, fmt.Errorf("handoff: shopper: %w", err)
		}
		orders, err := d.deps.Store.RecentOrders(ctx, c.ShopperID, 10)
		if err != nil {
			return View{}, fmt.Errorf("handoff: orders: %w", err)
		}
		v.Orders = append(v.Orders, orders...)
	}
	return v, nil
}

// Claim assigns a queued case or a ticket to me. ErrTaken when another
// agent was faster.
func (d *Desk) Claim(ctx context.Context, me Staff, conversationID string) (Case, error) {
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	c, err := d.visibleCase(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	if c.Status != StatusQueued && c.Status != StatusTicket {
		if c.Status == StatusAssigned && c.AgentID == me.ID {
			return c, nil
		}
		return c, ErrTaken
	}
	a := Agent{ID: me.ID, Name: me.Name}
	if err := d.assign(ctx, c, c.Status, 0, a, d.cfg.Now()); err != nil {
		return c, err
	}
	d.wake() // the others move up
	return d.openForStaff(ctx, conversationID)
}

// openForStaff returns the conversation's open case as the console shows it.
func (d *Desk) openForStaff(ctx context.Context, conversationID string) (Case, error) {
	c, err := d.deps.Store.OpenCaseOf(ctx, conversationID)
	return forStaff(c), err
}

// Reply stores me's message to the shopper, then delivers it. The
// conversation must be assigned to me. A resend with the same clientID
// returns the stored message, created false, without storing or
// delivering it again. The returned message carries clientID as the
// console sent it (stored, it is prefixed with "agent <id>:", with a
// space no shopper's client_id may contain, so the two never collide).
func (d *Desk) Reply(ctx context.Context, me Staff, conversationID, clientID, text string) (m bot.Message, created bool, err error) {
	text = strings.TrimSpace(text)
	switch {
	case !clientIDPattern.MatchString(clientID):
		return bot.Message{}, false, invalid("client_id must be 1 to 128 printable ASCII characters")
	case text == "":
		return bot.Message{}, false, invalid("the reply is empty")
	case utf8.RuneCountInString(text) > maxReplyRunes:
		return bot.Message{}, false, invalid("the reply is longer than %d characters", maxReplyRunes)
	}
	c, err := d.mine(ctx, me, conversationID)
	if err != nil {
		return bot.Message{}, false, err
	}
	m, dup, err := d.deps.Store.AppendMessage(ctx, bot.Message{ConversationID: c.ConversationID, Role: bot.RoleAgent,
		Text: text, ClientID: "agent " + strconv.FormatInt(me.ID, 10) + ":" + clientID, AgentName: me.Name})
	if err != nil {
		return bot.Message{}, false, fmt.Errorf("handoff: store reply: %w", err)
	}
	if !dup {
		d.deps.Publish.Publish(c.ConversationID, bot.Event{Type: bot.EventMessage, Message: &m})
	}
	m.ClientID = clientID
	return m, !dup, nil
}

// Typing tells the shopper that me is typing in a conversation assigned to me.
func (d *Desk) Typing(ctx context.Context, me Staff, conversationID string) error {
	c, err := d.mine(ctx, me, conversationID)
	if err != nil {
		return err
	}
	d.deps.Publish.Publish(c.ConversationID, bot.Event{Type: bot.EventTyping, Role: bot.RoleAgent})
	return nil
}

// AddNote adds an internal note to a conversation me may see. Notes are
// not messages: they never reach the shopper.
func (d *Desk) AddNote(ctx context.Context, me Staff, conversationID, text string) (Note, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > maxNoteRunes {
		return Note{}, invalid("a note has 1 to %d characters", maxNoteRunes)
	}
	if err := d.CanSee(ctx, me, conversationID); err != nil {
		return Note{}, err
	}
	n, err := d.deps.Store.AddNote(ctx, Note{ConversationID: conversationID, AgentID: me.ID, AgentName: me.Name, Text: text})
	if err != nil {
		return Note{}, fmt.Errorf("handoff: add note: %w", err)
	}
	d.notify(0, Notice{Kind: "case", ConversationID: conversationID})
	return n, nil
}

// Transfer gives me's conversation to agent to, or back to the queue
// when to is 0 (ranked as before; auto routing then prefers someone else).
// ErrNoAgent when to cannot take it: unknown, not connected, away or
// offline, or full.
func (d *Desk) Transfer(ctx context.Context, me Staff, conversationID string, to int64) (Case, error) {
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	c, err := d.mine(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	if to == me.ID {
		return c, fmt.Errorf("%w: that is you", ErrNoAgent)
	}
	if to == 0 {
		back := c
		back.Status, back.AgentID, back.AssignedAt = StatusQueued, 0, c.AssignedAt
		if err := d.updateCase(ctx, c.ID, StatusAssigned, me.ID, back); err != nil {
			return c, err
		}
		st, err := d.statusOf(ctx, back)
		if err != nil {
			return c, err
		}
		st.Text = say(c.Lang, sayRequeued, st.Position, waitText(c.Lang, secs(st.ETASeconds)))
		d.mu.Lock()
		d.told[c.ID] = queueSpot{pos: st.Position, eta: st.ETASeconds}
		d.released[c.ID] = me.ID
		d.mu.Unlock()
		if err := d.tell(ctx, c.ConversationID, "", st.Text, st); err != nil {
			return c, err
		}
		d.notify(0, Notice{Kind: "board"})
		d.wake()
		return d.openForStaff(ctx, conversationID)
	}
	agents, err := d.agentsNow(ctx)
	if err != nil {
		return c, fmt.Errorf("handoff: transfer: %w", err)
	}
	i := slices.IndexFunc(agents, func(a Agent) bool { return a.ID == to })
	if i < 0 || !agents[i].Connected || agents[i].Presence != Online || agents[i].Active >= agents[i].MaxChats {
		return c, ErrNoAgent
	}
	if err := d.assign(ctx, c, StatusAssigned, me.ID, agents[i], d.cfg.Now()); err != nil {
		return c, err
	}
	d.notify(me.ID, Notice{Kind: "case", ConversationID: conversationID})
	return d.openForStaff(ctx, conversationID)
}

// Close ends me's conversation with a resolution. The shopper is told,
// the bot answers again, and it asks for a 1 to 5 rating (a bot message
// with a "rating" card).
func (d *Desk) Close(ctx context.Context, me Staff, conversationID, resolution string) (Case, error) {
	if !slices.Contains(Resolutions, resolution) {
		return Case{}, invalid("resolution must be one of %s", strings.Join(Resolutions, ", "))
	}
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	c, err := d.mine(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	closed := c
	closed.Status, closed.ClosedAt, closed.Resolution = StatusClosed, d.cfg.Now(), resolution
	if err := d.updateCase(ctx, c.ID, StatusAssigned, me.ID, closed); err != nil {
		return c, err
	}
	d.log.Info("handoff closed", "conversation", c.ConversationID, "agent", me.ID, "resolution", resolution)
	if err := d.tell(ctx, c.ConversationID, "", say(c.Lang, sayClosed), bot.HandoffStatus{Status: StatusClosed}); err != nil {
		return closed, err
	}
	m, _, err := d.deps.Store.AppendMessage(ctx, bot.Message{ConversationID: c.ConversationID, Role: bot.RoleBot,
		Text: say(c.Lang, sayRate), Intent: "rating", Cards: []bot.Card{{Kind: "rating"}}})
	if err != nil {
		return closed, fmt.Errorf("handoff: ask for a rating: %w", err)
	}
	d.deps.Publish.Publish(c.ConversationID, bot.Event{Type: bot.EventMessage, Message: &m})
	d.notify(0, Notice{Kind: "board"})
	d.notify(0, Notice{Kind: "case", ConversationID: conversationID})
	d.wake() // me has room for the next one
	return forStaff(closed), nil
}

// Suggest returns the knowledge entries that best answer the shopper's
// last message, for the agent to insert.
func (d *Desk) Suggest(ctx context.Context, me Staff, conversationID string) (Suggestions, error) {
	c, err := d.visibleCase(ctx, me, conversationID)
	if err != nil {
		return Suggestions{}, err
	}
	out := Suggestions{Entries: []Suggestion{}}
	msgs, err := d.transcript(ctx, conversationID)
	if err != nil {
		return out, fmt.Errorf("handoff: suggestions: %w", err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == bot.RoleShopper {
			out.Question = msgs[i].Text
			break
		}
	}
	if out.Question == "" || d.deps.Knowledge == nil {
		out.Question = maskText(out.Question)
		return out, nil
	}
	locale := knowledge.LocaleZH
	if c.Lang == "en" {
		locale = knowledge.LocaleEN
	}
	res, err := d.deps.Knowledge.Search(ctx, out.Question, knowledge.SearchOptions{Limit: 3, Locale: locale})
	if err != nil {
		return out, fmt.Errorf("handoff: suggestions: %w", err)
	}
	for _, h := range res.Hits {
		if h.Confidence < suggestionFloor {
			continue
		}
		out.Entries = append(out.Entries, Suggestion{ID: h.ID, Title: h.Question, Answer: h.Answer, Confidence: h.Confidence})
	}
	out.Question = maskText(out.Question)
	return out, nil
}

// Draft has the model draft a reply from the conversation and the
// suggested entries; ErrNoModel without one.
func (d *Desk) Draft(ctx context.Context, me Staff, conversationID string) (string, error) {
	c, err := d.visibleCase(ctx, me, conversationID)
	if err != nil {
		return "", err
	}
	if d.deps.Drafter == nil {
		return "", ErrNoModel
	}
	sugg, err := d.Suggest(ctx, me, conversationID)
	if err != nil {
		return "", err
	}
	refs := make([]bot.Reference, len(sugg.Entries))
	for i, e := range sugg.Entries {
		refs[i] = bot.Reference{Title: e.Title, Answer: e.Answer}
	}
	text, err := d.deps.Drafter.DraftReply(ctx, conversationID, c.Lang, refs)
	if err != nil {
		return "", fmt.Errorf("handoff: draft: %w", err)
	}
	// The shopper's data the draft mentions is shown as in the transcript.
	return maskText(text), nil
}

// Revealable fields.
var revealable = []string{"phone", "email", "address", "contact", "transcript"}

// Reveal returns the unmasked values of the shopper's fields ("phone",
// "email", "address"; "contact" is a ticket's contact; "transcript" the
// full text of each message whose personal data the view hid, under
// "message:<id>") and writes who saw what to the audit log first: no
// audit row, no data.
func (d *Desk) Reveal(ctx context.Context, me Staff, conversationID string, fields []string, ip string) (map[string]string, error) {
	if ip != "" {
		me.IP = ip
	}
	if len(fields) == 0 {
		return nil, invalid("name the fields to reveal: %s", strings.Join(revealable, ", "))
	}
	for _, f := range fields {
		if !slices.Contains(revealable, f) {
			return nil, invalid("unknown field %q: want %s", f, strings.Join(revealable, ", "))
		}
	}
	c, err := d.visibleCase(ctx, me, conversationID)
	if err != nil {
		return nil, err
	}
	var sh bot.Shopper
	if c.ShopperID != "" {
		if sh, err = d.deps.Store.Shopper(ctx, c.ShopperID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("handoff: reveal: %w", err)
		}
	}
	actor := me.Username
	if actor == "" {
		actor = me.Name
	}
	role := me.Role
	if role == "" {
		role = "agent"
		if me.Admin {
			role = "admin"
		}
	}
	fields = slices.Compact(slices.Sorted(slices.Values(fields)))
	if err := d.deps.Store.Audit(ctx, AuditEntry{Actor: actor, Role: role, Action: "reveal", ShopperID: c.ShopperID,
		Fields: fields, ConversationID: conversationID, IP: me.IP, At: d.cfg.Now()}); err != nil {
		return nil, fmt.Errorf("handoff: reveal: audit: %w", err)
	}
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		switch f {
		case "phone":
			out[f] = sh.Phone
		case "email":
			out[f] = sh.Email
		case "address":
			out[f] = sh.Address
		case "contact":
			if c.Ticket != nil {
				out[f] = c.Ticket.Contact
			}
		case "transcript":
			msgs, err := d.transcript(ctx, conversationID)
			if err != nil {
				return nil, fmt.Errorf("handoff: reveal: %w", err)
			}
			for _, m := range msgs {
				if maskText(m.Text) != m.Text {
					out["message:"+m.ID] = m.Text
				}
			}
		}
	}
	return out, nil
}

// Connect records an open console of agent id: an agent with a console
// open is online unless they said otherwise.
func (d *Desk) Connect(id int64) {
	d.mu.Lock()
	d.conns[id]++
	delete(d.gone, id)
	d.mu.Unlock()
	d.notify(0, Notice{Kind: "board"})
	d.wake()
}

// Disconnect records that one of agent id's consoles closed. Their
// conversations stay theirs: a reload must not lose them.
func (d *Desk) Disconnect(id int64) {
	d.mu.Lock()
	if d.conns[id]--; d.conns[id] <= 0 {
		delete(d.conns, id)
		d.gone[id] = d.cfg.Now()
	}
	d.mu.Unlock()
	d.notify(0, Notice{Kind: "board"})
}

// SetPresence sets an agent's presence.
func (d *Desk) SetPresence(ctx context.Context, id int64, p Presence) error {
	if !p.Valid() {
		return invalid("presence must be online, away or offline")
	}
	d.mu.Lock()
	d.presence[id] = p
	d.mu.Unlock()
	d.notify(0, Notice{Kind: "board"})
	d.wake()
	return nil
}

// SetAgent sets an agent's languages (zh, en) and capacity (1 to 50).
func (d *Desk) SetAgent(ctx context.Context, id int64, langs []string, maxChats int) (Agent, error) {
	if len(langs) == 0 || slices.ContainsFunc(langs, func(l string) bool { return l != "zh" && l != "en" }) {
		return Agent{}, invalid("langs must list zh and/or en")
	}
	if maxChats < 1 || maxChats > 50 {
		return Agent{}, invalid("max_chats must be 1 to 50")
	}
	agents, err := d.agentsNow(ctx)
	if err != nil {
		return Agent{}, err
	}
	if !slices.ContainsFunc(agents, func(a Agent) bool { return a.ID == id }) {
		return Agent{}, ErrNotFound // not an enabled agent or admin
	}
	if err := d.deps.Store.SetAgentSettings(ctx, id, slices.Compact(slices.Sorted(slices.Values(langs))), maxChats); err != nil {
		return Agent{}, err
	}
	if agents, err = d.agentsNow(ctx); err != nil {
		return Agent{}, err
	}
	for _, a := range agents {
		if a.ID == id {
			d.notify(0, Notice{Kind: "board"})
			d.wake()
			return a, nil
		}
	}
	return Agent{}, ErrNotFound // not an enabled agent or admin
}

// Canned returns the canned replies.
func (d *Desk) Canned(ctx context.Context) ([]Canned, error) {
	return d.deps.Store.CannedList(ctx)
}

// SaveCanned creates (ID 0) or updates a canned reply.
func (d *Desk) SaveCanned(ctx context.Context, by string, c Canned) (Canned, error) {
	c.Shortcut = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(c.Shortcut)), "/")
	c.Text = strings.TrimSpace(c.Text)
	c.Title = strings.TrimSpace(c.Title)
	switch {
	case !shortcutPattern.MatchString(c.Shortcut):
		return c, invalid("a shortcut is 1 to 32 of a-z 0-9 _ -")
	case c.Lang != "" && c.Lang != "zh" && c.Lang != "en":
		return c, invalid("lang must be zh, en or empty (both)")
	case c.Text == "" || utf8.RuneCountInString(c.Text) > maxReplyRunes:
		return c, invalid("the text has 1 to %d characters", maxReplyRunes)
	case utf8.RuneCountInString(c.Title) > 100:
		return c, invalid("the title has at most 100 characters")
	}
	c.UpdatedBy = by
	return d.deps.Store.PutCanned(ctx, c)
}

// DeleteCanned deletes a canned reply.
func (d *Desk) DeleteCanned(ctx context.Context, id int64) error {
	return d.deps.Store.DeleteCanned(ctx, id)
}
