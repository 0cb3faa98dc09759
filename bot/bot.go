package bot

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// Conversations is the conversation storage the bot needs.
type Conversations interface {
	// AppendMessage stores m at the end of its conversation and returns it
	// with id, seq and time set; a ClientID already stored returns the earlier
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

// Handoff asks for a person to take a conversation over.
type Handoff interface {
	Request(ctx context.Context, conversationID, trigger string) (HandoffStatus, error)
}

// Publisher delivers events to everyone watching a conversation. It must not
// block: slow receivers are its problem, not the bot's.
type Publisher interface {
	Publish(conversationID string, ev Event)
}

// HandoffStatus is where a conversation stands with the human agents.
type HandoffStatus struct {
	Status   string `json:"status"` // queued | assigned | closed | offline
	Position int    `json:"position,omitempty"`
}

// Event types published to a conversation.
const (
	EventAck     = "ack"
	EventMessage = "message"
	EventTyping  = "typing"
	EventHandoff = "handoff"
	EventError   = "error"
)

// Event is something that happened in a conversation, published after it
// was stored (for acks and messages).
type Event struct {
	Type     string
	ClientID string         // ack, error
	Seq      int64          // ack
	Message  *Message       // message
	Role     string         // typing
	Handoff  *HandoffStatus // handoff
	Code     string         // error: a stable code
	Text     string         // error: a human-readable message
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
	// Workers is the number of goroutines that run turns; zero means 8.
	// Turns of one conversation always run on the same worker, in order.
	Workers int
	// QueueLen is each worker's queue length; zero means 128. A full queue
	// makes Submit return ErrBusy instead of blocking the caller.
	QueueLen int
	// TurnTimeout bounds one turn; zero means 15 s.
	TurnTimeout time.Duration
	// Now returns the current time; zero means time.Now.
	Now func() time.Time
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
}

// Bot answers shopper turns from the knowledge base and the shopper's own
// orders. Without an LLM it answers through fixed, bilingual templates.
type Bot struct {
	cfg     Config
	convs   Conversations
	orders  Orders
	kb      Retriever
	gaps    GapRecorder
	handoff Handoff
	pub     Publisher
	returns Returns
	log     *slog.Logger

	queues  []chan Turn
	mu      sync.RWMutex // guards stopped against Submit racing Run's exit
	stopped bool
}

// New returns a Bot. Run must be called for it to answer.
func New(cfg Config, deps Deps, log *slog.Logger) *Bot {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 128
	}
	if cfg.TurnTimeout <= 0 {
		cfg.TurnTimeout = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bot{cfg: cfg, convs: deps.Conversations, orders: deps.Orders, kb: deps.Knowledge, gaps: deps.Gaps,
		handoff: deps.Handoff, pub: deps.Publish, log: log}
	b.returns = deps.Returns
	b.queues = make([]chan Turn, cfg.Workers)
	for i := range b.queues {
		b.queues[i] = make(chan Turn, cfg.QueueLen)
	}
	return b
}

// Submit queues a turn without waiting. It returns ErrBusy when the
// conversation's worker queue is full and ErrStopped once Run has returned.
func (b *Bot) Submit(t Turn) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.stopped {
		return ErrStopped
	}
	h := fnv.New32a()
	h.Write([]byte(t.ConversationID))
	select {
	case b.queues[h.Sum32()%uint32(len(b.queues))] <- t:
		return nil
	default:
		return ErrBusy
	}
}

// Run runs the workers until ctx is done, then lets each finish the turn in
// hand and returns. Queued turns not yet started are dropped: they were not
// acknowledged, so clients resend them.
func (b *Bot) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, q := range b.queues {
		wg.Add(1)
		// Each worker is owned by Run and exits when ctx is done.
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case t := <-q:
					b.runTurn(ctx, t)
				}
			}
		}()
	}
	wg.Wait()
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
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
	b.pub.Publish(t.ConversationID, Event{Type: EventTyping, Role: RoleBot})

	reply, handoffTrigger, err := b.answer(ctx, t, log)
	if err != nil {
		return err
	}
	if handoffTrigger != "" {
		return b.requestHandoff(ctx, t, reply.lang, handoffTrigger, t.ClientID, log)
	}
	if reply.Intent == IntentUnsure {
		b.recordGap(ctx, log, t.Text, knowledge.GapUnanswered, reply.bestID, reply.bestConfidence)
	}
	return b.send(ctx, t.ConversationID, reply.Message)
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

// requestHandoff asks for a person and tells the shopper what happens next.
// The shopper's last knowledge question counts as a gap: it ended in a handoff.
func (b *Bot) requestHandoff(ctx context.Context, t Turn, lang, trigger, replyTo string, log *slog.Logger) error {
	st, err := b.handoff.Request(ctx, t.ConversationID, trigger)
	if err != nil {
		return fmt.Errorf("request handoff: %w", err)
	}
	if q, reply, err := b.convs.LastQuestion(ctx, t.ConversationID); err == nil {
		b.recordGap(ctx, log, q.Text, knowledge.GapHandoff, firstSource(reply), 0)
	} else if !errors.Is(err, ErrNotFound) {
		log.Warn("find the question before a handoff", "err", err)
	}
	b.log.Info("handoff requested", "conversation", t.ConversationID, "trigger", trigger, "status", st.Status)
	msg := Message{Role: RoleSystem, ReplyTo: replyTo, Intent: IntentHandoff}
	switch st.Status {
	case "queued":
		msg.Text = fmt.Sprintf(text(lang, msgHandoffQueued), st.Position)
	case "assigned":
		msg.Text = text(lang, msgHandoffAssigned)
	default:
		msg.Text = text(lang, msgHandoffOffline)
	}
	if err := b.send(ctx, t.ConversationID, msg); err != nil {
		return err
	}
	b.pub.Publish(t.ConversationID, Event{Type: EventHandoff, Handoff: &st})
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
