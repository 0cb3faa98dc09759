//go:build crash

package main

// The crash suite (docs/delivery.md): a real xiaoer binary under traffic is
// killed with SIGKILL at random moments, many times, and restarted on the
// same data folder; afterwards every acknowledged message is stored exactly
// once, seqs are dense, every shopper message has exactly one reply and
// SQLite's integrity check is ok. It ends with a graceful SIGTERM under
// traffic. It takes about a minute, so it runs only with the crash tag:
//
//	go test -tags crash -count=1 -run TestCrash -v ./cmd/xiaoer
//
// XIAOER_CRASH_SEED replays a run (the seed is logged); XIAOER_CRASH_KILLS
// changes the number of kills (default 25).

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/mattn/go-sqlite3" // the driver, for the checks on the data folder

	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// crashQuestions are FAQ questions the demo answers with a confident bot
// reply (one reply, no handoff), in both languages.
var crashQuestions = []string{
	"如何申请七天无理由退货",
	"How long does shipping take?",
	"发票怎么开",
	"Can I change my delivery address?",
	"退款多久到账",
	"How do I get an invoice?",
}

const (
	crashShoppers = 6
	// crashOpen is how many unanswered messages a shopper has at most.
	crashOpen = 3
)

func TestCrash(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("XIAOER_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("XIAOER_CRASH_SEED: %v", err)
		}
		seed = v
	}
	kills := 25
	if s := os.Getenv("XIAOER_CRASH_KILLS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("XIAOER_CRASH_KILLS: %v", err)
		}
		kills = v
	}
	t.Logf("seed %d (XIAOER_CRASH_SEED=%d replays the schedule), %d kills", seed, seed, kills)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	dir := t.TempDir()
	bin := filepath.Join(dir, "xiaoer")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	addr := freeAddr(t)
	srv := &crashServer{t: t, bin: bin, data: data, addr: addr, logPath: filepath.Join(dir, "server.log")}
	srv.start()
	if !srv.waitHealthy(60 * time.Second) {
		t.Fatalf("the first start was not healthy\n%s", srv.logTail())
	}

	rec := &crashLog{acks: map[string]ackRecord{}, replies: map[string]int{}}
	ctx, stopClients := context.WithCancel(context.Background())
	defer stopClients()
	var wg sync.WaitGroup
	shoppers := make([]*crashShopper, crashShoppers)
	for i := range shoppers {
		sh := &crashShopper{n: i, rec: rec, ws: "ws://" + addr + "/ws/chat",
			visitor: fmt.Sprintf("crash-visitor-%02d", i), rng: rand.New(rand.NewPCG(seed, uint64(i+1))),
			last: make(chan struct{}, 1)}
		shoppers[i] = sh
		wg.Add(1)
		// Owned by the test: exits when ctx is cancelled.
		go func() { defer wg.Done(); sh.run(ctx) }()
	}

	start := time.Now()
	for i := 0; i < kills; i++ {
		var after time.Duration
		if i > 0 && rng.IntN(5) == 0 {
			// Now and then a kill before the restart is healthy: during
			// recovery, start-up and the first reconnects.
			after = time.Duration(rng.IntN(150)) * time.Millisecond
		} else {
			if !srv.waitHealthy(30 * time.Second) {
				t.Fatalf("kill %d: the server did not come back\n%s", i, srv.logTail())
			}
			after = time.Duration(50+rng.IntN(751)) * time.Millisecond
		}
		time.Sleep(after)
		srv.kill()
		acked, total := rec.counts()
		t.Logf("kill %2d after %3d ms: %d messages acknowledged so far (%d sent)", i+1, after.Milliseconds(), acked, total)
		checkData(t, data, rec, false)
		if t.Failed() {
			stopClients()
			wg.Wait()
			t.Fatalf("stopped at kill %d (seed %d)\n%s", i+1, seed, srv.logTail())
		}
		srv.start()
	}
	if !srv.waitHealthy(30 * time.Second) {
		t.Fatalf("the last restart was not healthy\n%s", srv.logTail())
	}
	t.Logf("%d kills in %v", kills, time.Since(start).Round(time.Millisecond))

	// Drain: no new messages; every shopper's resends are acknowledged and
	// answered.
	rec.setDraining()
	deadline := time.Now().Add(60 * time.Second)
	for rec.open(shoppers) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still unanswered 60 s after the last restart\n%s", rec.open(shoppers), srv.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Graceful shutdown under traffic: each shopper sends one more message,
	// then SIGTERM. Sockets close with 1001, the process exits in time, and
	// every turn that stored its message also stored its reply.
	// A shopper with nothing open passes the drain while it is still
	// reconnecting after the last kill: wait until every one is connected,
	// so that SIGTERM finds each of them on a socket.
	for !allConnected(shoppers) {
		if time.Now().After(deadline) {
			t.Fatalf("not every shopper reconnected after the last restart\n%s", srv.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec.expectShutdown()
	for _, sh := range shoppers {
		sh.last <- struct{}{}
	}
	time.Sleep(5 * time.Millisecond)
	began := time.Now()
	code, err := srv.terminate(shutdownGrace + 5*time.Second)
	took := time.Since(began)
	if err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, srv.logTail())
	}
	if code != 0 {
		t.Errorf("after SIGTERM the server exited with %d, want 0\n%s", code, srv.logTail())
	}
	t.Logf("SIGTERM to exit: %v", took.Round(time.Millisecond))
	stopClients()
	wg.Wait()
	if got := rec.closeCodes(); got[1001]+got[1012] < crashShoppers {
		t.Errorf("at SIGTERM the shoppers' sockets closed with %v, want 1001 (or 1012) for each of %d", got, crashShoppers)
	}
	checkData(t, data, rec, true)
	acked, total := rec.counts()
	t.Logf("%d messages sent, %d acknowledged, %d sent again; all present once, answered once", total, acked, rec.resent)
	rec.report(t)
}

