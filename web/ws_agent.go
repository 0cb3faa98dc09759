package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

const (
	// agentReadLimit is the largest frame a console may send; a larger one
	// closes the socket with 1009.
	agentReadLimit = 64 << 10
	// agentTypingEvery is how often a console's typing is forwarded per
	// conversation; more frequent typing frames are dropped.
	agentTypingEvery = time.Second
	// agentCallTimeout bounds each desk call a socket makes.
	agentCallTimeout = 10 * time.Second
	// maxConversationID bounds the conversation ids a console may name.
	maxConversationID = 128
)

// handleAgent upgrades GET /ws/agent to an agent console socket
// (docs/console-api.md): Origin checked first (403 forbidden_origin), then
// the session (401, 403 for a role without the conversations permission).
func (s *Server) handleAgent() http.Handler {
	a := s.deps.Auth
	up := websocket.Upgrader{
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     a.CheckOrigin,
		// Compression stays off (OWASP: it enables compression side channels).
		EnableCompression: false,
	}
	open := a.Require(auth.PermConversations)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !websocket.IsWebSocketUpgrade(r) {
			writeError(w, http.StatusBadRequest, "not_websocket", "GET /ws/agent must be a websocket upgrade")
			return
		}
		u, _ := auth.UserFrom(r.Context())
		sess, _ := auth.SessionFrom(r.Context())
		cookie, err := r.Cookie(auth.CookieName)
		if err != nil { // unreachable: Require passed on this cookie
			writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in first")
			return
		}
		release, ok := s.acquireSockets(w, s.remoteIP(r), "")
		if !ok {
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			release()
			return // Upgrade has answered.
		}
		me := staffOf(u, clientIP(r))
		c := newConn(ws, &s.cfg, s.log.With("agent_id", me.ID, "session", sess.ID))
		if err := s.track(c); err != nil {
			release()
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1001, "server shutting down"), time.Now().Add(time.Second))
			ws.Close()
			return
		}
		sock := &agentSocket{srv: s, c: c, me: me, sessionID: sess.ID, token: cookie.Value,
			assigned: map[string]uint64{}, recheck: map[string]bool{}, kick: make(chan struct{}, 1),
			typed: map[string]time.Time{}, limiter: newWindowLimiter(agentFramesPerMinute, time.Minute)}
		// The whole console socket runs on its own goroutine (there are
		// few of them), and the handler returns.
		s.goSocket(c, func() { sock.run(s.ctx) }, release)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Refuse foreign sites before looking at the cookie they carry.
		if !a.CheckOrigin(r) {
			writeError(w, http.StatusForbidden, "forbidden_origin", "this site may not open the console")
			return
		}
		open.ServeHTTP(w, r)
	})
}

// agentSocket is the server side of one console socket. Its own
// goroutine (Server.goSocket) reads; the conn's writer writes; monitor
// revalidates the session and re-checks watched cases. The watched set (assigned plus the one watched
// on request) is guarded by mu, which may be held while calling into the
// hub, never the reverse.
type agentSocket struct {
	srv       *Server
	c         *conn
	me        handoff.Staff
	sessionID int64
	token     string // the session cookie, to revalidate; secret: never logged
	kick      chan struct{}

	mu       sync.Mutex
	closed   bool
	epoch    uint64            // counts assignments, to order them against re-checks
	assigned map[string]uint64 // conversations assigned to me, with the epoch they came at
	watched  string            // the one conversation watched on request
	recheck  map[string]bool   // conversations a case notice asked to re-check

	typed   map[string]time.Time // last typing forwarded per conversation; reader only
	limiter *windowLimiter       // frames that reach the desk; reader only
}

// agentFramesPerMinute bounds the frames one console socket may send that
// reach the desk (watch, presence): an agent switches conversations a few
// times a minute, a runaway script hundreds of times a second. Typing is
// bounded on its own (agentTypingEvery per conversation).
const agentFramesPerMinute = 600

