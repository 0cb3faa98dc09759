package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// runBench is `xiaoer bench`: a load generator that speaks protocol v1
// (docs/protocol.md) to a running server like any client, and reports
// replies per second, latency percentiles, errors by kind and, with
// --metrics, the server's memory and goroutines. docs/performance.md
// records what it measured and how.
//
// With --rate the arrivals are open-loop: each shopper sends at times drawn
// in advance (Poisson, R/N a second each), whether or not earlier replies
// came, and latency runs from the scheduled time, so a slow server cannot
// hide its slowness by slowing the sender (coordinated omission). Without
// --rate each shopper waits for its reply, then --think, then asks again.
//
// With --fake-llm the bench also plays the server's model for the run: a
// scripted OpenAI-compatible endpoint with a fixed latency (bench_llm.go),
// started before the shoppers connect and stopped after the report's
// figures are in; the report adds how many model calls it served and how
// many replies carried its text.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	wsURL := fs.String("url", "ws://127.0.0.1:8080/ws/chat", "the server's chat socket")
	shoppers := fs.Int("shoppers", 10, "concurrent shoppers, each on its own socket")
	rate := fs.Float64("rate", 0, "open-loop: messages per second across all shoppers, sent on schedule whatever the replies; 0: closed loop with --think")
	think := fs.Duration("think", time.Second, "closed loop (no --rate): pause between a reply and the shopper's next message")
	duration := fs.Duration("duration", 30*time.Second, "how long shoppers send messages")
	timeout := fs.Duration("timeout", 10*time.Second, "a message unanswered this long counts as a timeout")
	idle := fs.Int("idle", 0, "extra sockets opened and held without sending, like shoppers with the widget open")
	questionsFile := fs.String("questions", "", "questions, one a line, optionally KIND<TAB>QUESTION; default: a built-in zh/en mix of faq, order and chitchat")
	kinds := fs.String("kind", "", "comma-separated kinds to ask (e.g. faq); default: all")
	data := fs.String("data", "", "sign shopper tokens with this data folder's secret (or XIAOER_SECRET / XIAOER_SECRET_FILE) so order questions are answered; default: anonymous visitors")
	as := fs.String("as", strings.Join(demoShopperIDs, ","), "with --data: comma-separated shopper ids the shoppers take in turn")
	lang := fs.String("lang", "", "lang of every socket: zh or en; default: the server's choice")
	metrics := fs.String("metrics", "", "the server's Prometheus endpoint (serve --metrics-addr), e.g. http://127.0.0.1:9090/metrics: reports its memory and goroutines")
	dialers := fs.Int("dialers", 32, "sockets opened at once while connecting")
	hold := fs.Duration("hold", 0, "with only --idle: how long to hold the sockets before measuring; default: --duration")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fakeLLM := fs.String("fake-llm", "", "also serve a scripted OpenAI-compatible model on this address (e.g. 127.0.0.1:18990) for the run; start the server with --llm-url http://ADDR/v1 --llm-model scripted")
	fakeLatency := fs.Duration("fake-llm-latency", 300*time.Millisecond, "with --fake-llm: time from a model request to its first token")
	fakeChunkDelay := fs.Duration("fake-llm-chunk-delay", 20*time.Millisecond, fmt.Sprintf("with --fake-llm: pause between the %d chunks of an answer", fakeLLMChunks))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("bench takes no arguments, got %q", fs.Args())}
	}
	if *shoppers < 0 || *idle < 0 || *shoppers+*idle == 0 {
		return usageError{"bench needs --shoppers or --idle"}
	}
	if *rate < 0 || *duration <= 0 || *timeout <= 0 || *dialers <= 0 {
		return usageError{"--rate, --duration, --timeout and --dialers must be positive"}
	}
	if *fakeLatency < 0 || *fakeChunkDelay < 0 {
		return usageError{"--fake-llm-latency and --fake-llm-chunk-delay must not be negative"}
	}
	qs := defaultQuestions
	if *questionsFile != "" {
		var err error
		if qs, err = readQuestions(*questionsFile); err != nil {
			return err
		}
	}
	if *kinds != "" {
		want := splitList(*kinds)
		qs = slices.DeleteFunc(slices.Clone(qs), func(q benchQuestion) bool { return !slices.Contains(want, q.Kind) })
	}
	if len(qs) == 0 && *shoppers > 0 {
		return usageError{"no questions to ask (check --questions and --kind)"}
	}
	var tokens []string
	if *data != "" || getenv("XIAOER_SECRET") != "" || getenv("XIAOER_SECRET_FILE") != "" {
		secret, err := loadSecret(getenv, *data, false)
		if err != nil {
			return err
		}
		signer, err := shoptoken.NewSigner(secret, nil)
		if err != nil {
			return err
		}
		for _, id := range splitList(*as) {
			tok, err := signer.Sign(id, shoptoken.MaxTTL)
			if err != nil {
				return err
			}
			tokens = append(tokens, tok)
		}
	}
	if *rate > 0 && *shoppers > 0 {
		if perMin := *rate / float64(*shoppers) * 60; perMin > 100 {
			fmt.Fprintf(stderr, "bench: %.0f messages a minute per socket is over the server's default limit of 100: start it with --messages-per-minute, or add shoppers\n", perMin)
		}
	}
	nofile := raiseNoFile()
	if need := uint64(*shoppers + *idle + 64); need > nofile {
		fmt.Fprintf(stderr, "bench: %d sockets need more open files than this process may have (%d)\n", *shoppers+*idle, nofile)
	}

	var fakeModel *llmtest.Server
	if *fakeLLM != "" {
		model, err := startFakeLLM(*fakeLLM, *fakeLatency, *fakeChunkDelay)
		if err != nil {
			return err
		}
		// Closed after the report's figures are taken, below; the deferred
		// call covers the early returns.
		defer model.Close()
		fakeModel = model
	}
	b := &bench{url: *wsURL, tokens: tokens, lang: *lang, rec: newRecorder(),
		dialer: &websocket.Dialer{ReadBufferSize: 2048, WriteBufferSize: 1024, HandshakeTimeout: 10 * time.Second}}
	rep := benchReport{URL: *wsURL, Shoppers: *shoppers, Idle: *idle, Rate: *rate, NoFile: nofile,
		Duration: duration.Seconds()}
	if *rate == 0 {
		rep.Think = think.String()
	}
	scrape := func() *serverStats {
		if *metrics == "" {
			return nil
		}
		s, err := scrapeMetrics(ctx, *metrics)
		if err != nil {
			fmt.Fprintf(stderr, "bench: metrics: %v\n", err)
			return nil
		}
		return s
	}
	rep.Server.Before = scrape()

	// Connect everything first, so the load starts on a steady server.
	dialStart := time.Now()
	idleConns := b.dialAll(ctx, *idle, *dialers, true)
	active := b.dialAll(ctx, *shoppers, *dialers, false)
	rep.ConnectSeconds = time.Since(dialStart).Seconds()
	rep.Server.Held = scrape()
	defer func() {
		for _, s := range append(idleConns, active...) {
			s.ws.Close()
		}
	}()

	run := *duration
	if len(active) == 0 && *hold > 0 {
		run = *hold
	}
	rep.Duration = run.Seconds()
	start := time.Now()
	end := start.Add(run)
	var wg sync.WaitGroup
	for i, s := range active {
		wg.Add(1)
		// Owned by this run: returns at end, or when its socket closes.
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			if *rate > 0 {
				s.openLoop(ctx, r, qs, start, end, *rate/float64(len(active)))
			} else {
				s.closedLoop(ctx, r, qs, start, end, *think, *timeout)
			}
		}()
	}
	if len(active) == 0 {
		select {
		case <-ctx.Done():
		case <-time.After(run):
		}
	}
	wg.Wait()
	// Give the last messages their --timeout to be answered.
	drainUntil := time.Now().Add(*timeout)
	for time.Now().Before(drainUntil) && ctx.Err() == nil && pendingCount(active) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	rep.Server.After = scrape()
	for _, s := range idleConns {
		if !s.isClosed() {
			rep.IdleHeld++
		}
	}
	for _, s := range active {
		s.mu.Lock()
		for range s.pending {
			if s.isClosed() {
				b.rec.fail("closed")
			} else {
				b.rec.fail("timeout")
			}
		}
		s.pending = nil
		s.mu.Unlock()
	}
	b.rec.fill(&rep, start)
	rep.ConnsOpened = int(b.opened.Load())
	rep.ConnsFailed = int(b.failed.Load())
	if b.firstDialErr.Load() != nil {
		rep.FirstDialError = b.firstDialErr.Load().(string)
	}
	rep.perConnection()
	if fakeModel != nil {
		rep.FakeLLM = &fakeLLMReport{URL: fakeModel.URL, LatencyMS: float64(fakeLatency.Microseconds()) / 1000,
			ChunkDelayMS: float64(fakeChunkDelay.Microseconds()) / 1000, Calls: fakeModel.Served(),
			ScriptedReplies: b.rec.scripted.Load()}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(stdout)
	return nil
}

