// Package handoff moves conversations from the bot to human agents and back:
// the cases (one per request for a person), the queue ordered by priority,
// routing by language and free capacity, agents' presence, service hours,
// tickets left while nobody was there, notes, canned replies, reply
// suggestions and the summary an agent reads first.
//
// The Desk is the whole API: the bot calls Request, Status and
// LeaveMessage; the web layer calls the console methods on behalf of a
// signed-in Staff member and checks nothing itself, because every console
// method checks access. Storage sits behind Store; delivery to shoppers
// goes through bot.Publisher and to consoles through Notifier.
package handoff

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// Routing modes.
const (
	// RoutingAuto gives the top queued conversation to the least-loaded
	// online agent who speaks its language and has room; agents may also
	// claim from the queue.
	RoutingAuto = "auto"
	// RoutingClaim leaves the queue to agents, who claim what they take.
	RoutingClaim = "claim"
)

// Config configures a Desk. Zero values mean the documented defaults.
type Config struct {
	// Routing is RoutingAuto (the default) or RoutingClaim.
	Routing string
	// Hours are the service hours; nil means always open (then only
	// agents' presence decides).
	Hours *Hours
	// TierPriority adds to a case's priority by the shopper's tier; nil
	// means DefaultTierPriority.
	TierPriority map[string]int
	// MaxChats is an agent's default capacity; zero means 5.
	MaxChats int
	// HandleTime is the assumed time an agent spends on a conversation,
	// for wait estimates, until closed cases give a measured one; zero
	// means 4 minutes.
	HandleTime time.Duration
	// Tick is how often the queue is re-ranked (waiting time raises
	// priority), estimates refreshed and idle agents given work; zero means 15 s.
	Tick time.Duration
	// AbandonAfter is how long an agent may be away from every console
	// before their conversations go back to the queue (or become tickets
	// when nobody is there); zero means 3 minutes. A reload takes seconds.
	AbandonAfter time.Duration
	// Now returns the current time; zero means time.Now.
	Now func() time.Time
	// SharedStore says other processes (other nodes) may open or change
	// cases in the same store. The desk then keeps no set of the open
	// cases in memory (opencases.go) and Status asks the store on every
	// shopper message. False, the default, is right for one server on its
	// own SQLite file.
	SharedStore bool
}

// Store is the storage the desk needs; package bot/sqlite implements it.
type Store interface {
	// OpenCase creates a case for the conversation unless one is open
	// (queued, assigned or ticket), which it returns with created false.
	OpenCase(ctx context.Context, c Case) (stored Case, created bool, err error)
	// OpenCaseOf returns the conversation's open case, or ErrNotFound.
	OpenCaseOf(ctx context.Context, conversationID string) (Case, error)
	// LastCaseOf returns the conversation's latest case, open or closed, or ErrNotFound.
	LastCaseOf(ctx context.Context, conversationID string) (Case, error)
	// CasesOf returns the conversation's cases, newest first.
	CasesOf(ctx context.Context, conversationID string) ([]Case, error)
	// Cases returns the open cases with one of the statuses.
	Cases(ctx context.Context, statuses ...string) ([]Case, error)
	// UpdateCase changes a case if its status and agent are still from and
	// fromAgent, atomically; otherwise ErrTaken.
	UpdateCase(ctx context.Context, id int64, from string, fromAgent int64, to Case) error
	// SetSummary stores a case's summary.
	SetSummary(ctx context.Context, id int64, s Summary) error
	// HandleTimes returns how long the last n closed cases were with an agent.
	HandleTimes(ctx context.Context, n int) ([]time.Duration, error)

	AddNote(ctx context.Context, n Note) (Note, error)
	Notes(ctx context.Context, conversationID string) ([]Note, error)

	// Agents returns the enabled staff who may answer conversations.
	Agents(ctx context.Context) ([]Agent, error)
	SetAgentSettings(ctx context.Context, id int64, langs []string, maxChats int) error

	CannedList(ctx context.Context) ([]Canned, error)
	PutCanned(ctx context.Context, c Canned) (Canned, error)
	DeleteCanned(ctx context.Context, id int64) error

	// Audit appends a row to the append-only audit log.
	Audit(ctx context.Context, e AuditEntry) error

	Conversation(ctx context.Context, id string) (bot.Conversation, error)
	AppendMessage(ctx context.Context, m bot.Message) (bot.Message, bool, error)
	MessagesAfter(ctx context.Context, conversationID string, after int64, limit int) ([]bot.Message, error)
	Shopper(ctx context.Context, id string) (bot.Shopper, error)
	RecentOrders(ctx context.Context, shopperID string, limit int) ([]bot.Order, error)
}

// AuditEntry is one row of the audit log: who saw which personal data.
type AuditEntry struct {
	Actor          string    `json:"actor"` // username
	Role           string    `json:"role"`
	Action         string    `json:"action"` // "reveal"
	ShopperID      string    `json:"shopper_id,omitempty"`
	Fields         []string  `json:"fields"`
	ConversationID string    `json:"conversation,omitempty"`
	IP             string    `json:"ip,omitempty"`
	At             time.Time `json:"at"`
}