func (a *agentSocket) run(ctx context.Context) {
	s, c, hub := a.srv, a.c, a.srv.deps.Hub
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// From now on a writer runs while frames are queued, and pings go out.
	c.start()
	s.agentSessions.add(a.sessionID, c)
	s.deps.Desk.Connect(a.me.ID)
	var monitor sync.WaitGroup
	defer func() {
		hub.removeAgent(a)
		a.unwatchAll()
		s.deps.Desk.Disconnect(a.me.ID)
		s.agentSessions.remove(a.sessionID, c)
		c.close(websocket.CloseNormalClosure, "")
		<-c.done
		monitor.Wait()
	}()
	// Register before reading the board, with live frames held back, so
	// no assignment made in between is missed and hello still comes first.
	hub.addAgent(a)
	bctx, bcancel := context.WithTimeout(ctx, agentCallTimeout)
	board, err := s.deps.Desk.Board(bctx, a.me)
	bcancel()
	if err != nil {
		c.log.Error("agent socket: read the board", "err", err)
		c.close(websocket.CloseInternalServerErr, "the desk is unavailable")
		return
	}
	for _, cs := range board.Mine {
		a.assign(cs.ConversationID)
	}
	if !c.replay(outFrame{data: encode(agentHelloFrame{Type: "hello", Agent: agentJSON(board.Me)})}) {
		return
	}
	c.goLive()
	// Owned by this socket; returns when the socket closes (c.quit).
	monitor.Go(func() { a.monitor(ctx) })

	c.ws.SetReadLimit(agentReadLimit)
	c.ws.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
		return nil
	})
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			return // closed, timed out, or over the read limit (gorilla sent 1009)
		}
		c.ws.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
		if kind != websocket.TextMessage {
			a.fail("bad_frame", "frames must be JSON text")
			continue
		}
		a.handleFrame(ctx, data)
	}
}

// fail sends an error frame to this socket only; the socket keeps working.
func (a *agentSocket) fail(code, msg string) {
	a.c.deliver(outFrame{data: encode(errorFrame{Type: "error", Code: code, Message: msg})})
}

func (a *agentSocket) failDesk(err error) {
	_, code, msg, ok := deskError(err)
	if !ok {
		a.c.log.Error("agent socket", "err", err)
	}
	a.fail(code, msg)
}

func (a *agentSocket) handleFrame(ctx context.Context, data []byte) {
	if !utf8.Valid(data) {
		a.fail("bad_encoding", "frames must be valid UTF-8")
		return
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		a.fail("bad_frame", "a frame must be a JSON object with a type")
		return
	}
	var f agentInFrame
	if err := json.Unmarshal(trimmed, &f); err != nil {
		a.fail("bad_json", "the frame is not valid JSON")
		return
	}
	switch f.Type {
	case "watch", "typing":
		if f.Conversation == "" || len(f.Conversation) > maxConversationID {
			a.fail("invalid", "the frame needs a conversation id")
			return
		}
	}
	if (f.Type == "watch" || f.Type == "presence") && !a.limiter.allow(time.Now()) {
		a.fail("rate_limited", "too many frames: at most "+strconv.Itoa(agentFramesPerMinute)+" watch or presence frames a minute")
		return
	}
	// The desk answers from SQLite in milliseconds; the timeout keeps a
	// stuck database from holding the reader (and its pongs) for long.
	ctx, cancel := context.WithTimeout(ctx, agentCallTimeout)
	defer cancel()
	switch f.Type {
	case "watch":
		if err := a.srv.deps.Desk.CanSee(ctx, a.me, f.Conversation); err != nil {
			a.failDesk(err)
			return
		}
		a.setWatched(f.Conversation)
	case "typing":
		now := time.Now()
		if now.Sub(a.typed[f.Conversation]) < agentTypingEvery {
			return
		}
		if len(a.typed) >= 64 {
			for id, t := range a.typed {
				if now.Sub(t) >= agentTypingEvery {
					delete(a.typed, id)
				}
			}
		}
		a.typed[f.Conversation] = now
		if err := a.srv.deps.Desk.Typing(ctx, a.me, f.Conversation); err != nil {
			a.failDesk(err)
		}
	case "presence":
		p := handoff.Presence(f.Status)
		if !p.Valid() {
			a.fail("invalid", "status must be online, away or offline")
			return
		}
		if err := a.srv.deps.Desk.SetPresence(ctx, a.me.ID, p); err != nil {
			a.failDesk(err)
		}
	case "":
		a.fail("bad_frame", "the frame has no type")
	default:
		a.fail("unknown_type", "unknown frame type")
	}
}

// notice is called by Hub.Notify: it must not block.
func (a *agentSocket) notice(n handoff.Notice, f outFrame) {
	switch n.Kind {
	case "assigned":
		// Watch before the console hears of it, so the messages it then
		// fetches are followed by every new one.
		a.assign(n.ConversationID)
	case "case":
		a.mu.Lock()
		_, mine := a.assigned[n.ConversationID]
		if mine || a.watched == n.ConversationID {
			a.recheck[n.ConversationID] = true
			select {
			case a.kick <- struct{}{}:
			default:
			}
		}
		a.mu.Unlock()
	}
	a.c.deliver(f)
}

