package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// Conversations is the conversation storage the bot needs.
type Conversations interface {
	// AppendMessage stores m at the end of its conversation and returns it
	// with seq and time set, and an id unless m.ID is set (a streamed reply
	// keeps the id its deltas carried); a ClientID already stored returns the earlier
	// message and duplicate true.
	AppendMessage(ctx context.Context, m Message) (stored Message, duplicate bool, err error)
	// ReplyTo returns the first reply to a shopper message, or ErrNotFound.
	ReplyTo(ctx context.Context, conversationID, clientID string) (Message, error)
	// SaveFeedback records a vote on a message of the conversation, or
	// returns ErrNotFound when the message is not one of its replies.
	SaveFeedback(ctx context.Context, conversationID, messageID string, helpful bool) error
	// SaveRating records the conversation's rating.
	SaveRating(ctx context.Context, conversationID string, score int, comment string) error
	// QuestionFor returns the bot message messageID and the shopper message
	// it replied to, or ErrNotFound.
	QuestionFor(ctx context.Context, conversationID, messageID string) (question, reply Message, err error)
	// MessagesAfter returns up to limit messages with seq > after, in order.
	MessagesAfter(ctx context.Context, conversationID string, after int64, limit int) ([]Message, error)
	// LastQuestion returns the latest shopper message the bot answered from
	// the knowledge base (or was unsure about) and that reply, or ErrNotFound.
	LastQuestion(ctx context.Context, conversationID string) (question, reply Message, err error)
}

// Orders gives the bot a shopper's own orders, and never anyone else's.
type Orders interface {
	// OrderOf returns orderID if it belongs to shopperID; otherwise an error
	// that errors.Is ErrNotFound (ErrOtherShopper when it exists but is someone else's).
	OrderOf(ctx context.Context, shopperID, orderID string) (Order, error)
	// RecentOrders returns up to limit of the shopper's orders, newest first.
	RecentOrders(ctx context.Context, shopperID string, limit int) ([]Order, error)
}

// Retriever finds knowledge entries for a question.
type Retriever interface {
	Search(ctx context.Context, q string, opts knowledge.SearchOptions) (knowledge.Result, error)
}

// GapRecorder counts the questions the bot did not answer well (no
// confident answer, a thumbs-down, a handoff), for ops to fill the gaps.
type GapRecorder interface {
	RecordGap(ctx context.Context, ev knowledge.GapEvent) error
}

// Handoff asks for a person to take a conversation over, and says where a
// conversation stands with the people (package handoff implements it).
type Handoff interface {
	// Request asks for a person and tells the shopper what happens next
	// (a stored system message, then a handoff event); the status is what
	// they were told.
	Request(ctx context.Context, req HandoffRequest) (HandoffStatus, error)
	// Status is where the conversation stands now; Status "" means it is
	// with the bot. While a case is queued or assigned the bot stays silent.
	Status(ctx context.Context, conversationID string) (HandoffStatus, error)
	// LeaveMessage turns a message the shopper left while nobody was there
	// into a ticket that agents see first when they come online.
	LeaveMessage(ctx context.Context, conversationID string, m LeftMessage) (HandoffStatus, error)
}

// HandoffRequest is a request for a person on a conversation.
type HandoffRequest struct {
	ConversationID string
	Trigger        string   // what asked: TriggerButton, TriggerWords, TriggerUpset...
	Shopper        *Shopper // nil for a visitor
	Lang           string   // the conversation's language
	// ReplyTo is the client id of the shopper message that asked, if any.
	ReplyTo string
}

// LeftMessage is what a shopper leaves when no agent is there.
type LeftMessage struct {
	Text       string
	ContactVia string // chat | email | phone
	Contact    string // the address or number, for email and phone
}

// Publisher delivers events to everyone watching a conversation. It must not
// block: slow receivers are its problem, not the bot's.
type Publisher interface {
	Publish(conversationID string, ev Event)
}

