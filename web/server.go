// Package web is Xiaoer's HTTP and websocket transport: the shopper chat
// socket (protocol v1, docs/protocol.md), the agent console's API and
// socket (docs/console-api.md), the knowledge-base search and admin APIs,
// the health check, and the embedded demo shop page, chat widget and
// console page.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/web/auth"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// Config configures the web server. Zero values mean the documented defaults.
type Config struct {
	// AllowedOrigins lists the exact origins ("https://shop.example.com")
	// besides the server's own host that may open the chat socket: the shop
	// sites that embed the widget. A request without an Origin header (not a
	// browser) is allowed; any other origin is refused with 403.
	AllowedOrigins []string
	// MaxFrameBytes is the largest frame a client may send; zero means
	// 32 KiB. A larger frame closes the socket with code 1009.
	MaxFrameBytes int64
	// MaxTextRunes is the longest shopper message in characters; zero means
	// 2000. A longer one is refused with a "too_long" error frame.
	MaxTextRunes int
	// SendQueue is each socket's outgoing queue length in frames; zero
	// means 256. A socket whose queue is full is closed (code 4008).
	SendQueue int
	// WriteWait bounds each write to a socket; zero means 10 s.
	WriteWait time.Duration
	// PongWait is how long a silent client is kept; zero means 60 s. Pings
	// go out at 9/10 of it.
	PongWait time.Duration
	// MessagesPerMinute is how many messages (and handoff requests) one
	// socket may send in any 60 s; zero means 100. The excess gets
	// "rate_limited" error frames and is neither stored nor answered.
	MessagesPerMinute int
	// Demo serves GET /api/v1/demo/token, which signs tokens for the
	// DemoShoppers so the demo page can chat as them. Never set it in production.
	Demo         bool
	DemoShoppers []string
	// Prechat asks shoppers to choose the assistant or a person before
	// their first message (hello.prechat).
	Prechat bool
	// DemoTokenTTL is the lifetime of demo tokens; zero means 24 h.
	DemoTokenTTL time.Duration
	// SessionRecheck is how often an agent socket revalidates its staff
	// session (which also catches sessions ended by another process, such
	// as the CLI); zero means 1 minute. A failed check closes it with 1008.
	SessionRecheck time.Duration
	// MaxIngestBytes is the largest body the ingestion API reads; zero
	// means 8 MiB. A larger one gets 413.
	MaxIngestBytes int64
	// MaxIngestRecords is the most records one ingestion request may
	// carry; zero means 1000. More get 413.
	MaxIngestRecords int
	// ShopperMessagesPerMinute is the budget of messages one shopper (or
	// visitor id) may send across all their sockets, a token bucket holding
	// one minute's worth; zero means 100. IPMessagesPerMinute is the same
	// for one client IP; zero means 1000. The excess gets "rate_limited"
	// error frames and is neither stored nor answered.
	ShopperMessagesPerMinute int
	IPMessagesPerMinute      int
	// MaxSocketsPerShopper caps the chat sockets one shopper (or visitor
	// id) may hold open at once; zero means 5. MaxSocketsPerIP caps the
	// chat and console sockets of one client IP; zero means 50. A socket
	// over either cap is refused with 429 "too_many_sockets".
	MaxSocketsPerShopper int
	MaxSocketsPerIP      int
	// TrustForwardedFor takes the client IP of the per-IP limits from the
	// last X-Forwarded-For address. Set it only behind a proxy that
	// appends that header to every request; otherwise clients pick their IP.
	TrustForwardedFor bool
}

func (c *Config) setDefaults() {
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 32 << 10
	}
	if c.MaxTextRunes <= 0 {
		c.MaxTextRunes = 2000
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 256
	}
	if c.WriteWait <= 0 {
		c.WriteWait = 10 * time.Second
	}
	if c.PongWait <= 0 {
		c.PongWait = 60 * time.Second
	}
	if c.MessagesPerMinute <= 0 {
		c.MessagesPerMinute = 100
	}
	if c.DemoTokenTTL <= 0 {
		c.DemoTokenTTL = 24 * time.Hour
	}
	if c.SessionRecheck <= 0 {
		c.SessionRecheck = time.Minute
	}
	if c.MaxIngestBytes <= 0 {
		c.MaxIngestBytes = 8 << 20
	}
	if c.MaxIngestRecords <= 0 {
		c.MaxIngestRecords = 1000
	}
	if c.ShopperMessagesPerMinute <= 0 {
		c.ShopperMessagesPerMinute = 100
	}
	if c.IPMessagesPerMinute <= 0 {
		c.IPMessagesPerMinute = 1000
	}
	if c.MaxSocketsPerShopper <= 0 {
		c.MaxSocketsPerShopper = 5
	}
	if c.MaxSocketsPerIP <= 0 {
		c.MaxSocketsPerIP = 50
	}
}

// ChatStore is the conversation storage the chat socket needs.
type ChatStore interface {
	OpenConversation(ctx context.Context, owner, shopperID, wantID, lang string) (bot.Conversation, error)
	MessagesAfter(ctx context.Context, conversationID string, after int64, limit int) ([]bot.Message, error)
}

