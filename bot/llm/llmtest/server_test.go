package llmtest_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
)

const streamBody = `{"model":"m","stream":true,"stream_options":{"include_usage":true},
"messages":[{"role":"system","content":"sys"},{"role":"user","content":[{"type":"text","text":"hi"}]}],
"tools":[{"type":"function","function":{"name":"order_status","description":"d","parameters":{"type":"object"}}}]}`

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// chunk is the part of a chat.completion.chunk the tests look at.
type chunk struct {
	Object  string `json:"object"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role      string `json:"role"`
			Content   string `json:"content"`
			ToolCalls []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

// readEvents reads an SSE body: each event one "data: " line then a blank
// line. It returns the chunks and whether the stream ended with [DONE].
func readEvents(t *testing.T, body io.Reader) ([]chunk, bool) {
	t.Helper()
	sc := bufio.NewScanner(body)
	var out []chunk
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q is not a data line", line)
		}
		if !sc.Scan() || sc.Text() != "" {
			t.Fatalf("event %q is not followed by a blank line", line)
		}
		if data == "[DONE]" {
			if sc.Scan() {
				t.Fatalf("data after [DONE]: %q", sc.Text())
			}
			return out, true
		}
		var c chunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		out = append(out, c)
	}
	return out, false
}

func TestStreamWireFormat(t *testing.T) {
	srv := llmtest.NewServer(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{
			Text:      "Hello there 您好吗",
			ToolCalls: []llm.ToolCall{{ID: "call_a", Name: "order_status", Arguments: `{"order_id":"A1"}`}},
			Usage:     &llm.Usage{PromptTokens: 11, CompletionTokens: 22},
		}
	})
	resp := post(t, srv.URL+"/chat/completions", streamBody)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	chunks, done := readEvents(t, resp.Body)
	if !done {
		t.Fatal("stream did not end with [DONE]")
	}
	if len(chunks) < 4 || chunks[0].Choices[0].Delta.Role != "assistant" {
		t.Fatalf("first chunk should carry the assistant role: %+v", chunks)
	}
	var content []string
	var args []string
	var sawHeader, sawFinish, sawUsage bool
	for i, c := range chunks {
		if c.Object != "chat.completion.chunk" {
			t.Errorf("chunk %d object = %q", i, c.Object)
		}
		if c.Usage != nil {
			sawUsage = true
			if len(c.Choices) != 0 || c.Usage.PromptTokens != 11 || c.Usage.CompletionTokens != 22 || c.Usage.TotalTokens != 33 {
				t.Errorf("usage chunk = %+v", c)
			}
			if i != len(chunks)-1 {
				t.Errorf("usage chunk is not the last before [DONE]")
			}
			continue
		}
		ch := c.Choices[0]
		if ch.Delta.Content != "" {
			content = append(content, ch.Delta.Content)
		}
		for _, tc := range ch.Delta.ToolCalls {
			if tc.Index == nil || *tc.Index != 0 {
				t.Errorf("tool call delta without index 0: %+v", tc)
			}
			if tc.ID != "" {
				sawHeader = true
				if tc.Type != "function" || tc.Function.Name != "order_status" || len(args) != 0 {
					t.Errorf("first tool call delta = %+v", tc)
				}
			}
			if tc.Function.Arguments != "" {
				args = append(args, tc.Function.Arguments)
			}
		}
		if ch.FinishReason != nil {
			sawFinish = true
			if *ch.FinishReason != "tool_calls" {
				t.Errorf("finish_reason = %q, want tool_calls", *ch.FinishReason)
			}
		}
	}
	if got := strings.Join(content, ""); got != "Hello there 您好吗" || len(content) < 4 {
		t.Errorf("content chunks %q", content)
	}
	if !sawHeader || len(args) < 2 || strings.Join(args, "") != `{"order_id":"A1"}` {
		t.Errorf("tool call: header %v, argument fragments %q", sawHeader, args)
	}
	if !sawFinish || !sawUsage {
		t.Errorf("finish chunk %v, usage chunk %v", sawFinish, sawUsage)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("Requests() = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if string(r.Raw) != streamBody || r.Model != "m" || !r.Stream || !r.IncludeUsage {
		t.Errorf("received %+v", r)
	}
	if r.LastUser() != "hi" || len(r.Tools) != 1 || r.Tools[0].Name != "order_status" || r.FirstChunkAt.IsZero() {
		t.Errorf("LastUser %q, Tools %+v, FirstChunkAt %v", r.LastUser(), r.Tools, r.FirstChunkAt)
	}
}

func TestErrorResponses(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		reply      llmtest.Reply
		body       string
		wantStatus int
		wantType   string
		wantRetry  string
	}{
		{"429 with Retry-After", "/chat/completions", llmtest.Reply{Status: 429, RetryAfter: "2"}, streamBody, 429, "requests", "2"},
		{"500", "/chat/completions", llmtest.Reply{Status: 500}, streamBody, 500, "server_error", ""},
		{"401", "/chat/completions", llmtest.Reply{Status: 401}, streamBody, 401, "invalid_request_error", ""},
		{"unknown path", "/embeddings", llmtest.Text("x"), streamBody, 404, "invalid_request_error", ""},
		{"invalid JSON", "/chat/completions", llmtest.Text("x"), `{"model":`, 400, "invalid_request_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, func(*llmtest.Received) llmtest.Reply { return tt.reply })
			resp := post(t, srv.URL+tt.path, tt.body)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Retry-After") != tt.wantRetry {
				t.Errorf("status %d Retry-After %q, want %d %q", resp.StatusCode, resp.Header.Get("Retry-After"), tt.wantStatus, tt.wantRetry)
			}
			var e struct {
				Error *struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == nil {
				t.Fatalf("error body: %v %+v", err, e)
			}
			if e.Error.Type != tt.wantType || e.Error.Message == "" {
				t.Errorf("error = %+v, want type %q and a message", e.Error, tt.wantType)
			}
		})
	}
}

func TestNonStreaming(t *testing.T) {
	srv := llmtest.NewServer(t, func(*llmtest.Received) llmtest.Reply {
		return llmtest.Calls(llm.ToolCall{ID: "call_1", Name: "f", Arguments: `{}`})
	})
	// Both the /v1 base and the bare path are accepted.
	resp := post(t, strings.TrimSuffix(srv.URL, "/v1")+"/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	var c struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct {
				Role      string  `json:"role"`
				Content   *string `json:"content"`
				ToolCalls []struct {
					ID       string `json:"id"`
					Function struct {
						Name string `json:"name"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Object != "chat.completion" || len(c.Choices) != 1 || c.Choices[0].FinishReason != "tool_calls" ||
		len(c.Choices[0].Message.ToolCalls) != 1 || c.Choices[0].Message.ToolCalls[0].ID != "call_1" || c.Usage.TotalTokens == 0 {
		t.Errorf("completion = %+v", c)
	}
}

func TestCutAndKill(t *testing.T) {
	srv := llmtest.NewServer(t, func(*llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"a", "b", "c"}, CutAfter: 2}
	})
	resp := post(t, srv.URL+"/chat/completions", streamBody)
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("reading a cut stream: want an error, got a complete body")
	}

	srv.Kill()
	c := &http.Client{Transport: &http.Transport{}}
	if resp, err := c.Post(srv.URL+"/chat/completions", "application/json", strings.NewReader(streamBody)); err == nil {
		resp.Body.Close()
		t.Error("POST after Kill succeeded")
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Hello there, friend", []string{"Hello ", "there, ", "friend"}},
		{"您好吗", []string{"您好", "吗"}},
		{"订单A1已发货", []string{"订单", "A1", "已发", "货"}},
	}
	for _, tt := range tests {
		got := llmtest.SplitText(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || strings.Join(got, "") != tt.in {
			t.Errorf("SplitText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestToolResults(t *testing.T) {
	r := &llmtest.Received{Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "first"},
		{Role: llm.RoleTool, ToolCallID: "old"},
		{Role: llm.RoleUser, Content: "second"},
		{Role: llm.RoleAssistant},
		{Role: llm.RoleTool, ToolCallID: "a"},
		{Role: llm.RoleTool, ToolCallID: "b"},
	}}
	got := r.ToolResults()
	if r.LastUser() != "second" || len(got) != 2 || got[0].ToolCallID != "a" || got[1].ToolCallID != "b" {
		t.Errorf("LastUser %q, ToolResults %+v", r.LastUser(), got)
	}
}

// TestStart runs the server outside a test's cleanup, as a load run does:
// on the address asked for, streaming the same events, counting requests
// without keeping them, and refusing connections once closed.
func TestStart(t *testing.T) {
	srv, err := llmtest.Start("127.0.0.1:0", func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Text("Shipping takes two days.")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || !strings.HasSuffix(srv.URL, "/v1") {
		t.Errorf("URL = %q", srv.URL)
	}
	for range 2 {
		resp := post(t, srv.URL+"/chat/completions", streamBody)
		chunks, done := readEvents(t, resp.Body)
		var text strings.Builder
		for _, c := range chunks {
			for _, ch := range c.Choices {
				text.WriteString(ch.Delta.Content)
			}
		}
		if !done || text.String() != "Shipping takes two days." {
			t.Errorf("stream: %q, [DONE] %v", text.String(), done)
		}
	}
	if n := srv.Served(); n != 2 {
		t.Errorf("Served = %d, want 2", n)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("a started server kept %d requests, want none", n)
	}
	srv.Close()
	srv.Close() // twice is fine
	if resp, err := http.Post(srv.URL+"/chat/completions", "application/json", strings.NewReader(streamBody)); err == nil {
		resp.Body.Close()
		t.Error("closed server still answers")
	}
}