// HandoffStatus is where a conversation stands with the human agents.
type HandoffStatus struct {
	// Status is queued, assigned, ticket, closed, offline (nobody can take
	// it now: leave a message), or "" (with the bot).
	Status   string `json:"status"`
	Position int    `json:"position,omitempty"` // 1-based place in the queue
	// ETASeconds is the estimated wait while queued.
	ETASeconds int `json:"eta_seconds,omitempty"`
	// Agent is the display name of the agent the conversation is with.
	Agent string `json:"agent,omitempty"`
	// Available, from Status, says whether someone could take the
	// conversation now (within the hours, an agent online).
	Available bool `json:"-"`
	// Text is what the shopper was told, in the conversation's language.
	Text string `json:"-"`
}

// Event types published to a conversation.
const (
	EventAck     = "ack"
	EventMessage = "message"
	// EventDelta carries a chunk of a bot message still being generated
	// (MessageID, Text). It is not stored: the complete message follows
	// with the same id and is authoritative.
	EventDelta   = "delta"
	EventTyping  = "typing"
	EventHandoff = "handoff"
	EventError   = "error"
)

// Event is something that happened in a conversation, published after it
// was stored (for acks and messages).
type Event struct {
	Type     string
	ClientID string         // ack, error
	Seq      int64          // ack: the message's seq; delta: the chunk's number, from 0
	Message  *Message       // message
	Role     string         // typing
	Handoff  *HandoffStatus // handoff
	Code     string         // error: a stable code
	Text     string         // error: a human-readable message; delta: the chunk
	// MessageID is the id of the message a delta belongs to.
	MessageID string
}

// Turn is one thing a shopper did that the bot must answer. Identity comes
// from the connection's handshake, never from the text.
type Turn struct {
	ConversationID string
	Shopper        *Shopper // the verified shopper, or nil for an anonymous visitor
	Lang           string   // the conversation's language: "zh" or "en"
	ClientID       string   // the shopper's id for this message, unique per message
	Text           string
	// Handoff marks a request for a person made with the widget's button
	// rather than with words; Text is empty then.
	Handoff bool
	// Feedback, when set, is a vote on a message instead of a message.
	Feedback *Feedback
	// Rating, when set, rates the conversation instead of a message.
	Rating *Rating
	// Return, when set, is the shopper's Confirm or Cancel on a return card.
	Return *ReturnAction
	// Leave, when set, is a message left for the agents while nobody was
	// there (after an "offline" handoff): it becomes a ticket.
	Leave *LeftMessage

	// peopleAway is set by the bot: nobody could take the conversation
	// now, so rules that skip the bot (member tiers) do not apply.
	peopleAway bool
	// handoffStatus is set by the bot: where the conversation stands with
	// the people (HandoffStatus.Status).
	handoffStatus string
	// seq is set by the bot: the stored shopper message's seq.
	seq int64
}

// Feedback is a shopper's vote on whether a bot message helped.
type Feedback struct {
	MessageID string
	Helpful   bool
}

// Rating is a shopper's 1 to 5 rating of the conversation.
type Rating struct {
	Score   int
	Comment string
}

// ErrBusy is returned by Submit when the bot's queue is full.
var ErrBusy = errors.New("bot: busy")

// ErrStopped is returned by Submit once the bot is stopping.
var ErrStopped = errors.New("bot: stopped")

// Config configures a Bot. Zero values mean the documented defaults.
type Config struct {
	// Workers is how many turns may run at once; zero means 8. Turns of one
	// conversation always run one after another, in order. A bot with a
	// model waits on the network most of the time and wants many more.
	Workers int
	// QueueLen bounds the turns waiting across all conversations; zero
	// means 4096. A full queue makes Submit return ErrBusy instead of
	// blocking the caller.
	QueueLen int
	// ConversationQueueLen bounds the turns waiting in one conversation;
	// zero means 32.
	ConversationQueueLen int
	// TurnTimeout bounds one turn; zero means 15 s, or 60 s with a model.
	TurnTimeout time.Duration
	// Now returns the current time; zero means time.Now.
	Now func() time.Time
	// DirectTiers are member tiers (lower case) whose shoppers skip the
	// bot: their messages go to a person (trigger "tier"), except thanks
	// and goodbyes, and except when nobody could take them (the bot answers).
	DirectTiers []string
	// LLM configures answers phrased by a model; it is used only when
	// Deps.Model is set.
	LLM LLMConfig
}

