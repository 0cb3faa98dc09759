package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
)

// fixture is a client talking to a scripted server.
type fixture struct {
	srv    *llmtest.Server
	client *llm.Client
	reg    *prometheus.Registry
	http   *http.Client
}

// newFixture starts a server with script and a client for it. The client's
// timeouts are generous unless mod shortens them, and retries wait 1ms.
func newFixture(t *testing.T, script llmtest.Script, mod func(*llm.Config)) *fixture {
	t.Helper()
	f := &fixture{
		srv:  llmtest.NewServer(t, script),
		reg:  prometheus.NewRegistry(),
		http: &http.Client{Transport: &http.Transport{}},
	}
	t.Cleanup(f.http.CloseIdleConnections)
	cfg := llm.Config{
		BaseURL:           f.srv.URL,
		Model:             "test-model",
		APIKey:            "sk-test-secret",
		FirstTokenTimeout: 5 * time.Second,
		ReplyTimeout:      10 * time.Second,
		RetryBase:         time.Millisecond,
		HTTPClient:        f.http,
		Metrics:           llm.NewMetrics(f.reg),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.client = c
	return f
}

// stream calls Stream with one user message and collects the deltas.
func (f *fixture) stream(t *testing.T, ctx context.Context) (llm.Response, []string, error) {
	t.Helper()
	var deltas []string
	resp, err := f.client.Stream(ctx, userRequest("hello"), func(s string) { deltas = append(deltas, s) })
	return resp, deltas, err
}

func userRequest(text string) llm.Request {
	return llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You are Xiaoer."},
		{Role: llm.RoleUser, Content: text},
	}}
}

// metric returns a counter's or gauge's value, or a histogram's sample
// count, from reg; labels are name/value pairs.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(m, labels[i], labels[i+1]) {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func TestStreamText(t *testing.T) {
	chunks := []string{"Hel", "lo, ", "您好", "！ Your order ", "ships today."}
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Chunks: chunks, ChunkDelay: time.Millisecond, Usage: &llm.Usage{PromptTokens: 42, CompletionTokens: 7}}
	}, nil)

	resp, deltas, err := f.stream(t, context.Background())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if strings.Join(deltas, "|") != strings.Join(chunks, "|") {
		t.Errorf("deltas = %q, want %q", deltas, chunks)
	}
	if want := strings.Join(chunks, ""); resp.Content != want {
		t.Errorf("Content = %q, want %q", resp.Content, want)
	}
	if resp.FinishReason != "stop" || resp.Attempts != 1 || len(resp.ToolCalls) != 0 {
		t.Errorf("FinishReason, Attempts, ToolCalls = %q, %d, %v; want stop, 1, none", resp.FinishReason, resp.Attempts, resp.ToolCalls)
	}
	if want := (llm.Usage{PromptTokens: 42, CompletionTokens: 7}); resp.Usage != want || resp.UsageEstimated {
		t.Errorf("Usage = %+v (estimated %v), want %+v reported", resp.Usage, resp.UsageEstimated, want)
	}
	if resp.FirstToken <= 0 || resp.Total < resp.FirstToken {
		t.Errorf("FirstToken %v, Total %v: want 0 < FirstToken <= Total", resp.FirstToken, resp.Total)
	}
}