// Shoppers looks up a verified shopper's profile.
type Shoppers interface {
	Shopper(ctx context.Context, id string) (bot.Shopper, error)
}

// TurnSubmitter hands a turn to the bot without waiting for the answer.
type TurnSubmitter interface {
	Submit(t bot.Turn) error
}

// Searcher answers knowledge-base searches.
type Searcher interface {
	Search(ctx context.Context, q string, opts knowledge.SearchOptions) (knowledge.Result, error)
}

// Deps are the services the web server calls.
type Deps struct {
	Chat     ChatStore
	Shoppers Shoppers
	Bot      TurnSubmitter
	KB       Searcher
	Hub      *Hub
	Tokens   *shoptoken.Signer
	// Auth signs staff in (web/auth); nil serves no staff routes.
	Auth *auth.Service
	// Desk is the handoff desk: the console API and /ws/agent, and the
	// shopper socket's handoff state; nil serves no console.
	Desk *handoff.Desk
	// Audit reads the append-only audit log for admins; nil serves none.
	Audit AuditLog
	// Admin is the knowledge base the admin API edits; nil (or a nil Auth)
	// serves no admin API.
	Admin *knowledge.Base
	// Privacy serves the shopper's own consent, export and erasure API
	// (/api/v1/me, docs/privacy.md); nil serves none.
	Privacy ShopperData
	// Ingest writes the shop's data posted to /api/v1/ingest/*
	// (docs/ingest.md), authenticated by ServiceTokens; nil (or a nil
	// ServiceTokens) serves no ingestion API.
	Ingest        Ingester
	ServiceTokens ServiceTokens
	// Ready reports whether the store and the index answer, for /healthz.
	Ready func(ctx context.Context) error
	// ShopperLimiter and IPLimiter hold the message budgets shared by a
	// shopper's and an IP's sockets; nil means in memory, for one process.
	ShopperLimiter, IPLimiter MessageLimiter
}

// Server serves Xiaoer's HTTP surface. It tracks its websockets so that
// Shutdown can close them, which http.Server.Shutdown does not do.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	handler http.Handler

	// ctx is the sockets' lifecycle context (the narrow exception to
	// keeping contexts out of structs): a socket outlives the request that
	// opened it, so its calls are bound to ctx, which Shutdown cancels once
	// it has closed every socket.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	sockets map[*conn]struct{}
	wg      sync.WaitGroup // one count per tracked socket, until it has ended

	// agentSessions are the agent sockets of each staff session (EndSession).
	agentSessions sessionSockets

	// The limits shared by a shopper's or an IP's sockets (limits.go).
	socketCount                 socketCounter
	shopperMessages, ipMessages MessageLimiter
}

// NewServer returns the server; mount it with http.Server{Handler: s}.
func NewServer(cfg Config, deps Deps, log *slog.Logger) *Server {
	cfg.setDefaults()
	s := &Server{cfg: cfg, deps: deps, log: log, sockets: map[*conn]struct{}{},
		shopperMessages: deps.ShopperLimiter, ipMessages: deps.IPLimiter}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.shopperMessages == nil {
		s.shopperMessages = NewMessageLimiter(cfg.ShopperMessagesPerMinute, cfg.ShopperMessagesPerMinute)
	}
	if s.ipMessages == nil {
		s.ipMessages = NewMessageLimiter(cfg.IPMessagesPerMinute, cfg.IPMessagesPerMinute)
	}
	s.handler = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

var errClosing = errors.New("web: server is shutting down")

// track registers a socket; it fails once Shutdown has begun.
func (s *Server) track(c *conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return errClosing
	}
	s.sockets[c] = struct{}{}
	s.wg.Add(1)
	return nil
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.sockets, c)
	s.mu.Unlock()
	s.wg.Done()
}

// goSocket gives a tracked socket a goroutine of its own, owned by the
// Server, so that the HTTP handler that upgraded it can return: net/http
// then frees what it holds per connection (its conn and buffered reader
// and writer, the request, and the handler goroutine with its stack),
// which an idle socket would otherwise keep for its whole life. The
// goroutine runs live until the socket closes, then end, then untracks
// the socket; Shutdown closes the socket and waits for that.
func (s *Server) goSocket(c *conn, live, end func()) {
	// Owned by the Server; returns when the socket has closed and ended.
	go func() {
		defer s.untrack(c)
		defer end()
		live()
	}()
}

// Shutdown refuses new sockets, closes every open one with 1001 (going
// away), cancels the calls they are making, and waits for their
// goroutines to finish (each socket's caps released) or ctx to end. Call it
// after http.Server.Shutdown. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for c := range s.sockets {
		c.close(1001, "server shutting down")
	}
	s.mu.Unlock()
	// Calls the sockets still make (a replay, a desk query) end now.
	s.cancel()
	done := make(chan struct{})
	// Owned by Shutdown; exits when every socket has ended.
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
