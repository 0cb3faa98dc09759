// Package llmtest runs a scripted OpenAI-compatible chat-completions server
// for tests: real HTTP on loopback, real server-sent events, the same JSON
// an OpenAI endpoint sends. A Script decides each reply: text streamed in
// chunks, tool calls streamed as fragments, HTTP errors, delays, stalls and
// broken streams.
//
//	srv := llmtest.NewServer(t, func(r *llmtest.Received) llmtest.Reply {
//		if len(r.ToolResults()) == 0 {
//			return llmtest.Calls(llmtest.Call("order_status", `{"order_id":"A1"}`))
//		}
//		return llmtest.Text("Your order ships today.")
//	})
//	client, err := llm.New(llm.Config{BaseURL: srv.URL, Model: "test"}, nil)
//
// Start runs the same server on a chosen address outside a test, for load
// runs (xiaoer bench --fake-llm): the package does not import testing, so
// a command may link it.
package llmtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
)

// Script decides the reply to one request. The server calls it once per
// request, possibly from several goroutines at once.
type Script func(r *Received) Reply

// Received is one request as the server received it.
type Received struct {
	// Raw is the exact request body.
	Raw    []byte
	Model  string
	Stream bool
	// IncludeUsage is stream_options.include_usage.
	IncludeUsage bool
	// MaxTokens is max_tokens, or max_completion_tokens when that is set.
	MaxTokens   int
	Temperature float64
	Messages    []llm.Message
	Tools       []llm.Tool
	Header      http.Header
	// FirstChunkAt is when the first content or tool-call chunk was written
	// and flushed; zero if none was.
	FirstChunkAt time.Time
}

// LastUser returns the text of the last user message, or "".
func (r *Received) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == llm.RoleUser {
			return r.Messages[i].Content
		}
	}
	return ""
}

// ToolResults returns the tool messages after the last user message: the
// results of the tool calls of the current turn.
func (r *Received) ToolResults() []llm.Message {
	var out []llm.Message
	for i := len(r.Messages) - 1; i >= 0; i-- {
		m := r.Messages[i]
		if m.Role == llm.RoleUser {
			break
		}
		if m.Role == llm.RoleTool {
			out = append(out, m)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Server is a scripted OpenAI-compatible endpoint on loopback.
type Server struct {
	// URL is the base URL to configure clients with; it ends in "/v1".
	URL string

	hs     *httptest.Server
	script Script
	// done is closed by Kill and at cleanup; it ends every delay and stall.
	done     chan struct{}
	stopOnce sync.Once

	// forget: keep no requests (a started server, under load).
	forget bool
	served atomic.Int64 // chat-completions requests answered or failed by script

	mu   sync.Mutex
	reqs []*Received // guarded by mu, as are the FirstChunkAt fields
}

// TB is the part of testing.TB that NewServer uses. It is an interface of
// its own so that this package does not import testing.
type TB interface {
	Helper()
	Cleanup(func())
}

// NewServer starts a server answering with script. It is closed when the
// test ends.
func NewServer(t TB, script Script) *Server {
	t.Helper()
	s := &Server{script: script, done: make(chan struct{})}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.hs.URL + "/v1"
	t.Cleanup(s.Close)
	return s
}

// Start starts a server answering with script on addr (host:port; port 0
// picks a free one), for use outside tests: a load run against a server
// configured with URL. It keeps no requests (Requests returns none, so a
// long run does not hold every body); Served counts them. Close stops it.
func Start(addr string, script Script) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("llmtest: listen on %s: %w", addr, err)
	}
	s := &Server{script: script, done: make(chan struct{}), forget: true}
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.hs.Listener.Close()
	s.hs.Listener = ln
	s.hs.Start()
	s.URL = s.hs.URL + "/v1"
	return s, nil
}

// Close ends every delay and stall, drops the replies still streaming and
// waits for their handlers. It is safe to call more than once.
func (s *Server) Close() {
	s.stop()
	s.hs.Close()
}

// Served returns how many chat-completions requests the script has
// answered so far.
func (s *Server) Served() int64 { return s.served.Load() }

// Requests returns copies of the requests received so far, in arrival
// order.
func (s *Server) Requests() []*Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Received, len(s.reqs))
	for i, r := range s.reqs {
		c := *r
		out[i] = &c
	}
	return out
}