// crashServer is the xiaoer process under test.
type crashServer struct {
	t       *testing.T
	bin     string
	data    string
	addr    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	state   *os.ProcessState
}

func (s *crashServer) start() {
	s.t.Helper()
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprintf(logf, "=== start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(s.bin, "serve", "--demo", "--data", s.data, "--addr", s.addr)
	cmd.Env = append(os.Environ(), "XIAOER_BCRYPT_COST=4")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start xiaoer: %v", err)
	}
	logf.Close()
	s.cmd = cmd
	s.exited = make(chan struct{})
	// Owned by the test: exits when the process does.
	go func() {
		cmd.Wait()
		s.state = cmd.ProcessState
		close(s.exited)
	}()
}

func (s *crashServer) waitHealthy(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return false
		default:
		}
		resp, err := client.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (s *crashServer) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// terminate sends SIGTERM and waits up to limit for the exit code.
func (s *crashServer) terminate(limit time.Duration) (int, error) {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.state.ExitCode(), nil
	case <-time.After(limit):
		s.kill()
		return -1, fmt.Errorf("no exit within %v of SIGTERM", limit)
	}
}

func (s *crashServer) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return "server log (tail):\n" + string(b)
}

// crashLog is what the shoppers saw, shared by their goroutines.
type crashLog struct {
	mu       sync.Mutex
	acks     map[string]ackRecord // client_id → the acknowledged message
	replies  map[string]int       // client_id → replies delivered
	sent     int
	resent   int // messages sent again, answered or not
	errs     []string
	draining bool
	shutdown bool
	closes   map[int]int // close codes seen after expectShutdown
}

type ackRecord struct {
	conv string
	seq  int64
}

func (r *crashLog) errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) < 50 {
		r.errs = append(r.errs, fmt.Sprintf(format, args...))
	}
}

func (r *crashLog) report(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		t.Error(e)
	}
}

func (r *crashLog) counts() (acked, sent int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.acks), r.sent
}

func (r *crashLog) setDraining() {
	r.mu.Lock()
	r.draining = true
	r.mu.Unlock()
}

func (r *crashLog) isDraining() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.draining
}

func (r *crashLog) expectShutdown() {
	r.mu.Lock()
	r.shutdown = true
	r.closes = map[int]int{}
	r.mu.Unlock()
}

func (r *crashLog) closeCodes() map[int]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int]int{}
	for k, v := range r.closes {
		out[k] = v
	}
	return out
}

func (r *crashLog) open(shoppers []*crashShopper) int {
	n := 0
	for _, sh := range shoppers {
		sh.mu.Lock()
		n += len(sh.open)
		sh.mu.Unlock()
	}
	return n
}

// ack records an ack; a client_id acknowledged twice must get the same seq.
func (r *crashLog) ack(conv, cid string, seq int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.acks[cid]; ok && (prev.seq != seq || prev.conv != conv) {
		if len(r.errs) < 50 {
			r.errs = append(r.errs, fmt.Sprintf("%s acknowledged as seq %d, earlier as seq %d: stored twice", cid, seq, prev.seq))
		}
		return
	}
	r.acks[cid] = ackRecord{conv: conv, seq: seq}
}

func (r *crashLog) reply(cid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies[cid]++
	if r.replies[cid] == 2 && len(r.errs) < 50 {
		r.errs = append(r.errs, fmt.Sprintf("%s was answered twice", cid))
	}
}