// Deps are the services the bot calls.
type Deps struct {
	Conversations Conversations
	Orders        Orders
	Knowledge     Retriever
	// Gaps records unanswered questions; nil records nothing.
	Gaps    GapRecorder
	Handoff Handoff
	Publish Publisher
	// Returns stores return proposals; nil means the bot cannot prepare returns.
	Returns Returns
	// Model phrases answers and calls tools; nil answers without one.
	Model Model
	// Usage records the model's token use per conversation and day, for
	// the budgets; required with Model.
	Usage UsageLedger
	// Metrics observes the model's use per turn and conversation; nil
	// observes nothing.
	Metrics ModelMetrics
	// Profiles gives the shopper's current profile and the catalog, for
	// replies personalised with the shopper's consent (docs/profiles.md);
	// nil personalises nothing.
	Profiles Profiles
	// Webhooks tells the shop's systems about confirmed returns; nil
	// tells nobody.
	Webhooks Webhooks
}

// Bot answers shopper turns from the knowledge base and the shopper's own
// orders: through a model when one is configured, and through fixed,
// bilingual templates when not (or when the model fails).
type Bot struct {
	cfg     Config
	convs   Conversations
	orders  Orders
	kb      Retriever
	gaps    GapRecorder
	handoff Handoff
	pub     Publisher
	returns Returns
	// profiles is nil without personalisation.
	profiles Profiles
	hooks    Webhooks   // nil: none
	llm      *modelDeps // nil without a model
	log      *slog.Logger

	sem chan struct{} // one token per running turn

	mu      sync.Mutex
	ctx     context.Context // Run's context; nil until Run starts
	queues  map[string][]Turn
	pending int
	stopped bool
	wg      sync.WaitGroup // the conversation drainers
}

// New returns a Bot. Run must be called for it to answer.
func New(cfg Config, deps Deps, log *slog.Logger) *Bot {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 4096
	}
	if cfg.ConversationQueueLen <= 0 {
		cfg.ConversationQueueLen = 32
	}
	if cfg.TurnTimeout <= 0 {
		cfg.TurnTimeout = 15 * time.Second
		if deps.Model != nil {
			cfg.TurnTimeout = 60 * time.Second
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bot{cfg: cfg, convs: deps.Conversations, orders: deps.Orders, kb: deps.Knowledge, gaps: deps.Gaps,
		handoff: deps.Handoff, pub: deps.Publish, returns: deps.Returns, profiles: deps.Profiles, hooks: deps.Webhooks, log: log,
		sem: make(chan struct{}, cfg.Workers), queues: map[string][]Turn{}}
	if deps.Model != nil {
		b.llm = newModelDeps(cfg.LLM, deps)
	}
	return b
}

// Submit queues a turn without waiting. It returns ErrBusy when the
// conversation's queue or the bot's is full, and ErrStopped once Run has
// returned.
func (b *Bot) Submit(t Turn) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return ErrStopped
	}
	q, busy := b.queues[t.ConversationID]
	if len(q) >= b.cfg.ConversationQueueLen || b.pending >= b.cfg.QueueLen {
		return ErrBusy
	}
	b.queues[t.ConversationID] = append(q, t)
	b.pending++
	if !busy && b.ctx != nil {
		b.startDrain(t.ConversationID)
	}
	return nil
}

// startDrain starts the goroutine that runs a conversation's queued turns
// in order. Called with b.mu held; the goroutine is owned by Run, which
// waits for it.
func (b *Bot) startDrain(conversationID string) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.drain(b.ctx, conversationID)
	}()
}

// drain runs the turns of one conversation until its queue is empty. A
// conversation's entry in b.queues exists exactly while a drainer owns it.
func (b *Bot) drain(ctx context.Context, conversationID string) {
	for {
		b.mu.Lock()
		q := b.queues[conversationID]
		if len(q) == 0 || ctx.Err() != nil {
			// Stopping drops what is queued: those messages were not
			// acknowledged, so clients resend them.
			b.pending -= len(q)
			delete(b.queues, conversationID)
			b.mu.Unlock()
			return
		}
		t := q[0]
		b.mu.Unlock()

		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		b.runTurn(ctx, t)
		<-b.sem

		b.mu.Lock()
		q = b.queues[conversationID]
		b.queues[conversationID] = q[1:]
		b.pending--
		b.mu.Unlock()
	}
}

