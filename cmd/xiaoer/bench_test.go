package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p95 of 1..100", ms(hundred...), 95, 95 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p99 of ten is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"tiny p is the min", ms(1, 2, 3), 0.1, time.Millisecond},
	} {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("%s: percentile(p%v) = %v, want %v", c.name, c.p, got, c.want)
		}
	}
	s := summarize(ms(5, 1, 4, 2, 3))
	if s.N != 5 || s.Min != 1 || s.P50 != 3 || s.Max != 5 || s.Mean != 3 {
		t.Errorf("summarize = %+v, want n 5, min 1, p50 3, max 5, mean 3", s)
	}
}

func TestReadQuestions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.txt")
	os.WriteFile(path, []byte("# comment\nfaq\t退款多久能到账？\n\nhello there\norder\tWhere is my order?\n"), 0o600)
	qs, err := readQuestions(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []benchQuestion{{"faq", "退款多久能到账？"}, {"any", "hello there"}, {"order", "Where is my order?"}}
	if len(qs) != len(want) {
		t.Fatalf("got %v, want %v", qs, want)
	}
	for i := range want {
		if qs[i] != want[i] {
			t.Errorf("question %d = %v, want %v", i, qs[i], want[i])
		}
	}
}

func TestParseMetrics(t *testing.T) {
	s, err := parseMetrics(strings.NewReader("# HELP go_goroutines x\ngo_goroutines 42\nprocess_resident_memory_bytes 1.5e+07\ngo_memstats_heap_inuse_bytes 100\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Goroutines != 42 || s.RSSBytes != 1.5e7 || s.HeapInuseBytes != 100 {
		t.Errorf("got %+v", s)
	}
	if _, err := parseMetrics(strings.NewReader("other 1\n")); err == nil {
		t.Error("metrics without the gauges: no error")
	}
}

// TestBench runs the bench against a real demo server: a few shoppers
// (signed in as the demo shoppers, so order questions are answered), some
// idle sockets, and the server's metrics. It asserts counts and the order
// of the percentiles, never how fast anything was.
func TestBench(t *testing.T) {
	dir := t.TempDir()
	maddr := freeAddr(t)
	srv := startServer(t, dir, "--demo", "--metrics-addr", maddr)
	for _, mode := range [][]string{{"--think", "20ms"}, {"--rate", "20"}} {
		t.Run(mode[0], func(t *testing.T) {
			args := append([]string{"bench", "--url", srv.WS, "--shoppers", "3", "--idle", "5",
				"--duration", "1s", "--data", dir, "--metrics", "http://" + maddr + "/metrics", "--json"}, mode...)
			out, errOut, err := xiaoer(t, args...)
			if err != nil {
				t.Fatalf("bench: %v\n%s", err, errOut)
			}
			var rep benchReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("report is not JSON: %v\n%s", err, out)
			}
			if rep.ConnsOpened != 8 || rep.ConnsFailed != 0 || rep.IdleHeld != 5 {
				t.Errorf("sockets: %d opened, %d failed, %d idle held; want 8, 0, 5", rep.ConnsOpened, rep.ConnsFailed, rep.IdleHeld)
			}
			if rep.Replies == 0 || rep.Replies != rep.Sent {
				t.Errorf("%d replies to %d messages, want all answered", rep.Replies, rep.Sent)
			}
			if len(rep.Errors) != 0 {
				t.Errorf("errors: %v", rep.Errors)
			}
			l := rep.Latency
			if !(l.P50 > 0 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) {
				t.Errorf("percentiles out of order: %+v", l)
			}
			if rep.RepliesPerSec <= 0 {
				t.Errorf("replies/s = %v", rep.RepliesPerSec)
			}
			if s := rep.Server.Held; s == nil || s.Goroutines == 0 || s.RSSBytes == 0 {
				t.Errorf("server stats while held: %+v", s)
			}
		})
	}
}

func TestBenchUsage(t *testing.T) {
	if _, _, err := xiaoer(t, "bench", "--shoppers", "0"); exitCode(err) != 2 {
		t.Errorf("bench with nothing to open: %v, want a usage error", err)
	}
}

// TestBenchFakeLLM runs the bench with its scripted model against a real
// demo server configured to phrase answers with it: the FAQ replies come
// from the model (they carry its text, one call per turn) and none comes
// sooner than the model's latency.
func TestBenchFakeLLM(t *testing.T) {
	const latency = 200 * time.Millisecond
	modelAddr := freeAddr(t)
	srv := startServer(t, t.TempDir(), "--demo", "--llm-url", "http://"+modelAddr+"/v1", "--llm-model", "scripted",
		"--messages-per-minute", "10000")
	out, errOut, err := xiaoer(t, "bench", "--url", srv.WS, "--shoppers", "4", "--rate", "8", "--duration", "2s",
		"--kind", "faq", "--fake-llm", modelAddr, "--fake-llm-latency", latency.String(), "--fake-llm-chunk-delay", "5ms", "--json")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	if rep.Replies == 0 || rep.Replies != rep.Sent || len(rep.Errors) != 0 {
		t.Fatalf("%d replies to %d messages, errors %v; want all answered\nserver logs:\n%s", rep.Replies, rep.Sent, rep.Errors, srv.Logs)
	}
	m := rep.FakeLLM
	if m == nil {
		t.Fatalf("no fake_llm in the report:\n%s", out)
	}
	if m.Calls != int64(rep.Replies) {
		t.Errorf("the model served %d calls for %d FAQ replies, want one each", m.Calls, rep.Replies)
	}
	if m.ScriptedReplies != int64(rep.Replies) {
		t.Errorf("%d of %d replies carry the model's text, want all\nserver logs:\n%s", m.ScriptedReplies, rep.Replies, srv.Logs)
	}
	if l := rep.Latency; l.Min < float64(latency.Milliseconds()) || rep.ByKind["faq"].N != rep.Replies {
		t.Errorf("latency %+v over %d faq replies: want every reply after the model's %v", l, rep.ByKind["faq"].N, latency)
	}
}