// benchQuestion is one line of the questions: a kind (faq, order,
// chitchat, or whatever the file says) and the text.
type benchQuestion struct{ Kind, Text string }

// defaultQuestions mixes demo-shop FAQ questions in both languages with
// order questions (answered from the shopper's orders with --data, else
// with a request to log in) and small talk.
var defaultQuestions = []benchQuestion{
	{"faq", "七天无理由退货怎么申请？"}, {"faq", "退款多久能到账？"}, {"faq", "运费多少？满多少包邮？"},
	{"faq", "怎么开发票？"}, {"faq", "支持哪些付款方式？"}, {"faq", "优惠券怎么用？"},
	{"faq", "积分会过期吗？"}, {"faq", "电子产品保修多久？"}, {"faq", "下单后怎么修改收货地址？"},
	{"faq", "How long does a refund take?"}, {"faq", "Who pays the return shipping?"},
	{"faq", "How do I cancel an order that hasn't shipped yet?"}, {"faq", "When does the 7-day return window start?"},
	{"order", "我的订单到哪了"}, {"order", "我买的耳机什么时候到？"}, {"order", "Where is my order?"},
	{"chitchat", "你好"}, {"chitchat", "谢谢"}, {"chitchat", "hello"}, {"chitchat", "thanks!"},
}