func (r *crashLog) closed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.shutdown {
		return
	}
	code := -1
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	r.closes[code]++
}

// crashShopper is one shopper that behaves like the widget: it keeps
// every message until it is answered, and after each reconnect (with
// conversation and after) resends them with the same client_id.
type crashShopper struct {
	n       int
	rec     *crashLog
	ws      string
	visitor string
	rng     *rand.Rand
	last    chan struct{} // one more message, just before SIGTERM
	mu      sync.Mutex
	open    []*crashMsg // unanswered, in order
	// answered are the last messages answered: resent now and then as a
	// widget does whose ack was lost, they must be neither stored nor
	// answered again.
	answered []*crashMsg
	conv     string
	seen     int64 // the highest seq delivered
	next     int
	// connected is true while a session runs: after a SIGKILL the socket
	// ends at once (the kernel closes it), so true after the drain means
	// connected to the live server.
	connected bool
}

// allConnected reports whether every shopper has a session running.
func allConnected(shoppers []*crashShopper) bool {
	for _, sh := range shoppers {
		sh.mu.Lock()
		ok := sh.connected
		sh.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

type crashMsg struct {
	cid, text string
}

func (sh *crashShopper) run(ctx context.Context) {
	for ctx.Err() == nil {
		sh.mu.Lock()
		opts := chatclient.Options{Visitor: sh.visitor, Conversation: sh.conv, After: sh.seen}
		sh.mu.Unlock()
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := chatclient.Dial(dctx, sh.ws, opts)
		cancel()
		if err != nil {
			sleepCtx(ctx, 20*time.Millisecond)
			continue
		}
		sh.session(ctx, c)
		c.Close()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// session runs one connection until it closes.
func (sh *crashShopper) session(ctx context.Context, c *chatclient.Client) {
	sh.mu.Lock()
	sh.connected = true
	defer func() {
		sh.mu.Lock()
		sh.connected = false
		sh.mu.Unlock()
	}()
	if sh.conv == "" {
		sh.conv = c.Hello.Conversation
	} else if c.Hello.Conversation != sh.conv {
		sh.rec.errorf("shopper %d: reconnecting to %s got conversation %s: the conversation was lost", sh.n, sh.conv, c.Hello.Conversation)
		sh.conv = c.Hello.Conversation
	}
	if c.Hello.LastSeq < sh.seen {
		sh.rec.errorf("shopper %d: hello says last_seq %d, but seq %d was delivered before", sh.n, c.Hello.LastSeq, sh.seen)
	}
	conv := sh.conv
	resend := append([]*crashMsg(nil), sh.open...)
	if sh.rng.IntN(2) == 0 {
		resend = append(resend, sh.answered...)
	}
	sh.mu.Unlock()

	frames := make(chan chatclient.Frame, 64)
	readErr := make(chan error, 1)
	// The connection's only reader; exits when the socket closes.
	go func() {
		for {
			f, err := c.Next(context.Background())
			if err != nil {
				readErr <- err
				close(frames)
				return
			}
			frames <- f
		}
	}()
	defer func() {
		c.Close()
		for range frames {
		}
	}()

	// The widget resends what was not answered, in order, with the same ids.
	sh.rec.mu.Lock()
	sh.rec.resent += len(resend)
	sh.rec.mu.Unlock()
	for _, m := range resend {
		if c.Send(m.cid, m.text) != nil {
			return
		}
	}
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	think := time.NewTimer(time.Duration(50+sh.rng.IntN(200)) * time.Millisecond)
	defer think.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sh.last:
			sh.send(c)
		case <-think.C:
			sh.mu.Lock()
			room := len(sh.open) < crashOpen
			sh.mu.Unlock()
			if room && !sh.rec.isDraining() {
				if !sh.send(c) {
					return
				}
			}
			think.Reset(time.Duration(50+sh.rng.IntN(200)) * time.Millisecond)
		case <-retry.C:
			// After a rate_limited or busy error: resend what is open.
			sh.mu.Lock()
			again := append([]*crashMsg(nil), sh.open...)
			sh.mu.Unlock()
			for _, m := range again {
				if c.Send(m.cid, m.text) != nil {
					return
				}
			}
		case f, ok := <-frames:
			if !ok {
				sh.rec.closed(<-readErr)
				return
			}
			switch f.Type {
			case "ack":
				sh.rec.ack(conv, f.ClientID, f.Seq)
			case "message":
				sh.onMessage(f)
			case "error":
				switch f.Code {
				case "rate_limited", "busy", "internal":
					retry.Reset(300 * time.Millisecond)
				default:
					sh.rec.errorf("shopper %d: error frame %s", sh.n, f.Raw)
				}
			}
		}
	}
}

// send sends a new message; it returns false when the socket failed.
func (sh *crashShopper) send(c *chatclient.Client) bool {
	sh.mu.Lock()
	sh.next++
	m := &crashMsg{cid: fmt.Sprintf("s%02d-m%05d", sh.n, sh.next), text: crashQuestions[sh.rng.IntN(len(crashQuestions))]}
	sh.open = append(sh.open, m)
	sh.mu.Unlock()
	sh.rec.mu.Lock()
	sh.rec.sent++
	sh.rec.mu.Unlock()
	return c.Send(m.cid, m.text) == nil
}

// onMessage checks that messages arrive in seq order without gaps or
// repeats, across reconnects, and closes the messages they answer.
func (sh *crashShopper) onMessage(f chatclient.Frame) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	switch {
	case f.Seq <= sh.seen:
		sh.rec.errorf("shopper %d: message seq %d delivered again (seq %d seen)", sh.n, f.Seq, sh.seen)
		return
	case f.Seq != sh.seen+1:
		sh.rec.errorf("shopper %d: message seq %d after seq %d: a gap", sh.n, f.Seq, sh.seen)
	}
	sh.seen = f.Seq
	if f.Role == "shopper" || f.ReplyTo == "" {
		return
	}
	sh.rec.reply(f.ReplyTo)
	for i, m := range sh.open {
		if m.cid == f.ReplyTo {
			sh.open = append(sh.open[:i], sh.open[i+1:]...)
			sh.answered = append(sh.answered, m)
			if len(sh.answered) > 2 {
				sh.answered = sh.answered[1:]
			}
			break
		}
	}
}

// checkData opens the data folder's database while no server runs and
// checks it against what the shoppers were told: integrity ok, seqs dense
// from 1 in every conversation, every acknowledged message stored once
// with its seq, and no message answered twice; final also wants every
// shopper message answered (exactly once).
func checkData(t *testing.T, data string, rec *crashLog, final bool) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, dbFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("PRAGMA integrity_check: %q %v", integrity, err)
	}
	rows, err := db.Query(`SELECT m.conversation_id, m.seq, m.role, COALESCE(m.client_id, ''), m.reply_to, c.last_seq
		FROM messages m JOIN conversations c ON c.id = m.conversation_id ORDER BY m.conversation_id, m.seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type key struct{ conv, cid string }
	stored := map[key]int64{}
	replies := map[key]int{}
	var shopperMsgs []key
	lastSeq := map[string]int64{}
	prev := map[string]int64{}
	for rows.Next() {
		var conv, role, cid, replyTo string
		var seq, last int64
		if err := rows.Scan(&conv, &seq, &role, &cid, &replyTo, &last); err != nil {
			t.Fatal(err)
		}
		if seq != prev[conv]+1 {
			t.Errorf("conversation %s: seq %d follows seq %d", conv, seq, prev[conv])
		}
		prev[conv], lastSeq[conv] = seq, last
		if cid != "" {
			if _, dup := stored[key{conv, cid}]; dup {
				t.Errorf("conversation %s: client_id %s stored twice", conv, cid)
			}
			stored[key{conv, cid}] = seq
		}
		if role == "shopper" && cid != "" {
			shopperMsgs = append(shopperMsgs, key{conv, cid})
		}
		if replyTo != "" {
			replies[key{conv, replyTo}]++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for conv, last := range lastSeq {
		if prev[conv] != last {
			t.Errorf("conversation %s: last_seq %d, highest stored seq %d", conv, last, prev[conv])
		}
	}
	rec.mu.Lock()
	acks := make(map[string]ackRecord, len(rec.acks))
	for k, v := range rec.acks {
		acks[k] = v
	}
	rec.mu.Unlock()
	var lost []string
	for cid, a := range acks {
		seq, ok := stored[key{a.conv, cid}]
		switch {
		case !ok:
			lost = append(lost, cid)
		case seq != a.seq:
			t.Errorf("%s acknowledged as seq %d, stored as seq %d", cid, a.seq, seq)
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged messages are not stored: %s", len(lost), strings.Join(lost[:min(len(lost), 10)], " "))
	}
	var twice, unanswered bytes.Buffer
	for _, k := range shopperMsgs {
		switch n := replies[k]; {
		case n > 1:
			fmt.Fprintf(&twice, " %s(%d)", k.cid, n)
		case n == 0 && final:
			fmt.Fprintf(&unanswered, " %s", k.cid)
		}
	}
	if twice.Len() > 0 {
		t.Errorf("shopper messages with more than one reply:%s", twice.String())
	}
	if unanswered.Len() > 0 {
		t.Errorf("shopper messages stored without a reply:%s", unanswered.String())
	}
}
