package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	neturl "net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/ingest"
	"github.com/xiaoer-cs/xiaoer/bot/retention"
	"github.com/xiaoer-cs/xiaoer/bot/webhook"
	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web"
	"github.com/xiaoer-cs/xiaoer/web/auth"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// shutdownGrace bounds how long a shutdown waits for requests and sockets.
const shutdownGrace = 10 * time.Second

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", envOr(getenv, "XIAOER_ADDR", "127.0.0.1:8080"), "listen address (env XIAOER_ADDR)")
	data := dataFlag(fs, getenv)
	demo := fs.Bool("demo", envBool(getenv, "XIAOER_DEMO"), "load the demo shop into an empty data folder and serve the demo token endpoint (env XIAOER_DEMO)")
	origins := fs.String("origins", envOr(getenv, "XIAOER_ALLOWED_ORIGINS", ""), "comma-separated shop origins allowed to open the chat socket, e.g. https://shop.example.com (env XIAOER_ALLOWED_ORIGINS)")
	logFormat := fs.String("log-format", envOr(getenv, "XIAOER_LOG_FORMAT", "text"), "log format: text or json (env XIAOER_LOG_FORMAT)")
	logLevel := fs.String("log-level", envOr(getenv, "XIAOER_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env XIAOER_LOG_LEVEL)")
	behindTLS := fs.Bool("behind-tls", envBool(getenv, "XIAOER_BEHIND_TLS"), "a TLS proxy serves this server as https: staff cookies get the Secure flag and staff pages expect https origins (env XIAOER_BEHIND_TLS)")
	limits := addLimitFlags(fs, getenv)
	embedOpts := addEmbedFlags(fs, getenv)
	llmOpts := addLLMFlags(fs, getenv)
	routing := fs.String("handoff-routing", envOr(getenv, "XIAOER_HANDOFF_ROUTING", handoff.RoutingAuto),
		"how conversations reach agents: auto (the least-loaded online agent who speaks the language gets the next one) or claim (agents pick from the queue) (env XIAOER_HANDOFF_ROUTING)")
	hoursSpec := fs.String("service-hours", envOr(getenv, "XIAOER_SERVICE_HOURS", "always"),
		`when agents answer, e.g. "mon-fri 09:00-18:00; sat 10:00-16:00"; "always" means whenever an agent is online (env XIAOER_SERVICE_HOURS)`)
	hoursTZ := fs.String("service-tz", envOr(getenv, "XIAOER_SERVICE_TZ", "Asia/Shanghai"), "time zone of --service-hours (env XIAOER_SERVICE_TZ)")
	directTiers := fs.String("direct-tiers", envOr(getenv, "XIAOER_DIRECT_TIERS", ""),
		"comma-separated member tiers whose shoppers skip the bot and go straight to a person, e.g. vip,svip (env XIAOER_DIRECT_TIERS)")
	prechat := fs.Bool("prechat", envBool(getenv, "XIAOER_PRECHAT"), "ask shoppers to choose the assistant or a person before their first message (env XIAOER_PRECHAT)")
	maxChats := fs.Int("agent-max-chats", 5, "default number of conversations an agent handles at once (each agent's own setting wins)")
	metricsAddr := fs.String("metrics-addr", envOr(getenv, "XIAOER_METRICS_ADDR", ""),
		"serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090; empty: off (env XIAOER_METRICS_ADDR)")
	webhookURL := fs.String("webhook-url", envOr(getenv, "XIAOER_WEBHOOK_URL", ""),
		"POST signed events (return.confirmed, conversation.handed_off) to this URL of the shop's; the secret comes from XIAOER_WEBHOOK_SECRET or XIAOER_WEBHOOK_SECRET_FILE; empty: off (env XIAOER_WEBHOOK_URL)")
	perMinute := fs.Int("messages-per-minute", 0, "messages one chat socket may send in any minute; 0: 100 (raise it for load tests)")
	pprofOn := fs.Bool("pprof", false, "also serve Go's profiles (net/http/pprof) at http://METRICS-ADDR/debug/pprof/; needs --metrics-addr")
	retain := fs.String("retention", envOr(getenv, "XIAOER_RETENTION", "180d"),
		"delete conversations idle for longer than this, e.g. 180d or 720h; 0 keeps them forever (env XIAOER_RETENTION)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keep, err := parseRetention(*retain)
	if err != nil {
		return usageError{err.Error()}
	}
	if *routing != handoff.RoutingAuto && *routing != handoff.RoutingClaim {
		return usageError{fmt.Sprintf("--handoff-routing must be auto or claim, got %q", *routing)}
	}
	hours, err := handoff.ParseHours(*hoursSpec, *hoursTZ)
	if err != nil {
		return usageError{err.Error()}
	}
	if *pprofOn && *metricsAddr == "" {
		return usageError{"--pprof needs --metrics-addr"}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	webCfg := web.Config{
		AllowedOrigins: splitList(*origins),
		Demo:           *demo,
		DemoShoppers:   demoShopperIDs,
		Prechat:        *prechat,
		// A load test raises it; zero is the default.
		MessagesPerMinute: *perMinute,
	}
	if err := limits.apply(&webCfg); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	embedder, denseCfg, err := embedOpts.embedder(getenv)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	model, llmMetrics, err := llmOpts.client(getenv, reg, log.With("component", "llm"))
	if err != nil {
		return err
	}

	d, err := openData(ctx, *data, log)
	if err != nil {
		return err
	}
	defer d.Close()
	if pragmas, err := d.store.Pragmas(ctx); err == nil {
		log.Info("store open", "path", *data, "journal_mode", pragmas["journal_mode"], "synchronous", pragmas["synchronous"],
			"foreign_keys", pragmas["foreign_keys"], "busy_timeout", pragmas["busy_timeout"])
	}
	if *demo {
		if err := loadDemo(ctx, d, time.Now(), log); err != nil {
			return err
		}
	}
	if embedder != nil {
		// Dense retrieval: the vectors cached for the store's entries load
		// now (Sync); the embedder goroutine below embeds what changed.
		d.kb.UseEmbeddings(embedder, d.store, denseCfg)
		if err := d.kb.Sync(ctx); err != nil {
			return err
		}
		log.Info("embeddings in use", "endpoint", embedder, "pending", d.kb.Pending())
	}
	secret, err := loadSecret(getenv, *data, true)
	if err != nil {
		return err
	}
	tokens, err := shoptoken.NewSigner(secret, nil)
	if err != nil {
		return err
	}
	serviceToken, err := loadServiceToken(getenv)
	if err != nil {
		return err
	}

	cost, err := bcryptCost(getenv)
	if err != nil {
		return err
	}
	// A staff session's end closes its console sockets. The web server is
	// made later, but before anything serves, so before any session can end.
	var endSession func(sessionID int64)
	onSessionEnd := func(e auth.SessionEnd) {
		if endSession != nil {
			endSession(e.SessionID)
		}
	}
	staff, err := auth.New(auth.Config{BcryptCost: cost, BehindTLS: *behindTLS, OnSessionEnd: onSessionEnd}, d.store, d.store, log.With("component", "auth"))
	if err != nil {
		return err
	}

	var demoAdminPassword string
	if *demo {
		if demoAdminPassword, err = ensureDemoAdmin(ctx, d, staff); err != nil {
			return err
		}
	}

	hooks, err := newWebhooks(*webhookURL, getenv, d.store, log.With("component", "webhook"))
	if err != nil {
		return err
	}

	hub := web.NewHub()
	// Without a model a turn waits mostly on its two group commits (an
	// fsync each): 128 turns at once fill each commit. Measured: 8 workers
	// 378 replies/s, 32 541/s, 128 665-825/s at 3,000/s offered (docs/performance.md).
	botCfg := bot.Config{DirectTiers: splitList(strings.ToLower(*directTiers)), Workers: 128}
	deskDeps := handoff.Deps{Store: d.store, Publish: hub, Notify: hub, Knowledge: d.kb}
	if hooks != nil {
		deskDeps.Webhooks = hooks
	}
	desk := handoff.NewDesk(handoff.Config{Routing: *routing, Hours: hours, MaxChats: *maxChats}, deskDeps, log.With("component", "handoff"))
	botDeps := bot.Deps{Conversations: d.store, Orders: d.store, Knowledge: d.kb, Gaps: d.kb,
		Handoff: desk, Publish: hub, Returns: d.store, Profiles: d.store}
	if hooks != nil {
		botDeps.Webhooks = hooks
	}
	if model != nil {
		// Turns wait on the model most of the time: many may run at once.
		botCfg.Workers = 256
		botCfg.LLM = llmOpts.botConfig()
		botDeps.Model, botDeps.Usage, botDeps.Metrics = model, d.store, llmMetrics
		log.Info("answers phrased by a model", "model", model.String())
	}
	b := bot.New(botCfg, botDeps, log.With("component", "bot"))
	if model != nil {
		// The desk was built before the bot, which needs it.
		desk.SetAssistant(b, b)
	}
	srv := web.NewServer(webCfg, web.Deps{
		Chat:     d.store,
		Shoppers: d.store,
		Bot:      b,
		KB:       d.kb,
		Hub:      hub,
		Tokens:   tokens,
		Auth:     staff,
		Desk:     desk,
		Audit:    d.store,
		Privacy:  d.store,
		Admin:    d.kb,
		// The shop's backend pushes its data (docs/ingest.md).
		Ingest:        ingest.New(d.store, nil),
		ServiceTokens: ingest.NewTokens(d.store, serviceToken),
		Ready: func(ctx context.Context) error {
			if err := d.store.Ping(ctx); err != nil {
				return err
			}
			_, err := d.index.DocCount()
			return err
		},
	}, log.With("component", "web"))
	endSession = srv.EndSession

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Both listeners open before anything starts serving: a failure here
	// leaves nothing running.
	var mln net.Listener
	if *metricsAddr != "" {
		if mln, err = net.Listen("tcp", *metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics: %w", err)
		}
	}
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	log.Info("xiaoer serving", "addr", "http://"+ln.Addr().String(), "demo", *demo, "version", version)
	if demoAdminPassword != "" {
		fmt.Fprintf(stdout, "Admin page: http://%s/admin/  user %q, password %q (shown once; change it with: xiaoer user passwd %s)\n",
			ln.Addr(), demoAdminUser, demoAdminPassword, demoAdminUser)
		fmt.Fprintf(stdout, "Agent console: http://%s/console/  (the same account)\n", ln.Addr())
	}

	// The bot's workers get their own context, cancelled only after the
	// sockets are closed, so no turn is cut off while a reply can still be sent.
	botCtx, stopBot := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBot()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return b.Run(botCtx) })
	g.Go(func() error { return desk.Run(botCtx) })
	g.Go(func() error { return d.kb.RunEmbedder(botCtx) })
	retireLog := log.With("component", "retention")
	forget := func(ctx context.Context, ids []string) {
		hub.Forget(ids)
		if err := desk.Forget(ctx, ids); err != nil {
			retireLog.Warn("forget deleted conversations", "err", err)
		}
	}
	retire := retention.New(retention.Config{Keep: keep, Deleted: forget}, d.store, d.store, retireLog)
	g.Go(func() error { return retire.Run(botCtx) })
	if hooks != nil {
		// Delivers the shop's events until the bot stops; what is left is
		// delivered after the next start.
		g.Go(func() error { return hooks.Run(botCtx) })
	}
	g.Go(func() error {
		if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	var metricsSrv *http.Server
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		if *pprofOn {
			// Only on the metrics address, which operators keep private.
			mux.HandleFunc("GET /debug/pprof/", pprof.Index)
			mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
			mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		}
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("metrics serving", "addr", "http://"+mln.Addr().String()+"/metrics")
		g.Go(func() error {
			if err := metricsSrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve metrics: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		if metricsSrv != nil {
			defer metricsSrv.Close()
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		err := errors.Join(httpSrv.Shutdown(sctx), srv.Shutdown(sctx))
		stopBot()
		return err
	})
	err = g.Wait()
	log.Info("stopped")
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newWebhooks returns the webhook sender for url, or nil without a URL.
// The signing secret comes from XIAOER_WEBHOOK_SECRET or the file named by
// XIAOER_WEBHOOK_SECRET_FILE, never from a flag (flags show in ps).
func newWebhooks(url string, getenv func(string) string, outbox webhook.Outbox, log *slog.Logger) (*webhook.Sender, error) {
	if url == "" {
		return nil, nil
	}
	secret := strings.TrimSpace(getenv("XIAOER_WEBHOOK_SECRET"))
	if path := strings.TrimSpace(getenv("XIAOER_WEBHOOK_SECRET_FILE")); secret == "" && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read XIAOER_WEBHOOK_SECRET_FILE: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		return nil, usageError{"--webhook-url needs a signing secret in XIAOER_WEBHOOK_SECRET or XIAOER_WEBHOOK_SECRET_FILE"}
	}
	s, err := webhook.New(webhook.Config{URL: url, Secret: []byte(secret)}, outbox, log)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	// Only where they go: a URL may carry credentials.
	where := "(a URL that does not parse)"
	if u, err := neturl.Parse(url); err == nil {
		where = u.Scheme + "://" + u.Host
	}
	log.Info("webhooks on", "to", where)
	return s, nil
}