// readQuestions reads a questions file: one question a line, optionally
// KIND<TAB>QUESTION; blank lines and lines starting with # are skipped.
func readQuestions(path string) ([]benchQuestion, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var qs []benchQuestion
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		q := benchQuestion{Kind: "any", Text: line}
		if k, t, ok := strings.Cut(line, "\t"); ok && strings.TrimSpace(t) != "" {
			q = benchQuestion{Kind: strings.TrimSpace(k), Text: strings.TrimSpace(t)}
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return qs, nil
}

// raiseNoFile raises this process's soft limit on open files to the hard
// limit (Go has done so at start-up since 1.19; this makes it explicit) and
// returns the limit in force.
func raiseNoFile() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	return lim.Cur
}

type bench struct {
	url          string
	tokens       []string
	lang         string
	dialer       *websocket.Dialer
	rec          *recorder
	next         atomic.Int64 // sockets dialled, for token turns
	opened       atomic.Int64
	failed       atomic.Int64
	firstDialErr atomic.Value // string
}

// dialAll opens n sockets, at most par at once, and returns those that
// opened. Every socket gets a reader goroutine that answers pings and, for
// shoppers, matches replies to the messages sent.
func (b *bench) dialAll(ctx context.Context, n, par int, idle bool) []*benchConn {
	out := make([]*benchConn, 0, n)
	var mu sync.Mutex
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < n && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := b.dial(ctx, idle)
			if err != nil {
				b.failed.Add(1)
				b.firstDialErr.CompareAndSwap(nil, err.Error())
				return
			}
			b.opened.Add(1)
			mu.Lock()
			out = append(out, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (b *bench) dial(ctx context.Context, idle bool) (*benchConn, error) {
	u := b.url
	q := []string{}
	if len(b.tokens) > 0 {
		q = append(q, "token="+b.tokens[int(b.next.Add(1)-1)%len(b.tokens)])
	}
	if b.lang != "" {
		q = append(q, "lang="+b.lang)
	}
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + strings.Join(q, "&")
	}
	ws, resp, err := b.dialer.DialContext(ctx, u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("handshake refused with HTTP %d", resp.StatusCode)
		}
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hello benchFrame
	if _, data, err := ws.ReadMessage(); err != nil || json.Unmarshal(data, &hello) != nil || hello.Type != "hello" {
		ws.Close()
		return nil, fmt.Errorf("no hello: %v", err)
	}
	ws.SetReadDeadline(time.Time{})
	c := &benchConn{ws: ws, rec: b.rec, pending: map[string]benchSent{},
		replied: make(chan struct{}, 1), closed: make(chan struct{})}
	// Owned by the connection: exits when the socket closes (the run's end
	// closes it). gorilla answers pings while it reads.
	go c.read(idle)
	return c, nil
}

// benchFrame holds the few fields of a server frame the bench looks at.
type benchFrame struct {
	Type     string `json:"type"`
	ClientID string `json:"client_id"`
	ReplyTo  string `json:"reply_to"`
	Role     string `json:"role"`
	Code     string `json:"code"`
	Text     string `json:"text"`
}

type benchSent struct {
	at   time.Time // when it was due: the latency's start
	kind string
}

// benchConn is one socket. Its writer is the shopper goroutine; its reader
// is read. pending is shared by both, under mu.
type benchConn struct {
	ws      *websocket.Conn
	rec     *recorder
	mu      sync.Mutex
	pending map[string]benchSent
	seq     int
	replied chan struct{} // closed loop: a reply or error came
	closed  chan struct{} // closed when read returns
}

func (c *benchConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// skipPrefixes start the frames that never end a wait (acks, typing,
// streamed deltas), as the server encodes them. Recognising them without
// decoding keeps the bench's own CPU for the sockets: it shares the
// machine with the server it measures. Anything else is decoded.
var skipPrefixes = [][]byte{[]byte(`{"type":"ack"`), []byte(`{"type":"typing"`), []byte(`{"type":"delta"`)}

func skipFrame(data []byte) bool {
	for _, p := range skipPrefixes {
		if bytes.HasPrefix(data, p) {
			return true
		}
	}
	return false
}

func (c *benchConn) read(idle bool) {
	defer close(c.closed)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if idle || skipFrame(data) {
			continue
		}
		var f benchFrame
		if json.Unmarshal(data, &f) != nil {
			c.rec.fail("bad_frame")
			continue
		}
		var id string
		switch {
		case f.Type == "message" && f.ReplyTo != "" && f.Role != "shopper":
			id = f.ReplyTo
		case f.Type == "error" && f.ClientID != "":
			id = f.ClientID
		default:
			continue
		}
		now := time.Now()
		c.mu.Lock()
		s, ok := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if !ok {
			continue // a second reply, or one after its timeout
		}
		if f.Type == "error" {
			c.rec.fail(f.Code)
		} else {
			c.rec.reply(s.kind, now.Sub(s.at), now)
			if strings.Contains(f.Text, fakeLLMMarker) {
				c.rec.scripted.Add(1)
			}
		}
		select {
		case c.replied <- struct{}{}:
		default:
		}
	}
}

// send sends one question due at the given time.
func (c *benchConn) send(q benchQuestion, due time.Time) error {
	c.mu.Lock()
	c.seq++
	id := "b" + strconv.Itoa(c.seq) + "-" + strconv.FormatUint(rand.Uint64(), 36)
	c.pending[id] = benchSent{at: due, kind: q.Kind}
	c.mu.Unlock()
	frame, _ := json.Marshal(struct {
		Type     string `json:"type"`
		ClientID string `json:"client_id"`
		Text     string `json:"text"`
	}{"message", id, q.Text})
	c.rec.sent.Add(1)
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

func (c *benchConn) openLoop(ctx context.Context, r *rand.Rand, qs []benchQuestion, start, end time.Time, perSecond float64) {
	mean := float64(time.Second) / perSecond
	due := start.Add(time.Duration(r.ExpFloat64() * mean))
	t := time.NewTimer(0)
	defer t.Stop()
	for due.Before(end) {
		t.Reset(time.Until(due))
		select {
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		case <-t.C:
		}
		if err := c.send(qs[r.IntN(len(qs))], due); err != nil {
			return
		}
		due = due.Add(time.Duration(r.ExpFloat64() * mean))
	}
}

func (c *benchConn) closedLoop(ctx context.Context, r *rand.Rand, qs []benchQuestion, start, end time.Time, think, timeout time.Duration) {
	// A random first pause spreads the shoppers over one think time.
	wait := time.Duration(r.Int64N(int64(think) + 1))
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		case <-t.C:
		}
		now := time.Now()
		if !now.Before(end) {
			return
		}
		select {
		case <-c.replied: // a late reply to a message that timed out
		default:
		}
		if err := c.send(qs[r.IntN(len(qs))], now); err != nil {
			return
		}
		t.Reset(timeout)
		select {
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		case <-c.replied:
			t.Stop()
		case <-t.C:
			// Leave it pending: answered late it is dropped, unanswered
			// it counts as a timeout at the end.
		}
		t.Reset(think)
	}
}