// Run answers turns until ctx is done, then lets each running turn finish
// and returns. Queued turns not yet started are dropped: they were not
// acknowledged, so clients resend them.
func (b *Bot) Run(ctx context.Context) error {
	b.mu.Lock()
	b.ctx = ctx
	for id := range b.queues {
		b.startDrain(id)
	}
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

// runTurn stores the shopper's message, acknowledges it, and answers it.
func (b *Bot) runTurn(parent context.Context, t Turn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), b.cfg.TurnTimeout)
	defer cancel()
	log := b.log.With("conversation", t.ConversationID)
	if err := b.turn(ctx, t, log); err != nil {
		log.Error("turn failed", "err", err)
		b.pub.Publish(t.ConversationID, Event{Type: EventError, ClientID: t.ClientID, Code: "internal",
			Text: text(langOr(t.Lang), msgInternalError)})
	}
}

func (b *Bot) turn(ctx context.Context, t Turn, log *slog.Logger) error {
	switch {
	case t.Feedback != nil:
		err := b.convs.SaveFeedback(ctx, t.ConversationID, t.Feedback.MessageID, t.Feedback.Helpful)
		if errors.Is(err, ErrNotFound) {
			b.pub.Publish(t.ConversationID, Event{Type: EventError, Code: "not_found", Text: "no such message in this conversation"})
			return nil
		}
		if err == nil && !t.Feedback.Helpful {
			q, reply, qerr := b.convs.QuestionFor(ctx, t.ConversationID, t.Feedback.MessageID)
			if qerr == nil && (reply.Intent == IntentFAQ || reply.Intent == IntentUnsure) {
				b.recordGap(ctx, log, q.Text, knowledge.GapThumbsDown, firstSource(reply), 0)
			}
		}
		return err
	case t.Rating != nil:
		return b.convs.SaveRating(ctx, t.ConversationID, t.Rating.Score, t.Rating.Comment)
	case t.Return != nil:
		return b.returnAction(ctx, t, log)
	}
	if t.Handoff && t.Text == "" {
		return b.requestHandoff(ctx, t, langOr(t.Lang), TriggerButton, "", log)
	}
	shopperMsg, dup, err := b.convs.AppendMessage(ctx, Message{
		ConversationID: t.ConversationID, Role: RoleShopper, Text: t.Text, ClientID: t.ClientID,
	})
	if err != nil {
		return fmt.Errorf("store shopper message: %w", err)
	}
	b.pub.Publish(t.ConversationID, Event{Type: EventAck, ClientID: t.ClientID, Seq: shopperMsg.Seq})
	if t.Leave != nil {
		if dup {
			return nil // the first attempt left the ticket
		}
		b.pub.Publish(t.ConversationID, Event{Type: EventMessage, Message: &shopperMsg})
		if _, err := b.handoff.LeaveMessage(ctx, t.ConversationID, *t.Leave); err != nil {
			return fmt.Errorf("leave a message: %w", err)
		}
		return nil
	}
	if dup {
		// A resend: answer only if the first attempt stored no reply.
		if _, err := b.convs.ReplyTo(ctx, t.ConversationID, t.ClientID); err == nil {
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("look up earlier reply: %w", err)
		}
	} else {
		b.pub.Publish(t.ConversationID, Event{Type: EventMessage, Message: &shopperMsg})
	}
	// While the conversation waits for or is with a person, the bot is
	// silent: the message reaches the agents through the same publish.
	st, err := b.handoff.Status(ctx, t.ConversationID)
	if err != nil {
		return fmt.Errorf("handoff status: %w", err)
	}
	if st.Status == "queued" || st.Status == "assigned" {
		return nil
	}
	t.peopleAway = !st.Available
	t.handoffStatus = st.Status
	t.seq = shopperMsg.Seq
	b.pub.Publish(t.ConversationID, Event{Type: EventTyping, Role: RoleBot})
	b.loadProfile(ctx, &t, log)

	reply, handoffTrigger, err := b.answer(ctx, t, shopperMsg.Seq, log)
	if err != nil {
		return err
	}
	if handoffTrigger == "" && reply.Intent == IntentUnsure && b.unsureBefore(ctx, t.ConversationID, shopperMsg.Seq, log) {
		// Two turns in a row without a confident answer: a person next.
		b.recordGap(ctx, log, t.Text, knowledge.GapUnanswered, reply.bestID, reply.bestConfidence)
		reply.Message = Message{Role: RoleBot, ReplyTo: t.ClientID, Intent: IntentHandoff, Text: text(reply.lang, msgUnsureTwice)}
		handoffTrigger = TriggerUnsure
	}
	if handoffTrigger != "" {
		if reply.Text != "" {
			if err := b.send(ctx, t.ConversationID, reply.Message); err != nil {
				return err
			}
		}
		return b.requestHandoff(ctx, t, reply.lang, handoffTrigger, t.ClientID, log)
	}
	if reply.Intent == IntentUnsure {
		b.recordGap(ctx, log, t.Text, knowledge.GapUnanswered, reply.bestID, reply.bestConfidence)
	}
	return b.send(ctx, t.ConversationID, reply.Message)
}