// Kill makes the endpoint die: it stops accepting connections and closes the
// open ones abruptly, in the middle of whatever they were sending.
func (s *Server) Kill() {
	s.stop()
	s.hs.Listener.Close()
	s.hs.CloseClientConnections()
}

func (s *Server) stop() { s.stopOnce.Do(func() { close(s.done) }) }

// sleep waits d; it returns false when the client went away first. When
// the server dies first it drops the connection, so that a reply cut by Kill
// never ends like a complete one.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" && r.URL.Path != "/chat/completions" {
		writeError(w, http.StatusNotFound, "", "unknown path "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "", "use POST")
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 32<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "", "reading body: "+err.Error())
		return
	}
	rec, err := decodeRequest(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid request body: "+err.Error())
		return
	}
	rec.Header = r.Header.Clone()
	if !s.forget {
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		s.mu.Unlock()
	}

	reply := s.script(rec)
	s.served.Add(1)
	if !s.sleep(r, reply.HeaderDelay) {
		return
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		msg := reply.Text
		if msg == "" {
			msg = http.StatusText(reply.Status)
		}
		writeError(w, reply.Status, "", msg)
		return
	}
	if !rec.Stream {
		s.writeCompletion(w, rec, reply)
		return
	}
	s.writeStream(w, r, rec, reply)
}

// writeError writes an OpenAI error response.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	var code any
	if typ == "" {
		switch {
		case status == http.StatusTooManyRequests:
			typ, code = "requests", "rate_limit_exceeded"
		case status == http.StatusUnauthorized:
			typ, code = "invalid_request_error", "invalid_api_key"
		case status == http.StatusNotFound:
			typ, code = "invalid_request_error", "model_not_found"
		case status >= 500:
			typ = "server_error"
		default:
			typ = "invalid_request_error"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nil, "code": code,
	}})
}

// decodeRequest decodes a chat-completions request body.
func decodeRequest(raw []byte) (*Received, error) {
	var req wireRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	if req.Model == "" {
		return nil, errors.New("model is required")
	}
	if len(req.Messages) == 0 {
		return nil, errors.New("messages is required")
	}
	rec := &Received{
		Raw:         raw,
		Model:       req.Model,
		Stream:      req.Stream,
		MaxTokens:   req.MaxTokens,
		Temperature: req.Temperature,
	}
	if req.MaxCompletionTokens != 0 {
		rec.MaxTokens = req.MaxCompletionTokens
	}
	if req.StreamOptions != nil {
		rec.IncludeUsage = req.StreamOptions.IncludeUsage
	}
	for i, m := range req.Messages {
		text, err := m.text()
		if err != nil {
			return nil, fmt.Errorf("messages[%d].content: %w", i, err)
		}
		msg := llm.Message{Role: m.Role, Content: text, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		rec.Messages = append(rec.Messages, msg)
	}
	for i, t := range req.Tools {
		if t.Type != "function" || t.Function == nil {
			return nil, fmt.Errorf("tools[%d]: want a function tool", i)
		}
		rec.Tools = append(rec.Tools, llm.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	return rec, nil
}

// The request as OpenAI's chat-completions API defines it, as far as the
// server reads it.
type wireRequest struct {
	Model               string        `json:"model"`
	Messages            []wireMessage `json:"messages"`
	Tools               []wireTool    `json:"tools"`
	Stream              bool          `json:"stream"`
	MaxTokens           int           `json:"max_tokens"`
	MaxCompletionTokens int           `json:"max_completion_tokens"`
	Temperature         float64       `json:"temperature"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type wireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []wireToolCall  `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
}

// text returns the content, a string or an array of parts.
func (m wireMessage) text() (string, error) {
	if len(m.Content) == 0 || string(m.Content) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(m.Content, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return "", errors.New("want a string or an array of parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

type wireToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}