func pendingCount(cs []*benchConn) int {
	n := 0
	for _, c := range cs {
		c.mu.Lock()
		n += len(c.pending)
		c.mu.Unlock()
	}
	return n
}

// recorder collects latencies and errors from every socket.
type recorder struct {
	sent      atomic.Int64
	scripted  atomic.Int64 // replies with the scripted model's text (--fake-llm)
	mu        sync.Mutex
	latencies []time.Duration
	byKind    map[string][]time.Duration
	errors    map[string]int
	last      time.Time
}

func newRecorder() *recorder {
	return &recorder{byKind: map[string][]time.Duration{}, errors: map[string]int{}}
}

func (r *recorder) reply(kind string, d time.Duration, at time.Time) {
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.byKind[kind] = append(r.byKind[kind], d)
	if at.After(r.last) {
		r.last = at
	}
	r.mu.Unlock()
}

func (r *recorder) fail(kind string) {
	r.mu.Lock()
	r.errors[kind]++
	r.mu.Unlock()
}

func (r *recorder) fill(rep *benchReport, start time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep.Sent = int(r.sent.Load())
	rep.Replies = len(r.latencies)
	if rep.Replies > 0 {
		if el := r.last.Sub(start).Seconds(); el > 0 {
			rep.RepliesPerSec = float64(rep.Replies) / el
		}
	}
	rep.Latency = summarize(r.latencies)
	rep.ByKind = map[string]latencySummary{}
	for k, ds := range r.byKind {
		rep.ByKind[k] = summarize(ds)
	}
	rep.Errors = r.errors
}