func TestStreamSendsWireRequest(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply { return llmtest.Text("ok") }, nil)
	params := json.RawMessage(`{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}`)
	req := llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "sys"},
			{Role: llm.RoleUser, Content: "where is A1?"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "order_status", Arguments: `{"order_id":"A1"}`}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: `{"status":"shipped"}`},
		},
		Tools: []llm.Tool{
			{Name: "order_status", Description: "Look up an order.", Parameters: params},
			{Name: "handoff", Description: "Call a human."},
		},
		MaxTokens: 123,
	}
	if _, err := f.client.Stream(context.Background(), req, nil); err != nil {
		t.Fatalf("Stream: %v", err)
	}
	reqs := f.srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Model != "test-model" || !r.Stream || !r.IncludeUsage || r.MaxTokens != 123 {
		t.Errorf("model %q stream %v include_usage %v max_tokens %d; want test-model true true 123", r.Model, r.Stream, r.IncludeUsage, r.MaxTokens)
	}
	if r.Temperature < 0.19 || r.Temperature > 0.21 {
		t.Errorf("temperature = %v, want 0.2", r.Temperature)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-test-secret" {
		t.Errorf("Authorization = %q", got)
	}
	if len(r.Messages) != len(req.Messages) {
		t.Fatalf("got %d messages, want %d", len(r.Messages), len(req.Messages))
	}
	for i, m := range req.Messages {
		g := r.Messages[i]
		if g.Role != m.Role || g.Content != m.Content || g.ToolCallID != m.ToolCallID || len(g.ToolCalls) != len(m.ToolCalls) {
			t.Errorf("message %d = %+v, want %+v", i, g, m)
			continue
		}
		for j := range m.ToolCalls {
			if g.ToolCalls[j] != m.ToolCalls[j] {
				t.Errorf("message %d call %d = %+v, want %+v", i, j, g.ToolCalls[j], m.ToolCalls[j])
			}
		}
	}
	if r.LastUser() != "where is A1?" || len(r.ToolResults()) != 1 {
		t.Errorf("LastUser %q, ToolResults %v", r.LastUser(), r.ToolResults())
	}
	if len(r.Tools) != 2 || r.Tools[0].Name != "order_status" || r.Tools[0].Description != "Look up an order." {
		t.Fatalf("tools = %+v", r.Tools)
	}
	var got, want any
	json.Unmarshal(r.Tools[0].Parameters, &got)
	json.Unmarshal(params, &want)
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("parameters = %s, want %s", g, w)
	}
	if !strings.Contains(string(r.Tools[1].Parameters), `"object"`) {
		t.Errorf("a tool without parameters should get an empty object schema, got %s", r.Tools[1].Parameters)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStreamToolCalls(t *testing.T) {
	calls := []llm.ToolCall{
		llmtest.Call("order_status", `{"order_id":"A1-2024","detail":true}`),
		llmtest.Call("search_faq", `{"query":"退货政策"}`),
	}
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Text: "Let me check.", ToolCalls: calls}
	}, nil)
	resp, deltas, err := f.stream(t, context.Background())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if resp.Content != "Let me check." || strings.Join(deltas, "") != resp.Content {
		t.Errorf("Content = %q, deltas %q", resp.Content, deltas)
	}
	if len(resp.ToolCalls) != len(calls) {
		t.Fatalf("ToolCalls = %+v, want %+v", resp.ToolCalls, calls)
	}
	for i := range calls {
		if resp.ToolCalls[i] != calls[i] {
			t.Errorf("call %d = %+v, want %+v", i, resp.ToolCalls[i], calls[i])
		}
	}
	if resp.FinishReason != "tool_calls" {
		t.Errorf("FinishReason = %q, want tool_calls", resp.FinishReason)
	}
}