// unsureBefore reports whether the bot's last reply before seq was unsure.
func (b *Bot) unsureBefore(ctx context.Context, conversationID string, seq int64, log *slog.Logger) bool {
	msgs, err := b.convs.MessagesAfter(ctx, conversationID, max(0, seq-10), 10)
	if err != nil {
		log.Warn("read the previous reply", "err", err)
		return false
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Seq >= seq || m.Role != RoleBot {
			continue
		}
		return m.Intent == IntentUnsure
	}
	return false
}

// send stores a bot message and then publishes it.
func (b *Bot) send(ctx context.Context, conversationID string, m Message) error {
	m.ConversationID = conversationID
	if m.Role == "" {
		m.Role = RoleBot
	}
	stored, _, err := b.convs.AppendMessage(ctx, m)
	if err != nil {
		return fmt.Errorf("store reply: %w", err)
	}
	b.pub.Publish(conversationID, Event{Type: EventMessage, Message: &stored})
	return nil
}

// requestHandoff asks for a person; the desk tells the shopper what
// happens next. The shopper's last knowledge question counts as a gap: it
// ended in a handoff.
func (b *Bot) requestHandoff(ctx context.Context, t Turn, lang, trigger, replyTo string, log *slog.Logger) error {
	if q, reply, err := b.convs.LastQuestion(ctx, t.ConversationID); err == nil {
		b.recordGap(ctx, log, q.Text, knowledge.GapHandoff, firstSource(reply), 0)
	} else if !errors.Is(err, ErrNotFound) {
		log.Warn("find the question before a handoff", "err", err)
	}
	st, err := b.handoff.Request(ctx, HandoffRequest{ConversationID: t.ConversationID, Trigger: trigger,
		Shopper: t.Shopper, Lang: lang, ReplyTo: replyTo})
	if err != nil {
		return fmt.Errorf("request handoff: %w", err)
	}
	log.Info("handoff requested", "trigger", trigger, "status", st.Status)
	return nil
}

// recordGap counts a question the bot did not answer well, with the best
// candidate entry the search found. A failure is logged, never the turn's:
// the shopper still gets the reply.
func (b *Bot) recordGap(ctx context.Context, log *slog.Logger, question, reason, bestID string, bestConfidence float64) {
	if b.gaps == nil || question == "" {
		return
	}
	ev := knowledge.GapEvent{Question: question, Locale: localeOf(detectLang(question, "")), Reason: reason,
		BestID: bestID, BestConfidence: bestConfidence, At: b.cfg.Now()}
	if err := b.gaps.RecordGap(ctx, ev); err != nil {
		log.Warn("record a knowledge gap", "reason", reason, "err", err)
	}
}

// firstSource is the id of the reply's first source, or "".
func firstSource(m Message) string {
	if len(m.Sources) > 0 {
		return m.Sources[0].ID
	}
	return ""
}

// localeOf maps the bot's language ("zh" or "en") to a knowledge locale.
func localeOf(lang string) string {
	if lang == "en" {
		return knowledge.LocaleEN
	}
	return knowledge.LocaleZH
}

func langOr(l string) string {
	if l == "en" {
		return "en"
	}
	return "zh"
}