// latencySummary is a latency distribution in milliseconds.
type latencySummary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean_ms"`
	Min  float64 `json:"min_ms"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// summarize sorts ds and returns its percentiles.
func summarize(ds []time.Duration) latencySummary {
	if len(ds) == 0 {
		return latencySummary{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return latencySummary{N: len(ds), Mean: ms(sum / time.Duration(len(ds))), Min: ms(ds[0]),
		P50: ms(percentile(ds, 50)), P95: ms(percentile(ds, 95)), P99: ms(percentile(ds, 99)), Max: ms(ds[len(ds)-1])}
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted samples by
// the nearest-rank method: the smallest sample with at least p% of the
// samples at or below it. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p / 100 * float64(len(sorted)))
	if float64(rank) < p/100*float64(len(sorted)) {
		rank++ // the ceiling, without float trouble at whole ranks
	}
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// serverStats is what the bench reads from the server's metrics.
type serverStats struct {
	RSSBytes       float64 `json:"rss_bytes"`
	HeapInuseBytes float64 `json:"heap_inuse_bytes"`
	SysBytes       float64 `json:"go_sys_bytes"`
	Goroutines     float64 `json:"goroutines"`
}

// scrapeMetrics reads a few gauges from a Prometheus text endpoint.
func scrapeMetrics(ctx context.Context, url string) (*serverStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) (*serverStats, error) {
	s := &serverStats{}
	fields := map[string]*float64{
		"process_resident_memory_bytes": &s.RSSBytes,
		"go_memstats_heap_inuse_bytes":  &s.HeapInuseBytes,
		"go_memstats_sys_bytes":         &s.SysBytes,
		"go_goroutines":                 &s.Goroutines,
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := 0
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if p := fields[name]; ok && p != nil {
			if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
				*p = v
				found++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if found == 0 {
		return nil, errors.New("no process or Go runtime gauges in the metrics")
	}
	return s, nil
}

// benchReport is the bench's result; --json prints it as is.
type benchReport struct {
	URL            string                    `json:"url"`
	Shoppers       int                       `json:"shoppers"`
	Idle           int                       `json:"idle"`
	Rate           float64                   `json:"rate,omitempty"`
	Think          string                    `json:"think,omitempty"`
	Duration       float64                   `json:"duration_s"`
	NoFile         uint64                    `json:"nofile_limit"`
	ConnsOpened    int                       `json:"conns_opened"`
	ConnsFailed    int                       `json:"conns_failed"`
	FirstDialError string                    `json:"first_dial_error,omitempty"`
	ConnectSeconds float64                   `json:"connect_s"`
	IdleHeld       int                       `json:"idle_held"`
	Sent           int                       `json:"sent"`
	Replies        int                       `json:"replies"`
	RepliesPerSec  float64                   `json:"replies_per_s"`
	Latency        latencySummary            `json:"latency"`
	ByKind         map[string]latencySummary `json:"by_kind"`
	Errors         map[string]int            `json:"errors"`
	FakeLLM        *fakeLLMReport            `json:"fake_llm,omitempty"`
	Server         struct {
		Before *serverStats `json:"before,omitempty"` // before the bench connected
		Held   *serverStats `json:"held,omitempty"`   // every socket open, no load yet
		After  *serverStats `json:"after,omitempty"`  // after the load, sockets still open
		// RSSPerConn is (held - before) RSS over the sockets opened.
		RSSPerConn   float64 `json:"rss_per_conn_bytes,omitempty"`
		HeapPerConn  float64 `json:"heap_inuse_per_conn_bytes,omitempty"`
		GoroutinesPC float64 `json:"goroutines_per_conn,omitempty"`
	} `json:"server"`
}

// fakeLLMReport is what the scripted model (--fake-llm) did in the run.
type fakeLLMReport struct {
	URL          string  `json:"url"`
	LatencyMS    float64 `json:"latency_ms"`
	ChunkDelayMS float64 `json:"chunk_delay_ms"`
	// Calls is how many chat-completions requests it answered.
	Calls int64 `json:"calls"`
	// ScriptedReplies is how many replies carried its text: the turns the
	// model answered, not the bot's fallback or unsure reply.
	ScriptedReplies int64 `json:"scripted_replies"`
}

func (r *benchReport) perConnection() {
	b, h := r.Server.Before, r.Server.Held
	if b == nil || h == nil || r.ConnsOpened == 0 {
		return
	}
	n := float64(r.ConnsOpened)
	r.Server.RSSPerConn = (h.RSSBytes - b.RSSBytes) / n
	r.Server.HeapPerConn = (h.HeapInuseBytes - b.HeapInuseBytes) / n
	r.Server.GoroutinesPC = (h.Goroutines - b.Goroutines) / n
}

func (r *benchReport) print(w io.Writer) {
	mode := fmt.Sprintf("closed loop, think %s", r.Think)
	if r.Rate > 0 {
		mode = fmt.Sprintf("open loop, %.0f/s", r.Rate)
	}
	fmt.Fprintf(w, "target     %s\n", r.URL)
	fmt.Fprintf(w, "load       %d shoppers (%s) + %d idle for %.0fs; open-files limit %d\n", r.Shoppers, mode, r.Idle, r.Duration, r.NoFile)
	fmt.Fprintf(w, "sockets    %d opened, %d failed in %.1fs; %d/%d idle still open at the end\n", r.ConnsOpened, r.ConnsFailed, r.ConnectSeconds, r.IdleHeld, r.Idle)
	if r.FirstDialError != "" {
		fmt.Fprintf(w, "           first failure: %s\n", r.FirstDialError)
	}
	fmt.Fprintf(w, "messages   %d sent, %d replies, %.1f replies/s\n", r.Sent, r.Replies, r.RepliesPerSec)
	l := r.Latency
	fmt.Fprintf(w, "latency    min %.1f ms  p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  mean %.1f ms\n", l.Min, l.P50, l.P95, l.P99, l.Max, l.Mean)
	kinds := make([]string, 0, len(r.ByKind))
	for k := range r.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		l := r.ByKind[k]
		fmt.Fprintf(w, "  %-8s %6d replies  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", k, l.N, l.P50, l.P99, l.Max)
	}
	if m := r.FakeLLM; m != nil {
		fmt.Fprintf(w, "fake model %s: first token after %.0f ms, %d chunks %.0f ms apart; %d calls served, %d replies with its text\n",
			m.URL, m.LatencyMS, fakeLLMChunks, m.ChunkDelayMS, m.Calls, m.ScriptedReplies)
	}
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors     none")
	} else {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, r.Errors[k])
		}
		fmt.Fprintf(w, "errors     %s\n", strings.Join(parts, ", "))
	}
	stat := func(name string, s *serverStats) {
		if s != nil {
			fmt.Fprintf(w, "server     %-7s RSS %.1f MB  heap in use %.1f MB  Go sys %.1f MB  goroutines %.0f\n",
				name, s.RSSBytes/1e6, s.HeapInuseBytes/1e6, s.SysBytes/1e6, s.Goroutines)
		}
	}
	stat("before", r.Server.Before)
	stat("held", r.Server.Held)
	stat("after", r.Server.After)
	if r.Server.RSSPerConn != 0 {
		fmt.Fprintf(w, "per socket RSS %.1f KB  heap in use %.1f KB  goroutines %.2f\n",
			r.Server.RSSPerConn/1024, r.Server.HeapPerConn/1024, r.Server.GoroutinesPC)
	}
}