func TestStreamEstimatesUsageWhenNoneReported(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Text: "您好，订单已发货。", OmitUsage: true}
	}, nil)
	resp, _, err := f.stream(t, context.Background())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if !resp.UsageEstimated || resp.Usage.PromptTokens <= 0 || resp.Usage.CompletionTokens < 7 {
		t.Errorf("Usage = %+v estimated %v; want an estimate (>= 7 completion tokens for 7 Han characters)", resp.Usage, resp.UsageEstimated)
	}
}

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abcd", 1},
		{"abcde", 2},
		{"您好", 2},
		{"订单 A1", 2 + 1},
		{"こんにちは", 5},
	}
	for _, tt := range tests {
		if got := llm.EstimateTokens(tt.in); got != tt.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestStreamRetries(t *testing.T) {
	tests := []struct {
		name       string
		replies    []llmtest.Reply // by request number; the last repeats
		maxRetries int
		wantErr    error // nil: success
		wantReqs   int
		wantOut    string // requests_total outcome
	}{
		{"429 then ok", []llmtest.Reply{{Status: 429, RetryAfter: "0"}, llmtest.Text("ok")}, 0, nil, 2, "ok"},
		{"503 503 then ok", []llmtest.Reply{{Status: 503}, {Status: 503}, llmtest.Text("ok")}, 0, nil, 3, "ok"},
		{"500 x3", []llmtest.Reply{{Status: 500}}, 0, llm.ErrUpstream, 3, "upstream_error"},
		{"500 without retries", []llmtest.Reply{{Status: 500}}, -1, llm.ErrUpstream, 1, "upstream_error"},
		{"400 not retried", []llmtest.Reply{{Status: 400, Text: "context too long"}}, 0, llm.ErrUpstream, 1, "upstream_error"},
		{"401 not retried", []llmtest.Reply{{Status: 401}}, 0, llm.ErrUpstream, 1, "upstream_error"},
		{"404 not retried", []llmtest.Reply{{Status: 404}}, 0, llm.ErrUpstream, 1, "upstream_error"},
		{"broken before first token, then ok", []llmtest.Reply{{CutAtStart: true}, llmtest.Text("ok")}, 0, nil, 2, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
				mu.Lock()
				defer mu.Unlock()
				i := min(n, len(tt.replies)-1)
				n++
				return tt.replies[i]
			}, func(c *llm.Config) { c.MaxRetries = tt.maxRetries })

			resp, _, err := f.stream(t, context.Background())
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Stream: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Stream error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && resp.Content != "ok" {
				t.Errorf("Content = %q, want ok", resp.Content)
			}
			if got := len(f.srv.Requests()); got != tt.wantReqs || resp.Attempts != tt.wantReqs {
				t.Errorf("requests = %d, Attempts = %d, want %d", got, resp.Attempts, tt.wantReqs)
			}
			if got := metric(t, f.reg, "xiaoer_llm_requests_total", "outcome", tt.wantOut); got != 1 {
				t.Errorf("requests_total{outcome=%s} = %v, want 1", tt.wantOut, got)
			}
			if got := metric(t, f.reg, "xiaoer_llm_retries_total"); got != float64(tt.wantReqs-1) {
				t.Errorf("retries_total = %v, want %d", got, tt.wantReqs-1)
			}
		})
	}
}

func TestStreamHonoursRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		mu.Lock()
		defer mu.Unlock()
		arrivals = append(arrivals, time.Now())
		if len(arrivals) == 1 {
			return llmtest.Reply{Status: 429, RetryAfter: "1"}
		}
		return llmtest.Text("ok")
	}, nil)
	if _, _, err := f.stream(t, context.Background()); err != nil {
		t.Fatalf("Stream: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 2 {
		t.Fatalf("got %d requests, want 2", len(arrivals))
	}
	// A lower bound: the backoff alone (RetryBase 1ms) would retry at once.
	if gap := arrivals[1].Sub(arrivals[0]); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want >= 1s as Retry-After asked", gap)
	}
}

func TestStreamRetryAfterBeyondDeadlineFailsNow(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Status: 429, RetryAfter: "5"}
	}, func(c *llm.Config) { c.ReplyTimeout = 2 * time.Second })
	start := time.Now()
	_, _, err := f.stream(t, context.Background())
	if !errors.Is(err, llm.ErrUpstream) {
		t.Fatalf("Stream error = %v, want ErrUpstream", err)
	}
	if len(f.srv.Requests()) != 1 {
		t.Errorf("got %d requests, want 1", len(f.srv.Requests()))
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("took %v; should fail without waiting for a retry that cannot fit", d)
	}
}

