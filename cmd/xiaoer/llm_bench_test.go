package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// The first-delta benchmark's knobs, as test flags (like -update for
// golden files): go test -run '^$' -bench FirstDelta -benchtime 1x
// ./cmd/xiaoer/ -args -firstdelta.conversations 200 -firstdelta.rounds 3
var (
	firstDeltaConversations = flag.Int("firstdelta.conversations", 200,
		"BenchmarkFirstDelta: shoppers connected at once, each in its own conversation")
	firstDeltaRounds = flag.Int("firstdelta.rounds", 3,
		"BenchmarkFirstDelta: rounds per iteration; in each, every shopper asks one question at the same moment")
)

// The scripted model's fixed latency: the first token 300 ms after the
// headers, then a chunk every 20 ms.
const (
	benchFirstDelay = 300 * time.Millisecond
	benchChunkDelay = 20 * time.Millisecond
)

// benchMarker finds the question's marker in what the model received:
// it ties each model request to the conversation and round that sent it.
var benchMarker = regexp.MustCompile(`ticket FD-[A-Z]+-[A-Z]+`)

// benchQuestions are demo FAQ questions, so that most turns have a
// reference the script can cite.
var benchQuestions = []string{
	"How long does shipping take?",
	"Can I change my delivery address?",
	"How do I return an item?",
	"What payment methods do you accept?",
}

// benchScript is the model: 20 chunks, citing [1] when the turn has a
// reference (as a grounded model would), otherwise an answer without one
// (which the bot replaces by its unsure reply; the deltas still go out).
func benchScript(r *llmtest.Received) llmtest.Reply {
	cite := ""
	for _, m := range r.Messages {
		if strings.Contains(m.Content, `<reference n="1"`) {
			cite = " [1]"
			break
		}
	}
	words := strings.Fields("Sure, here is what the shop's policy says about this: you can find " +
		"the details in your account, and our team replies within one working day.")
	chunks := make([]string, len(words))
	for i, w := range words {
		chunks[i] = w + " "
	}
	chunks[len(chunks)-1] = strings.TrimSuffix(chunks[len(chunks)-1], ". ") + cite + "."
	return llmtest.Reply{Chunks: chunks, FirstDelay: benchFirstDelay, ChunkDelay: benchChunkDelay}
}

// benchTurn is one question of one shopper, as the shopper saw it.
type benchTurn struct {
	marker     string
	firstDelta time.Time // when the client read the first delta frame
	deltas     int
	grounded   bool // the final message cites a source
	err        error
}

// BenchmarkFirstDelta measures the time Xiaoer adds between the model's
// first token and the widget's first delta frame: the real server (`serve
// --demo` with a model), a scripted model with a fixed latency, and many
// websocket shoppers asking at the same moment. For each turn,
//
//	added = (client reads the first delta) − (model flushed its first chunk)
//
// both taken with time.Now in this process, so on the same monotonic
// clock. Queueing before the model call (the bot's workers, the store) is
// not part of it. Reported: p50, p99 and max of added over all turns,
// replies completed, errors, and the process's CPU use during the rounds
// (of all cores: server, model and clients share them).
func BenchmarkFirstDelta(b *testing.B) {
	convs, rounds := *firstDeltaConversations, *firstDeltaRounds
	model := llmtest.NewServer(b, benchScript)
	s := startServer(b, b.TempDir(), "--demo", "--llm-url", model.URL, "--llm-model", "scripted")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	clients := make([]*chatclient.Client, convs)
	var wg sync.WaitGroup
	errs := make([]error, convs)
	for i := range clients {
		wg.Go(func() {
			clients[i], errs[i] = chatclient.Dial(ctx, s.WS, chatclient.Options{Lang: "en"})
		})
	}
	wg.Wait()
	for i, c := range clients {
		if errs[i] != nil {
			b.Fatalf("dial shopper %d: %v", i, errs[i])
		}
		defer c.Close()
	}

	var (
		added            []time.Duration
		replies, failed  int
		grounded, deltas int
		cpu, busy, wall  time.Duration
		round            int
	)
	// b.N, not b.Loop: go1.26.8's compiler crashes on this function with
	// b.Loop (internal compiler error in the b.Loop rewrite).
	b.ResetTimer()
	for range b.N {
		for range rounds {
			round++
			cpu0, busy0, t0 := cpuTime(), machineBusy(), time.Now()
			turns := benchRound(ctx, clients, round)
			cpu += cpuTime() - cpu0
			busy += machineBusy() - busy0
			wall += time.Since(t0)

			chunkAt := map[string]time.Time{}
			for _, r := range model.Requests() {
				if m := benchMarker.FindString(r.LastUser()); m != "" && !r.FirstChunkAt.IsZero() {
					chunkAt[m] = r.FirstChunkAt
				}
			}
			for _, t := range turns {
				at, ok := chunkAt[t.marker]
				switch {
				case t.err != nil:
					failed++
					b.Logf("round %d %s: %v", round, t.marker, t.err)
					continue
				case !ok:
					failed++
					b.Logf("round %d %s: no model request with a first chunk", round, t.marker)
					continue
				case t.firstDelta.IsZero():
					failed++
					b.Logf("round %d %s: reply without a delta", round, t.marker)
					continue
				}
				replies++
				deltas += t.deltas
				if t.grounded {
					grounded++
				}
				added = append(added, t.firstDelta.Sub(at))
			}
		}
	}
	b.StopTimer()
	if len(added) == 0 {
		b.Fatalf("no samples (%d errors)\nserver logs:\n%s", failed, s.Logs)
	}
	slices.Sort(added)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(added, 50)), "p50-added-ms")
	b.ReportMetric(ms(percentile(added, 99)), "p99-added-ms")
	b.ReportMetric(ms(added[len(added)-1]), "max-added-ms")
	b.ReportMetric(ms(added[0]), "min-added-ms")
	b.ReportMetric(float64(len(added)), "samples")
	b.ReportMetric(float64(replies), "replies")
	b.ReportMetric(float64(grounded), "grounded")
	b.ReportMetric(float64(deltas)/float64(replies), "deltas/reply")
	b.ReportMetric(float64(failed), "errors")
	b.ReportMetric(100*float64(cpu)/float64(wall), "cpu-%")
	if busy > 0 {
		// CPU the rest of the machine used meanwhile: a figure taken while
		// something else ran is not this server's.
		b.ReportMetric(100*float64(max(busy-cpu, 0))/float64(wall), "other-cpu-%")
	}
}