// Summarizer writes the short summary an agent reads first; a bot with a
// model implements it. Nil keeps the extractive summary only.
type Summarizer interface {
	SummarizeForAgent(ctx context.Context, conversationID, lang string) (string, error)
}

// Drafter drafts a reply for an agent from the conversation and knowledge
// entries; a bot with a model implements it.
type Drafter interface {
	DraftReply(ctx context.Context, conversationID, lang string, refs []bot.Reference) (string, error)
}

// Searcher finds knowledge entries for reply suggestions.
type Searcher = bot.Retriever

// Deps are the services the desk calls.
type Deps struct {
	Store     Store
	Publish   bot.Publisher // to the shopper's sockets (and agents watching)
	Notify    Notifier      // to consoles; nil notifies nobody
	Knowledge Searcher      // for reply suggestions; nil suggests nothing
	// Summarizer and Drafter are nil without a model.
	Summarizer Summarizer
	Drafter    Drafter
	// Webhooks tells the shop's systems when a conversation is handed
	// to the people; nil tells nobody.
	Webhooks bot.Webhooks
}

// Desk is the handoff desk. Create it with NewDesk and run it with Run.
type Desk struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	// routeMu serialises every change of a case's status, so that a
	// shopper's transcript tells them in order (queued, then assigned).
	routeMu sync.Mutex

	mu        sync.Mutex
	presence  map[int64]Presence // chosen by the agent; Online when first connected
	conns     map[int64]int      // open consoles per agent
	lastGot   map[int64]time.Time
	gone      map[int64]time.Time // when each agent's last console closed
	released  map[int64]int64     // case → the agent who sent it back to the queue
	staffedAt time.Time           // when someone last could take a conversation
	started   time.Time           // agents never connected count as gone since then
	told      map[int64]queueSpot // the last position and estimate each queued case was told
	kick      chan struct{}       // wakes Run to route now
	open      *openCases          // conversations with an open case; nil with SharedStore
	wg        sync.WaitGroup      // summaries being written
	runCtx    context.Context     // Run's context, for summaries; nil before Run
}

// queueSpot is what a queued shopper was last told.
type queueSpot struct{ pos, eta int }

// DefaultTierPriority ranks member tiers in the queue.
var DefaultTierPriority = map[string]int{"svip": 3, "vip": 2, "platinum": 2, "gold": 1}

// triggerPriority ranks what asked for a person: safety and anger first.
func triggerPriority(trigger string) int {
	switch trigger {
	case "sensitive_safety":
		return 4
	case "shopper_upset", "sensitive_legal":
		return 3
	case "tier":
		return 2
	case "bot_unsure", "bot_escalated":
		return 1
	}
	if len(trigger) > len("sensitive_") && trigger[:len("sensitive_")] == "sensitive_" {
		return 2
	}
	return 0
}

// NewDesk returns a desk; Run must be called for routing and estimates.
func NewDesk(cfg Config, deps Deps, log *slog.Logger) *Desk {
	if cfg.Routing != RoutingClaim {
		cfg.Routing = RoutingAuto
	}
	if cfg.TierPriority == nil {
		cfg.TierPriority = DefaultTierPriority
	}
	if cfg.MaxChats <= 0 {
		cfg.MaxChats = 5
	}
	if cfg.HandleTime <= 0 {
		cfg.HandleTime = 4 * time.Minute
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 15 * time.Second
	}
	if cfg.AbandonAfter <= 0 {
		cfg.AbandonAfter = 3 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Desk{cfg: cfg, deps: deps, log: log, presence: map[int64]Presence{}, conns: map[int64]int{},
		lastGot: map[int64]time.Time{}, told: map[int64]queueSpot{}, kick: make(chan struct{}, 1),
		gone: map[int64]time.Time{}, started: cfg.Now(), released: map[int64]int64{}, staffedAt: cfg.Now()}
	if !cfg.SharedStore {
		d.open = &openCases{convs: map[string]struct{}{}}
	}
	return d
}

// SetAssistant sets the model-backed summarizer and drafter, for a desk
// built before the bot that implements them. Call it before Run.
func (d *Desk) SetAssistant(s Summarizer, dr Drafter) {
	d.deps.Summarizer, d.deps.Drafter = s, dr
}

// Run routes queued conversations to agents, re-ranks the queue and tells
// queued shoppers their new place, on every change and every Tick, until
// ctx ends; then it waits for summaries being written.
func (d *Desk) Run(ctx context.Context) error {
	d.mu.Lock()
	d.runCtx = ctx
	d.mu.Unlock()
	d.routeMu.Lock()
	if !d.open.isLoaded() {
		if err := d.loadOpenLocked(ctx); err != nil {
			// Status asks the store until a later load (its own, or
			// Forget's) works.
			d.log.Warn("open cases not loaded; status asks the store", "err", err)
		}
	}
	d.routeMu.Unlock()
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	defer func() {
		d.mu.Lock()
		d.runCtx = nil
		d.mu.Unlock()
		d.wg.Wait()
	}()
	for {
		d.route(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.kick:
		}
	}
}

// wake asks Run to route now, without waiting.
func (d *Desk) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *Desk) notify(agentID int64, n Notice) {
	if d.deps.Notify != nil {
		d.deps.Notify.Notify(agentID, n)
	}
}