func TestStreamTimeouts(t *testing.T) {
	tests := []struct {
		name        string
		reply       llmtest.Reply
		cfg         func(*llm.Config)
		wantReqs    int
		wantContent string
	}{
		{
			name:  "no first token, no retries",
			reply: llmtest.Reply{Text: "late", FirstDelay: time.Minute},
			cfg: func(c *llm.Config) {
				c.FirstTokenTimeout, c.MaxRetries = 150*time.Millisecond, -1
			},
			wantReqs: 1,
		},
		{
			name:  "no first token, retried twice",
			reply: llmtest.Reply{Text: "late", FirstDelay: time.Minute},
			cfg: func(c *llm.Config) {
				c.FirstTokenTimeout = 150 * time.Millisecond
			},
			wantReqs: 3,
		},
		{
			name:  "no response headers",
			reply: llmtest.Reply{Text: "late", HeaderDelay: time.Minute},
			cfg: func(c *llm.Config) {
				c.FirstTokenTimeout, c.MaxRetries = 150*time.Millisecond, 1
			},
			wantReqs: 2,
		},
		{
			name:  "stall after the first token",
			reply: llmtest.Reply{Chunks: []string{"Your order ", "ships ", "today."}, StallAfter: 1},
			cfg: func(c *llm.Config) {
				c.FirstTokenTimeout, c.ReplyTimeout = 5*time.Second, 300*time.Millisecond
			},
			wantReqs:    1,
			wantContent: "Your order ",
		},
		{
			name:  "slow stream past the reply timeout",
			reply: llmtest.Reply{Chunks: []string{"a", "b", "c", "d", "e", "f"}, ChunkDelay: 200 * time.Millisecond},
			cfg: func(c *llm.Config) {
				c.FirstTokenTimeout, c.ReplyTimeout = 5*time.Second, 300*time.Millisecond
			},
			wantReqs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(r *llmtest.Received) llmtest.Reply { return tt.reply }, tt.cfg)
			start := time.Now()
			resp, deltas, err := f.stream(t, context.Background())
			if !errors.Is(err, llm.ErrTimeout) {
				t.Fatalf("Stream error = %v, want ErrTimeout", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("returned after %v, want well before the scripted delays", d)
			}
			if got := len(f.srv.Requests()); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d", got, tt.wantReqs)
			}
			if tt.wantContent != "" && resp.Content != tt.wantContent {
				t.Errorf("partial Content = %q, want %q", resp.Content, tt.wantContent)
			}
			if resp.Content != strings.Join(deltas, "") {
				t.Errorf("Content %q differs from the deltas %q", resp.Content, deltas)
			}
			if got := metric(t, f.reg, "xiaoer_llm_requests_total", "outcome", "timeout"); got != 1 {
				t.Errorf("requests_total{outcome=timeout} = %v, want 1", got)
			}
		})
	}
}

func TestStreamBrokenAfterDeltas(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{
			Chunks:    []string{"Your ", "order ", "ships ", "today."},
			ToolCalls: []llm.ToolCall{llmtest.Call("order_status", `{"order_id":"A1"}`)},
			CutAfter:  2,
		}
	}, nil)
	resp, deltas, err := f.stream(t, context.Background())
	if !errors.Is(err, llm.ErrUpstream) {
		t.Fatalf("Stream error = %v, want ErrUpstream", err)
	}
	if resp.Content != "Your order " || strings.Join(deltas, "") != resp.Content {
		t.Errorf("partial Content = %q, deltas %q; want %q", resp.Content, deltas, "Your order ")
	}
	if len(resp.ToolCalls) != 0 {
		t.Errorf("partial ToolCalls returned: %+v", resp.ToolCalls)
	}
	if got := len(f.srv.Requests()); got != 1 {
		t.Errorf("requests = %d, want 1: never retry after a delta", got)
	}
}

func TestStreamBrokenInToolCallNotRetried(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{ToolCalls: []llm.ToolCall{llmtest.Call("order_status", `{"order_id":"A1"}`)}, CutAfter: 2}
	}, nil)
	resp, _, err := f.stream(t, context.Background())
	if !errors.Is(err, llm.ErrUpstream) {
		t.Fatalf("Stream error = %v, want ErrUpstream", err)
	}
	if len(resp.ToolCalls) != 0 || len(f.srv.Requests()) != 1 {
		t.Errorf("ToolCalls %+v, requests %d; want none and 1", resp.ToolCalls, len(f.srv.Requests()))
	}
}

func TestStreamKilledMidReply(t *testing.T) {
	chunks := make([]string, 200)
	for i := range chunks {
		chunks[i] = "word "
	}
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Chunks: chunks, ChunkDelay: 20 * time.Millisecond}
	}, nil)
	var deltas int
	start := time.Now()
	resp, err := f.client.Stream(context.Background(), userRequest("hi"), func(string) {
		deltas++
		if deltas == 2 {
			f.srv.Kill()
		}
	})
	if !errors.Is(err, llm.ErrUpstream) {
		t.Fatalf("Stream error = %v, want ErrUpstream", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("returned after %v, want promptly after the kill", d)
	}
	if !strings.HasPrefix(resp.Content, "word word ") || len(f.srv.Requests()) != 1 {
		t.Errorf("Content %q, requests %d", resp.Content, len(f.srv.Requests()))
	}

	// A dead endpoint refuses connections: retried, then ErrUpstream.
	_, err = f.client.Stream(context.Background(), userRequest("hi"), nil)
	if !errors.Is(err, llm.ErrUpstream) {
		t.Fatalf("Stream to a dead endpoint: error = %v, want ErrUpstream", err)
	}
}