func (a *agentSocket) assign(conversationID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.epoch++
	a.assigned[conversationID] = a.epoch
	a.srv.deps.Hub.watch(conversationID, a.c)
}

// setWatched replaces the conversation watched on request.
func (a *agentSocket) setWatched(conversationID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	old := a.watched
	a.watched = conversationID
	a.srv.deps.Hub.watch(conversationID, a.c)
	if _, mine := a.assigned[old]; old != "" && old != conversationID && !mine {
		a.srv.deps.Hub.unwatch(old, a.c)
	}
}

func (a *agentSocket) unwatchAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	hub := a.srv.deps.Hub
	for id := range a.assigned {
		hub.unwatch(id, a.c)
	}
	if a.watched != "" {
		hub.unwatch(a.watched, a.c)
	}
	a.assigned, a.watched = map[string]uint64{}, ""
}

// monitor revalidates the session at once and then every
// Config.SessionRecheck, and re-checks the cases that case notices named.
// It runs on its own goroutine, owned by run, and returns when the socket
// closes.
func (a *agentSocket) monitor(ctx context.Context) {
	t := time.NewTicker(a.srv.cfg.SessionRecheck)
	defer t.Stop()
	// The session may have ended between the handshake's check and the
	// socket's registration, unseen by EndSession.
	a.revalidate(ctx)
	for {
		select {
		case <-a.c.quit:
			return
		case <-t.C:
			a.revalidate(ctx)
		case <-a.kick:
			a.recheckCases(ctx)
		}
	}
}

// revalidate closes the socket with 1008 when its session has ended (also
// when another process, the CLI, ended it) or its role lost the
// conversations permission. Authenticate records the activity: an open
// console keeps its session from idling out, never past its lifetime.
func (a *agentSocket) revalidate(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, agentCallTimeout)
	defer cancel()
	u, _, err := a.srv.deps.Auth.Authenticate(ctx, a.token)
	switch {
	case errors.Is(err, auth.ErrNoSession):
		a.c.close(websocket.ClosePolicyViolation, "session ended")
	case err != nil:
		// A database hiccup is not the agent's fault: try again next time.
		a.c.log.Warn("agent socket: revalidate session", "err", err)
	case u.ID != a.me.ID || !u.Role.Can(auth.PermConversations):
		a.c.close(websocket.ClosePolicyViolation, "not allowed any more")
	}
}

// recheckCases drops from the watched set the conversations no longer
// assigned to me (and the requested watch when I may no longer see it),
// among those that case notices named.
func (a *agentSocket) recheckCases(ctx context.Context) {
	a.mu.Lock()
	names, epoch, watched := a.recheck, a.epoch, a.watched
	a.recheck = map[string]bool{}
	a.mu.Unlock()
	if len(names) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, agentCallTimeout)
	defer cancel()
	board, err := a.srv.deps.Desk.Board(ctx, a.me)
	if err != nil {
		a.c.log.Warn("agent socket: re-check cases", "err", err)
		return
	}
	mine := map[string]bool{}
	for _, cs := range board.Mine {
		mine[cs.ConversationID] = true
	}
	lost := ""
	if names[watched] && a.srv.deps.Desk.CanSee(ctx, a.me, watched) != nil {
		lost = watched
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	hub := a.srv.deps.Hub
	for id := range names {
		// An assignment that came in after the board was read stands.
		if at, ok := a.assigned[id]; ok && !mine[id] && at <= epoch {
			delete(a.assigned, id)
			if a.watched != id {
				hub.unwatch(id, a.c)
			}
		}
	}
	if lost != "" && a.watched == lost {
		a.watched = ""
		if _, ok := a.assigned[lost]; !ok {
			hub.unwatch(lost, a.c)
		}
	}
}

// sessionSockets are the open agent sockets of each staff session, so that
// a session's end closes them. The zero value is ready to use.
type sessionSockets struct {
	mu    sync.Mutex
	socks map[int64]map[*conn]struct{}
}

func (ss *sessionSockets) add(sessionID int64, c *conn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.socks == nil {
		ss.socks = map[int64]map[*conn]struct{}{}
	}
	addTo(ss.socks, sessionID, c)
}

func (ss *sessionSockets) remove(sessionID int64, c *conn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	removeFrom(ss.socks, sessionID, c)
}

// EndSession closes the agent sockets of a staff session with 1008 (policy
// violation). Wire it to auth.Config.OnSessionEnd: it does not block.
func (s *Server) EndSession(sessionID int64) {
	s.agentSessions.mu.Lock()
	defer s.agentSessions.mu.Unlock()
	for c := range s.agentSessions.socks[sessionID] {
		c.close(websocket.ClosePolicyViolation, "session ended")
	}
}