// benchRound has every shopper ask one question at the same moment and
// waits for all the replies.
func benchRound(ctx context.Context, clients []*chatclient.Client, round int) []benchTurn {
	turns := make([]benchTurn, len(clients))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		turns[i].marker = "ticket FD-" + letters(i) + "-" + letters(round)
		q := benchQuestions[i%len(benchQuestions)] + " (" + turns[i].marker + ")"
		wg.Go(func() {
			<-start
			benchAsk(ctx, c, q, &turns[i])
		})
	}
	close(start)
	wg.Wait()
	return turns
}

// benchAsk sends q and reads frames until its reply, noting when the first
// delta arrived. The clock is read as soon as a frame is read, before it is
// decoded.
func benchAsk(ctx context.Context, c *chatclient.Client, q string, t *benchTurn) {
	id := chatclient.NewClientID()
	if err := c.Send(id, q); err != nil {
		t.err = err
		return
	}
	ws := c.Conn()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	dl, _ := ctx.Deadline()
	ws.SetReadDeadline(dl)
	for {
		kind, data, err := ws.ReadMessage()
		now := time.Now()
		if err != nil {
			t.err = fmt.Errorf("read: %w", err)
			return
		}
		if kind != websocket.TextMessage {
			continue
		}
		var f struct {
			Type     string            `json:"type"`
			ClientID string            `json:"client_id"`
			ReplyTo  string            `json:"reply_to"`
			Role     string            `json:"role"`
			Code     string            `json:"code"`
			Sources  []json.RawMessage `json:"sources"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			t.err = fmt.Errorf("frame is not JSON: %q", data)
			return
		}
		switch {
		case f.Type == "delta":
			if t.deltas == 0 {
				t.firstDelta = now
			}
			t.deltas++
		case f.Type == "error" && f.ClientID == id:
			t.err = fmt.Errorf("error frame %q", f.Code)
			return
		case f.Type == "message" && f.Role != "shopper" && f.ReplyTo == id:
			t.grounded = len(f.Sources) > 0
			return
		}
	}
}

// letters writes n in base 26 with the letters A to Z: markers without
// digits, which nothing masks as personal data.
func letters(n int) string {
	s := ""
	for {
		s = string(rune('A'+n%26)) + s
		n /= 26
		if n == 0 {
			return s
		}
	}
}

// cpuTime returns the user and system CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineBusy returns the CPU time all processes used so far (from
// /proc/stat, Linux), or 0 when it cannot be read.
func machineBusy() time.Duration {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	fields := strings.Fields(sc.Text()) // cpu user nice system idle iowait irq softirq steal ...
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range fields[1:9] {
		if i == 3 || i == 4 {
			continue // idle, iowait
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}