func TestStreamCallerCancel(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"a", "b"}, StallAfter: 1}
	}, func(c *llm.Config) { c.BreakerFailures = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := f.client.Stream(ctx, userRequest("hi"), func(string) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stream error = %v, want context.Canceled", err)
	}
	if resp.Content != "a" {
		t.Errorf("Content = %q, want a", resp.Content)
	}
	if got := metric(t, f.reg, "xiaoer_llm_requests_total", "outcome", "canceled"); got != 1 {
		t.Errorf("requests_total{outcome=canceled} = %v, want 1", got)
	}
	// A cancellation says nothing about the endpoint: with BreakerFailures 1
	// a counted failure would have opened the circuit.
	if got := metric(t, f.reg, "xiaoer_llm_circuit_open"); got != 0 {
		t.Errorf("circuit_open = %v after a canceled call, want 0", got)
	}
}

func TestCallerTimeoutCountsAgainstTheEndpoint(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"a", "b"}, StallAfter: 1}
	}, func(c *llm.Config) { c.BreakerFailures = 1 })
	// The caller gives up on a stalled stream because it is too slow (the
	// bot's watchdog does this): the endpoint failed, and the breaker opens.
	ctx, cancel := context.WithCancelCause(context.Background())
	_, err := f.client.Stream(ctx, userRequest("hi"), func(string) { cancel(llm.ErrTimeout) })
	if !errors.Is(err, llm.ErrTimeout) {
		t.Fatalf("Stream error = %v, want ErrTimeout", err)
	}
	if _, err := f.client.Stream(context.Background(), userRequest("hi"), nil); !errors.Is(err, llm.ErrUnavailable) {
		t.Fatalf("after a caller's timeout with BreakerFailures 1: %v, want ErrUnavailable", err)
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestBreaker(t *testing.T) {
	var mu sync.Mutex
	fail := true
	release := make(chan struct{}) // closed to let a held request answer
	hold := false
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		mu.Lock()
		failNow, holdNow := fail, hold
		mu.Unlock()
		if holdNow {
			<-release
		}
		if failNow {
			return llmtest.Reply{Status: 502}
		}
		return llmtest.Text("ok")
	}, func(c *llm.Config) {
		c.MaxRetries, c.BreakerFailures, c.BreakerCooldown, c.Now = -1, 2, time.Minute, clk.Now
	})
	set := func(failNow, holdNow bool) {
		mu.Lock()
		fail, hold = failNow, holdNow
		mu.Unlock()
	}
	call := func() error {
		_, err := f.client.Stream(context.Background(), userRequest("hi"), nil)
		return err
	}
	requests := func() int { return len(f.srv.Requests()) }

	for i := range 2 {
		if err := call(); !errors.Is(err, llm.ErrUpstream) {
			t.Fatalf("call %d: error = %v, want ErrUpstream", i+1, err)
		}
	}
	if err := call(); !errors.Is(err, llm.ErrUnavailable) {
		t.Fatalf("after 2 failures: error = %v, want ErrUnavailable", err)
	}
	if requests() != 2 {
		t.Errorf("requests = %d, want 2: an open circuit sends nothing", requests())
	}
	if metric(t, f.reg, "xiaoer_llm_circuit_open") != 1 || metric(t, f.reg, "xiaoer_llm_requests_total", "outcome", "circuit_open") != 1 {
		t.Errorf("circuit_open gauge or circuit_open outcome not counted")
	}

	// Half-open after the cooldown: a failed probe opens it again.
	clk.Advance(time.Minute)
	if err := call(); !errors.Is(err, llm.ErrUpstream) {
		t.Fatalf("probe: error = %v, want ErrUpstream", err)
	}
	if err := call(); !errors.Is(err, llm.ErrUnavailable) {
		t.Fatalf("after a failed probe: error = %v, want ErrUnavailable", err)
	}
	if requests() != 3 {
		t.Errorf("requests = %d, want 3", requests())
	}

	// Half-open again: exactly one probe goes through while others are
	// refused, and its success closes the circuit.
	clk.Advance(time.Minute)
	set(false, true)
	probeDone := make(chan error, 1)
	go func() { probeDone <- call() }() // owned by this test; ends when release is closed
	for requests() < 4 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := call(); !errors.Is(err, llm.ErrUnavailable) {
		t.Errorf("second call while the probe is in flight: error = %v, want ErrUnavailable", err)
	}
	close(release)
	if err := <-probeDone; err != nil {
		t.Fatalf("probe: %v", err)
	}
	set(false, false)
	if err := call(); err != nil {
		t.Fatalf("after a successful probe: %v", err)
	}
	if requests() != 5 || metric(t, f.reg, "xiaoer_llm_circuit_open") != 0 {
		t.Errorf("requests = %d, circuit_open = %v; want 5 and 0", requests(), metric(t, f.reg, "xiaoer_llm_circuit_open"))
	}
}

