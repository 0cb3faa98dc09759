package handoff

import (
	"errors"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// Case statuses: where one request for a person stands.
const (
	// StatusQueued waits in the queue for an agent.
	StatusQueued = "queued"
	// StatusAssigned is with one agent, who answers; the bot is silent.
	StatusAssigned = "assigned"
	// StatusTicket is a message the shopper left while no agent was there;
	// an agent claims it (it becomes assigned) and answers.
	StatusTicket = "ticket"
	// StatusClosed is over: the bot answers again.
	StatusClosed = "closed"
	// StatusOffline is not stored on a case: it is what the shopper is told
	// when nobody can take the conversation now (no agent online, or outside
	// service hours), with an invitation to leave a message.
	StatusOffline = "offline"
)

// Presence is whether an agent takes conversations now.
type Presence string

// Agent presences. Only online agents with a connected console and free
// capacity are given conversations; away agents keep theirs but get no
// new ones.
const (
	Online  Presence = "online"
	Away    Presence = "away"
	Offline Presence = "offline"
)

// Valid reports whether p is one of the presences.
func (p Presence) Valid() bool { return p == Online || p == Away || p == Offline }

// Resolutions an agent may close a case with.
var Resolutions = []string{"resolved", "unresolved", "follow_up", "spam", "duplicate"}

// Contact preferences a shopper may give with a left message.
var ContactVias = []string{"chat", "email", "phone"}

// Errors of the desk. ErrNotFound is bot.ErrNotFound, so the web layer
// answers 404 alike for a conversation that does not exist and one the
// agent may not see.
var (
	ErrNotFound = bot.ErrNotFound
	// ErrTaken is returned when a claim or transfer finds the case no longer
	// in the state it expected: another agent was faster.
	ErrTaken = errors.New("handoff: taken by someone else")
	// ErrNotYours is returned when an agent acts on a conversation that is
	// not assigned to them (reply, transfer, close).
	ErrNotYours = errors.New("handoff: not assigned to you")
	// ErrNoAgent is returned by a transfer to an agent who cannot take it
	// (unknown, not an agent, not connected, or full).
	ErrNoAgent = errors.New("handoff: that agent cannot take it")
	// ErrInvalid wraps bad input: an unknown resolution, an empty reply.
	ErrInvalid = errors.New("handoff: invalid")
	// ErrShortcutTaken is returned when a canned reply's shortcut and
	// language are in use by another.
	ErrShortcutTaken = errors.New("handoff: shortcut taken")
	// ErrNoModel is returned by Draft without a model.
	ErrNoModel = errors.New("handoff: no model configured")
)

// Staff is the signed-in staff member acting in the console.
type Staff struct {
	ID       int64
	Name     string // display name, shown to shoppers on agent messages
	Admin    bool   // admins see every conversation
	Username string // for the audit log; Name when empty
	Role     string // for the audit log
	IP       string // for the audit log
}

// Case is one request for a person on a conversation, from the request to
// its close.
type Case struct {
	ID             int64     `json:"id"`
	ConversationID string    `json:"conversation"`
	ShopperID      string    `json:"shopper_id,omitempty"`
	ShopperName    string    `json:"shopper_name,omitempty"`
	Lang           string    `json:"lang"`
	Tier           string    `json:"tier,omitempty"`
	Trigger        string    `json:"trigger"`
	Status         string    `json:"status"`
	Priority       int       `json:"priority"`
	AgentID        int64     `json:"agent_id,omitempty"`
	AgentName      string    `json:"agent_name,omitempty"`
	RequestedAt    time.Time `json:"requested_at"`
	AssignedAt     time.Time `json:"assigned_at,omitzero"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	Resolution     string    `json:"resolution,omitempty"`
	// Position is the 1-based place in the queue and ETA the estimated
	// wait, for queued cases.
	Position   int     `json:"position,omitempty"`
	ETASeconds int     `json:"eta_seconds,omitempty"`
	Ticket     *Ticket `json:"ticket,omitempty"`
	// LastText is the shopper's latest message, cut to 120 characters,
	// personal data masked.
	LastText string  `json:"last_text,omitempty"`
	Summary  Summary `json:"summary"`
}

// Ticket is a message a shopper left while nobody was there.
type Ticket struct {
	Text       string `json:"text"`
	ContactVia string `json:"contact_via"` // chat | email | phone
	// Contact is the e-mail address or phone number; the console shows it
	// masked until an agent reveals it.
	Contact string `json:"contact,omitempty"`
}

// Summary is what an agent reads before answering: extractive always, and
// a short model-written paragraph when a model is configured.
type Summary struct {
	Trigger   string       `json:"trigger"`
	Questions []string     `json:"questions"` // the shopper's last questions, masked, newest last
	Orders    []string     `json:"orders"`    // order ids mentioned or shown
	Entries   []bot.Source `json:"entries"`   // knowledge entries the bot answered from
	Text      string       `json:"text,omitempty"`
}

// Note is an internal note on a conversation: agents see it, the shopper
// never does (notes are not messages and never travel on the
// conversation's topic).
type Note struct {
	ID             int64     `json:"id"`
	ConversationID string    `json:"conversation"`
	AgentID        int64     `json:"agent_id"`
	AgentName      string    `json:"agent_name"`
	Text           string    `json:"text"`
	CreatedAt      time.Time `json:"created_at"`
}

// Agent is a staff member who answers conversations, with what routing
// needs to know.
type Agent struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Langs     []string `json:"langs"`     // "zh", "en"
	MaxChats  int      `json:"max_chats"` // concurrent conversations
	Presence  Presence `json:"presence"`
	Connected bool     `json:"connected"` // has a console open
	Active    int      `json:"active"`    // conversations assigned now
}

// Board is what one agent's console shows: tickets first, then the queue
// in priority order, then the agent's own conversations, and the agents.
type Board struct {
	Me      Agent   `json:"me"`
	Tickets []Case  `json:"tickets"`
	Queue   []Case  `json:"queue"`
	Mine    []Case  `json:"mine"`
	Agents  []Agent `json:"agents"`
	// Open says whether the service is within its hours now.
	Open bool `json:"open"`
}

// Canned is a saved reply an agent inserts by typing /shortcut.
type Canned struct {
	ID        int64     `json:"id"`
	Shortcut  string    `json:"shortcut"` // without the slash: 1-32 of a-z 0-9 _ -
	Lang      string    `json:"lang"`     // zh | en | "" for both
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Suggestion is a knowledge entry an agent may insert as a reply.
type Suggestion struct {
	ID         string  `json:"id"`
	Title      string  `json:"title"`
	Answer     string  `json:"answer"`
	Confidence float64 `json:"confidence"`
}

// Suggestions are the reply suggestions for a conversation's last question.
type Suggestions struct {
	Question string       `json:"question"`
	Entries  []Suggestion `json:"entries"`
}

// Notice tells agents' consoles that something changed, for them to
// refresh: the web layer turns it into a frame on /ws/agent.
type Notice struct {
	// Kind is "board" (the queue, tickets or someone's conversations
	// changed), "case" (a case's state or notes changed: ConversationID),
	// or "assigned" (ConversationID was just assigned to the agent).
	Kind           string
	ConversationID string
}

// Notifier delivers notices to agents' consoles. It must not block.
type Notifier interface {
	// Notify sends n to agent agentID's consoles, or to every connected
	// staff console when agentID is 0.
	Notify(agentID int64, n Notice)
}
