package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
)

// replayPage is how many stored messages one replay query reads.
const replayPage = 200

// chatReadBuffer is the size of a chat socket's read buffer.
const chatReadBuffer = 512

const (
	// typingEvery is the least time between two shopper typing events one
	// socket forwards to the agents; the frames in between are dropped.
	typingEvery = time.Second
	// maxContactRunes bounds the contact of a left message.
	maxContactRunes = 200
	// statusTimeout bounds the handoff status query of a (re)connect.
	statusTimeout = 5 * time.Second
)

var (
	visitorIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
	clientIDPattern   = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
	proposalIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// emailPattern accepts a plausible address: something, @, a domain with a dot.
	emailPattern = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@.]+$`)
	// phonePattern accepts 5 to 20 digits, "+", "-" and spaces (at least 5
	// digits are checked apart).
	phonePattern = regexp.MustCompile(`^[0-9+ -]{5,20}$`)
)

// rateLimitedText is the "rate_limited" error's message in the
// conversation's language (true: English).
var rateLimitedText = map[bool]string{
	false: "消息发送太频繁，请稍等片刻再发。",
	true:  "too many messages; please wait a moment",
}

// errBadToken marks a shopper token that does not verify.
var errBadToken = errors.New("invalid shopper token")

// chatIdentity is who is on the other end, decided once at the handshake.
type chatIdentity struct {
	shopper *bot.Shopper // nil for an anonymous visitor
	expires time.Time    // when the shopper's token expires
	visitor string
}

func (id chatIdentity) owner() string {
	if id.shopper != nil {
		return "s:" + id.shopper.ID
	}
	return "v:" + id.visitor
}

// handleChat upgrades GET /ws/chat to a shopper chat socket (protocol v1).
func (s *Server) handleChat() http.Handler {
	up := websocket.Upgrader{
		// Each socket keeps its read buffer for life; 512 B holds a typical
		// frame, and gorilla reads a longer one through it in pieces. (Zero
		// would keep net/http's 4 KiB buffer for the socket's life.)
		ReadBufferSize:  chatReadBuffer,
		WriteBufferSize: 4096,
		// Idle sockets hold no write buffer: most shoppers are idle most of the time.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
		// Compression stays off (OWASP: it enables compression side channels).
		EnableCompression: false,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Refuse foreign sites before any work is done for them.
		if !s.checkOrigin(r) {
			writeError(w, http.StatusForbidden, "forbidden_origin", "this site may not open the chat")
			return
		}
		if !websocket.IsWebSocketUpgrade(r) {
			writeError(w, http.StatusBadRequest, "not_websocket", "GET /ws/chat must be a websocket upgrade")
			return
		}
		q := r.URL.Query()
		id, err := s.identify(r.Context(), q)
		if errors.Is(err, errBadToken) {
			writeError(w, http.StatusUnauthorized, "invalid_token", "the shopper token is missing, malformed, expired or not signed by this shop")
			return
		}
		if err != nil {
			s.log.Error("identify shopper", "err", err)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "the chat service is not available right now")
			return
		}
		ip := s.remoteIP(r)
		release, ok := s.acquireSockets(w, ip, id.owner())
		if !ok {
			return
		}
		// Until the socket has a goroutine of its own, the handler releases
		// the socket caps; from then on that goroutine does.
		handedOver := false
		defer func() {
			if !handedOver {
				release()
			}
		}()
		lang := pickLang(q.Get("lang"), id.shopper, r.Header.Get("Accept-Language"))
		conv, err := s.deps.Chat.OpenConversation(r.Context(), id.owner(), shopperID(id), q.Get("conversation"), lang)
		if err != nil {
			s.log.Error("open conversation", "err", err)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "the chat service is not available right now")
			return
		}
		if conv.Lang != "" && q.Get("lang") == "" {
			lang = conv.Lang
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered (403 for a foreign origin, 400 for a bad handshake).
		}
		c := newConn(ws, &s.cfg, s.log.With("conversation", conv.ID))
		if err := s.track(c); err != nil {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1001, "server shutting down"), time.Now().Add(time.Second))
			ws.Close()
			return
		}
		sock := &chatSocket{srv: s, c: c, id: id, conv: conv, lang: lang, ip: ip,
			limiter: newWindowLimiter(s.cfg.MessagesPerMinute, time.Minute)}
		// The greeting and the replay run here, on the handler goroutine,
		// whose deep stack then goes; the socket's goroutine starts small.
		if !sock.open(s.ctx, q.Get("after")) {
			sock.end()
			s.untrack(c)
			return
		}
		handedOver = true
		s.goSocket(c, sock.read, func() {
			sock.end()
			release()
		})
	})
}

func shopperID(id chatIdentity) string {
	if id.shopper != nil {
		return id.shopper.ID
	}
	return ""
}

// identify verifies the shopper token, if any, or takes the visitor id.
func (s *Server) identify(ctx context.Context, q url.Values) (chatIdentity, error) {
	if tok := q.Get("token"); tok != "" {
		claims, err := s.deps.Tokens.Verify(tok)
		if err != nil {
			return chatIdentity{}, fmt.Errorf("%w: %w", errBadToken, err)
		}
		sh, err := s.deps.Shoppers.Shopper(ctx, claims.Shopper)
		if errors.Is(err, bot.ErrNotFound) {
			// A shopper the shop vouches for but has not sent us yet: known
			// by id only, with no orders.
			sh = bot.Shopper{ID: claims.Shopper}
		} else if err != nil {
			return chatIdentity{}, err
		}
		return chatIdentity{shopper: &sh, expires: time.Unix(claims.Expires, 0)}, nil
	}
	v := q.Get("visitor")
	if !visitorIDPattern.MatchString(v) {
		v = randomID()
	}
	return chatIdentity{visitor: v}, nil
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// pickLang chooses the conversation language: the lang parameter, else the
// shopper's profile, else the browser's Accept-Language, else Chinese.
func pickLang(param string, sh *bot.Shopper, acceptLanguage string) string {
	switch strings.ToLower(param) {
	case "zh", "zh-cn":
		return "zh"
	case "en":
		return "en"
	}
	if sh != nil && (sh.Lang == "zh" || sh.Lang == "en") {
		return sh.Lang
	}
	al := strings.ToLower(acceptLanguage)
	if strings.HasPrefix(al, "en") {
		return "en"
	}
	return "zh"
}

// checkOrigin allows requests without an Origin (not from a browser), from
// the server's own host, and from the configured shop origins. Everything
// else is refused, which gorilla answers with 403.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range s.cfg.AllowedOrigins {
		if strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}

// chatSocket is the server side of one shopper socket.
type chatSocket struct {
	srv     *Server
	c       *conn
	id      chatIdentity
	conv    bot.Conversation
	lang    string
	ip      string         // the client IP the per-IP limits count
	limiter *windowLimiter // this socket's own message window
	// expiry closes a shopper's socket when its token expires; nil for a visitor.
	expiry *time.Timer
	// lastTyping is when this socket last forwarded the shopper's typing.
	// Only the reader touches it.
	lastTyping time.Time
}

// open starts the socket's writer, sends hello, replays history and goes
// live, on the HTTP handler goroutine. It returns false when the socket
// closed meanwhile (or the history is unavailable); either way the caller
// then calls end.
func (k *chatSocket) open(ctx context.Context, afterParam string) bool {
	hub := k.srv.deps.Hub
	c := k.c
	c.start()
	if k.id.shopper != nil {
		// A shopper's socket lives no longer than the token that opened it:
		// the widget reconnects with a fresh one.
		k.expiry = time.AfterFunc(time.Until(k.id.expires), func() {
			c.close(websocket.ClosePolicyViolation, "token expired")
		})
	}

	hello := helloFrame{Type: "hello", Conversation: k.conv.ID, LastSeq: k.conv.LastSeq, Lang: k.lang, Prechat: k.srv.cfg.Prechat}
	if k.id.shopper != nil {
		// The name greets the shopper only with their consent to
		// personalised replies, like the bot's own greeting.
		hello.Shopper = &shopperInfo{ID: k.id.shopper.ID}
		if k.id.shopper.Personalize {
			hello.Shopper.Name = k.id.shopper.Name
		}
	} else {
		hello.Visitor = k.id.visitor
	}
	if !c.replay(outFrame{data: encode(hello)}) {
		return false
	}
	// Register before reading history, buffering live frames, so nothing
	// published between the two is lost (goLive dedupes by seq).
	hub.add(k.conv.ID, c)
	after, _ := strconv.ParseInt(afterParam, 10, 64)
	if after < 0 {
		after = 0
	}
	for {
		msgs, err := k.srv.deps.Chat.MessagesAfter(ctx, k.conv.ID, after, replayPage)
		if err != nil {
			if ctx.Err() == nil { // else the server is shutting down and closed the socket
				k.c.log.Error("replay history", "err", err)
			}
			c.close(websocket.CloseInternalServerErr, "history unavailable")
			return false
		}
		for _, m := range msgs {
			if !c.replay(messageOut(m)) {
				return false
			}
			after = m.Seq
		}
		if len(msgs) < replayPage {
			break
		}
	}
	if !k.resumeHandoff(ctx) {
		return false
	}
	c.goLive()
	return true
}

// end unregisters the socket, closes it (with 1000 unless it was closed
// with another code already) and waits until its writer has closed the
// connection. It is called once, after open or read.
func (k *chatSocket) end() {
	if k.expiry != nil {
		k.expiry.Stop()
	}
	k.srv.deps.Hub.remove(k.conv.ID, k.c)
	k.c.close(websocket.CloseNormalClosure, "")
	<-k.c.done
}

// read is the socket's only reader: it reads frames until the socket
// closes. It runs on the socket's own goroutine (Server.goSocket).
func (k *chatSocket) read() {
	c := k.c
	c.ws.SetReadLimit(k.srv.cfg.MaxFrameBytes)
	c.ws.SetReadDeadline(time.Now().Add(k.srv.cfg.PongWait))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(k.srv.cfg.PongWait))
		return nil
	})
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			return // closed, timed out, or over the read limit (gorilla sent 1009)
		}
		c.ws.SetReadDeadline(time.Now().Add(k.srv.cfg.PongWait))
		if kind != websocket.TextMessage {
			k.fail("", "bad_frame", "frames must be JSON text")
			continue
		}
		k.handleFrame(data)
	}
}

// resumeHandoff sends a (re)connected socket one handoff frame marked
// resumed when its conversation has an open case (queued, assigned or a
// ticket), so the widget restores its state without a new notice. It runs
// at the end of the replay, before the live frames buffered meanwhile are
// flushed: a change published after the status was read reaches the socket
// after this frame, never before it. A failure is logged and the socket
// carries on without the frame. It returns false when the socket closed.
func (k *chatSocket) resumeHandoff(ctx context.Context) bool {
	desk := k.srv.deps.Desk
	if desk == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	st, err := desk.Status(ctx, k.conv.ID)
	if err != nil {
		k.c.log.Warn("handoff status for a resumed socket", "err", err)
		return true
	}
	switch st.Status {
	case handoff.StatusQueued, handoff.StatusAssigned, handoff.StatusTicket:
		return k.c.replay(handoffOut(st, true))
	}
	return true
}

// fail sends an error frame to this socket only; the socket keeps working.
func (k *chatSocket) fail(clientID, code, msg string) {
	k.c.deliver(outFrame{data: encode(errorFrame{Type: "error", Code: code, Message: msg, ClientID: clientID})})
}

func (k *chatSocket) handleFrame(data []byte) {
	if !utf8.Valid(data) {
		k.fail("", "bad_encoding", "frames must be valid UTF-8")
		return
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		k.fail("", "bad_frame", "a frame must be a JSON object with a type")
		return
	}
	var f inFrame
	if err := json.Unmarshal(trimmed, &f); err != nil {
		k.fail("", "bad_json", "the frame is not valid JSON")
		return
	}
	switch f.Type {
	case "message":
		k.onMessage(f)
	case "handoff":
		k.onHandoff()
	case "typing":
		k.onTyping(time.Now())
	case "leave_message":
		k.onLeaveMessage(f)
	case "feedback":
		k.onFeedback(f)
	case "rating":
		k.onRating(f)
	case "return_confirm", "return_cancel":
		k.onReturn(f)
	case "":
		k.fail(f.ClientID, "bad_frame", "the frame has no type")
	default:
		k.fail(f.ClientID, "unknown_type", "unknown frame type")
	}
}

func (k *chatSocket) onMessage(f inFrame) {
	if !clientIDPattern.MatchString(f.ClientID) {
		k.fail("", "invalid_message", "a message needs a client_id of 1 to 128 printable ASCII characters")
		return
	}
	text := strings.TrimSpace(f.Text)
	if text == "" {
		k.fail(f.ClientID, "empty_message", "the message text is empty")
		return
	}
	if utf8.RuneCountInString(text) > k.srv.cfg.MaxTextRunes {
		k.fail(f.ClientID, "too_long", "the message is longer than "+strconv.Itoa(k.srv.cfg.MaxTextRunes)+" characters")
		return
	}
	k.submit(bot.Turn{ConversationID: k.conv.ID, Shopper: k.id.shopper, Lang: k.lang, ClientID: f.ClientID, Text: text})
}

func (k *chatSocket) onHandoff() {
	k.submit(bot.Turn{ConversationID: k.conv.ID, Shopper: k.id.shopper, Lang: k.lang, Handoff: true})
}

// onTyping forwards the shopper's typing to the agents watching the
// conversation, at most one event per typingEvery on this socket; the
// frames in between are dropped silently, and none counts against the
// message rate limit. Shopper sockets never receive it (encodeEvent).
func (k *chatSocket) onTyping(now time.Time) {
	if !k.lastTyping.IsZero() && now.Sub(k.lastTyping) < typingEvery {
		return
	}
	k.lastTyping = now
	k.srv.deps.Hub.Publish(k.conv.ID, bot.Event{Type: bot.EventTyping, Role: bot.RoleShopper})
}

// onLeaveMessage is a message the shopper leaves for the agents after an
// "offline" handoff. Like a message it needs a client_id, so a resend is
// stored once; the bot turns it into a ticket.
func (k *chatSocket) onLeaveMessage(f inFrame) {
	if !clientIDPattern.MatchString(f.ClientID) {
		k.fail("", "invalid_message", "a left message needs a client_id of 1 to 128 printable ASCII characters")
		return
	}
	text := strings.TrimSpace(f.Text)
	if text == "" {
		k.fail(f.ClientID, "invalid_message", "the message text is empty")
		return
	}
	if utf8.RuneCountInString(text) > k.srv.cfg.MaxTextRunes {
		k.fail(f.ClientID, "too_long", "the message is longer than "+strconv.Itoa(k.srv.cfg.MaxTextRunes)+" characters")
		return
	}
	via, contact, ok := checkContact(f.ContactVia, f.Contact)
	if !ok {
		k.fail(f.ClientID, "invalid_contact", "contact_via must be chat, email or phone, with a valid e-mail address or a phone number of 5 to 20 digits")
		return
	}
	k.submit(bot.Turn{ConversationID: k.conv.ID, Shopper: k.id.shopper, Lang: k.lang, ClientID: f.ClientID, Text: text,
		Leave: &bot.LeftMessage{Text: text, ContactVia: via, Contact: contact}})
}

// checkContact validates how a shopper who left a message wants the answer:
// via "chat" (the default; any contact is dropped), "email" with a
// plausible address, or "phone" with 5 to 20 digits, "+", "-" and spaces.
// A contact is at most maxContactRunes characters.
func checkContact(via, contact string) (string, string, bool) {
	contact = strings.TrimSpace(contact)
	if utf8.RuneCountInString(contact) > maxContactRunes {
		return "", "", false
	}
	switch via {
	case "", "chat":
		return "chat", "", true
	case "email":
		return via, contact, emailPattern.MatchString(contact)
	case "phone":
		digits := 0
		for _, r := range contact {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		return via, contact, phonePattern.MatchString(contact) && digits >= 5
	}
	return "", "", false
}

func (k *chatSocket) onFeedback(f inFrame) {
	if f.MessageID == "" || len(f.MessageID) > 128 || f.Helpful == nil {
		k.fail("", "invalid_feedback", "feedback needs a message_id and helpful true or false")
		return
	}
	k.submit(bot.Turn{ConversationID: k.conv.ID, Lang: k.lang, Feedback: &bot.Feedback{MessageID: f.MessageID, Helpful: *f.Helpful}})
}

func (k *chatSocket) onRating(f inFrame) {
	if f.Score < 1 || f.Score > 5 || utf8.RuneCountInString(f.Comment) > k.srv.cfg.MaxTextRunes {
		k.fail("", "invalid_rating", "a rating needs a score from 1 to 5 and a comment of at most "+strconv.Itoa(k.srv.cfg.MaxTextRunes)+" characters")
		return
	}
	k.submit(bot.Turn{ConversationID: k.conv.ID, Lang: k.lang, Rating: &bot.Rating{Score: f.Score, Comment: strings.TrimSpace(f.Comment)}})
}

// onReturn is the shopper pressing Confirm or Cancel on a return card:
// the only way a return request is made (typed words never are). The bot
// checks that the proposal is this shopper's, in this conversation.
func (k *chatSocket) onReturn(f inFrame) {
	if !proposalIDPattern.MatchString(f.ProposalID) {
		k.fail("", "invalid_return", "a return action needs a proposal_id of 1 to 64 characters of A-Z a-z 0-9 _ -")
		return
	}
	if k.id.shopper == nil {
		k.fail("", "login_required", "log in to the shop to confirm or cancel a return")
		return
	}
	k.submit(bot.Turn{ConversationID: k.conv.ID, Shopper: k.id.shopper, Lang: k.lang,
		Return: &bot.ReturnAction{ProposalID: f.ProposalID, Confirm: f.Type == "return_confirm"}})
}

// submit hands a frame's work to the bot's workers, counted against the
// socket's rate limit and the budgets its shopper and IP share with their
// other sockets: the reader never waits on the database itself.
func (k *chatSocket) submit(t bot.Turn) {
	if !k.srv.allowMessage(k.id.owner(), k.ip, k.limiter, time.Now()) {
		k.fail(t.ClientID, "rate_limited", rateLimitedText[k.lang == "en"])
		return
	}
	if err := k.srv.deps.Bot.Submit(t); err != nil {
		k.fail(t.ClientID, "busy", "the assistant is busy; please send that again in a moment")
	}
}