func TestBreakerIgnoresBadRequests(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply { return llmtest.Reply{Status: 400} },
		func(c *llm.Config) { c.BreakerFailures = 2 })
	for i := range 4 {
		if _, err := f.client.Stream(context.Background(), userRequest("hi"), nil); !errors.Is(err, llm.ErrUpstream) {
			t.Fatalf("call %d: error = %v, want ErrUpstream", i+1, err)
		}
	}
	if got := len(f.srv.Requests()); got != 4 {
		t.Errorf("requests = %d, want 4: a 400 is the request's fault, not the endpoint's", got)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		if r.LastUser() == "fail" {
			return llmtest.Reply{Status: 500}
		}
		return llmtest.Reply{Text: "ok", Usage: &llm.Usage{PromptTokens: 1000, CompletionTokens: 200}}
	}, func(c *llm.Config) {
		c.PriceInputPerM, c.PriceOutputPerM, c.MaxRetries = 2, 8, 1
	})
	for _, q := range []string{"a", "b", "fail"} {
		f.client.Stream(context.Background(), userRequest(q), nil)
	}
	m := llm.NewMetrics(f.reg) // registering again reuses the same metrics
	m.CountConversation()
	m.ObserveTurn(llm.Usage{PromptTokens: 2000, CompletionTokens: 400}, f.client.Cost(llm.Usage{PromptTokens: 2000, CompletionTokens: 400}))

	want := `
# HELP xiaoer_llm_requests_total LLM calls by outcome (ok, timeout, upstream_error, circuit_open, canceled); retries inside one call count once.
# TYPE xiaoer_llm_requests_total counter
xiaoer_llm_requests_total{outcome="canceled"} 0
xiaoer_llm_requests_total{outcome="circuit_open"} 0
xiaoer_llm_requests_total{outcome="ok"} 2
xiaoer_llm_requests_total{outcome="timeout"} 0
xiaoer_llm_requests_total{outcome="upstream_error"} 1
# HELP xiaoer_llm_retries_total HTTP requests to the LLM endpoint repeated after a retryable failure.
# TYPE xiaoer_llm_retries_total counter
xiaoer_llm_retries_total 1
# HELP xiaoer_llm_tokens_total Tokens used by LLM calls (reported by the endpoint, or estimated when it reports none), by kind (prompt, completion).
# TYPE xiaoer_llm_tokens_total counter
xiaoer_llm_tokens_total{kind="completion"} 400
xiaoer_llm_tokens_total{kind="prompt"} 2000
# HELP xiaoer_llm_conversations_total Conversations that used the model at least once.
# TYPE xiaoer_llm_conversations_total counter
xiaoer_llm_conversations_total 1
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want),
		"xiaoer_llm_requests_total", "xiaoer_llm_retries_total", "xiaoer_llm_tokens_total", "xiaoer_llm_conversations_total"); err != nil {
		t.Error(err)
	}

	wantCost := 2 * (1000*2.0 + 200*8.0) / 1e6
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"xiaoer_llm_first_token_seconds", nil, 2},
		{"xiaoer_llm_reply_seconds", nil, 2},
		{"xiaoer_llm_turns_total", nil, 1},
		{"xiaoer_llm_turn_tokens", nil, 1},
		{"xiaoer_llm_turn_cost", nil, 1},
		{"xiaoer_llm_circuit_open", nil, 0},
	} {
		if got := metric(t, f.reg, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if got := metric(t, f.reg, "xiaoer_llm_cost_total"); got < wantCost*0.999 || got > wantCost*1.001 {
		t.Errorf("cost_total = %v, want %v", got, wantCost)
	}

	var nilMetrics *llm.Metrics // a nil *Metrics records nothing and does not panic
	nilMetrics.CountConversation()
	nilMetrics.ObserveTurn(llm.Usage{PromptTokens: 1}, 1)
}

func TestCost(t *testing.T) {
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply { return llmtest.Text("ok") },
		func(c *llm.Config) { c.PriceInputPerM, c.PriceOutputPerM = 0.27, 1.10 })
	got := f.client.Cost(llm.Usage{PromptTokens: 1_000_000, CompletionTokens: 500_000})
	if want := 0.27 + 0.55; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("Cost = %v, want %v", got, want)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  llm.Config
		ok   bool
	}{
		{"minimal", llm.Config{BaseURL: "http://127.0.0.1:11434/v1", Model: "qwen2.5:7b"}, true},
		{"no base URL", llm.Config{Model: "m"}, false},
		{"no model", llm.Config{BaseURL: "http://127.0.0.1:11434/v1"}, false},
		{"not http", llm.Config{BaseURL: "ftp://example.com/v1", Model: "m"}, false},
		{"no host", llm.Config{BaseURL: "http:///v1", Model: "m"}, false},
		{"negative timeout", llm.Config{BaseURL: "http://h/v1", Model: "m", ReplyTimeout: -time.Second}, false},
		{"temperature too high", llm.Config{BaseURL: "http://h/v1", Model: "m", Temperature: 3}, false},
		{"negative price", llm.Config{BaseURL: "http://h/v1", Model: "m", PriceInputPerM: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llm.New(tt.cfg, nil)
			if (err == nil) != tt.ok {
				t.Errorf("New error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestStringHidesSecrets(t *testing.T) {
	c, err := llm.New(llm.Config{BaseURL: "https://user:pass@api.deepseek.com/v1", Model: "deepseek-chat", APIKey: "sk-very-secret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if strings.Contains(s, "sk-very-secret") || strings.Contains(s, "pass") || !strings.Contains(s, "deepseek-chat") || !strings.Contains(s, "api.deepseek.com") {
		t.Errorf("String() = %q", s)
	}
	cfg := llm.Config{BaseURL: "https://api.deepseek.com/v1", Model: "deepseek-chat", APIKey: "sk-very-secret"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, "sk-very-secret") {
			t.Errorf("Sprintf(%q, cfg) shows the key: %s", verb, s)
		}
	}
	if c.Model() != "deepseek-chat" {
		t.Errorf("Model() = %q", c.Model())
	}
}

// TestNoGoroutineOutlivesStream runs calls that end in every way and checks
// that the goroutine count returns to where it was once the client's idle
// connections are closed.
func TestNoGoroutineOutlivesStream(t *testing.T) {
	var mu sync.Mutex
	n := 0
	replies := []llmtest.Reply{
		llmtest.Text("ok"),
		{Chunks: []string{"a", "b"}, StallAfter: 1},
		{Chunks: []string{"a", "b", "c"}, CutAfter: 1},
		{Text: "late", FirstDelay: time.Minute},
		{Status: 500},
		{ToolCalls: []llm.ToolCall{llmtest.Call("f", `{"x":1}`)}},
	}
	f := newFixture(t, func(r *llmtest.Received) llmtest.Reply {
		mu.Lock()
		defer mu.Unlock()
		rep := replies[n%len(replies)]
		n++
		return rep
	}, func(c *llm.Config) {
		c.FirstTokenTimeout, c.ReplyTimeout, c.MaxRetries, c.BreakerFailures = 200*time.Millisecond, 400*time.Millisecond, -1, 100
	})
	f.http.CloseIdleConnections()
	before := runtime.NumGoroutine()
	for range replies {
		f.client.Stream(context.Background(), userRequest("hi"), nil)
	}
	f.http.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := runtime.NumGoroutine()
		if now <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, now, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
