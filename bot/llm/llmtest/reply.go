package llmtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
)

// Reply is what the server answers to one request.
type Reply struct {
	// Status 0 or 200 streams the reply; any other status sends an OpenAI
	// error response with that status (Text, if set, is its message).
	Status int
	// RetryAfter is sent as the Retry-After header of an error response.
	RetryAfter string
	// Text is the content. It is streamed as Chunks, or, when Chunks is
	// nil, split into words and groups of CJK characters.
	Text   string
	Chunks []string
	// ToolCalls are streamed as tool_call deltas: one with the index, id,
	// type and name, then the arguments in two or more fragments.
	ToolCalls []llm.ToolCall
	// FinishReason overrides the finish reason ("stop", or "tool_calls"
	// when there are tool calls).
	FinishReason string

	// HeaderDelay is waited before the response headers.
	HeaderDelay time.Duration
	// FirstDelay is waited after the headers, before the first chunk.
	FirstDelay time.Duration
	// ChunkDelay is waited between chunks.
	ChunkDelay time.Duration
	// StallAfter > 0: after this many content and tool-call chunks, stop
	// writing and hang until the client goes away.
	StallAfter int
	// CutAfter > 0: after this many content and tool-call chunks, drop the
	// connection without the end of the stream.
	CutAfter int
	// CutAtStart drops the connection right after the headers and the role
	// chunk, before any content.
	CutAtStart bool

	// Usage is reported in the usage chunk; nil reports a rough count.
	Usage *llm.Usage
	// OmitUsage sends no usage chunk even when the client asked for one.
	OmitUsage bool
}

// Text returns a reply that streams s.
func Text(s string) Reply { return Reply{Text: s} }

// Calls returns a reply that asks for the given tool calls.
func Calls(calls ...llm.ToolCall) Reply { return Reply{ToolCalls: calls} }

// Call returns a tool call of function name with arguments argsJSON and a
// fresh random id.
func Call(name, argsJSON string) llm.ToolCall {
	return llm.ToolCall{ID: fmt.Sprintf("call_%016x", rand.Uint64()), Name: name, Arguments: argsJSON}
}

// chunks returns the content pieces to stream.
func (r Reply) chunks() []string {
	if r.Chunks != nil {
		return r.Chunks
	}
	return SplitText(r.Text)
}

func (r Reply) finishReason() string {
	switch {
	case r.FinishReason != "":
		return r.FinishReason
	case len(r.ToolCalls) > 0:
		return "tool_calls"
	default:
		return "stop"
	}
}

// usage returns the usage to report for rec.
func (r Reply) usage(rec *Received) llm.Usage {
	if r.Usage != nil {
		return *r.Usage
	}
	var u llm.Usage
	for _, m := range rec.Messages {
		u.PromptTokens += 4 + llm.EstimateTokens(m.Content)
	}
	u.CompletionTokens = llm.EstimateTokens(r.Text) + len(r.ToolCalls)*10
	return u
}

// SplitText splits s the way Reply streams Text: words with their trailing
// spaces, and CJK characters in groups of two. Joining the pieces gives s.
func SplitText(s string) []string {
	var out []string
	var cur strings.Builder
	cjk := 0 // CJK runes in cur
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
		cjk = 0
	}
	prevSpace := false
	for _, r := range s {
		isCJK := unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
		switch {
		case isCJK:
			if cjk == 0 || cjk == 2 {
				flush()
			}
			cur.WriteRune(r)
			cjk++
		case unicode.IsSpace(r):
			cur.WriteRune(r)
		default:
			if prevSpace || cjk > 0 {
				flush()
			}
			cur.WriteRune(r)
		}
		prevSpace = unicode.IsSpace(r)
	}
	flush()
	return out
}

// splitArgs splits tool-call arguments into two or more fragments (one
// when they are shorter than two characters).
func splitArgs(s string) []string {
	rs := []rune(s)
	if len(rs) < 2 {
		return []string{s}
	}
	n := 3
	if len(rs) < 3 {
		n = 2
	}
	var out []string
	for i := range n {
		out = append(out, string(rs[i*len(rs)/n:(i+1)*len(rs)/n]))
	}
	return out
}

// streamer writes one SSE reply.
type streamer struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	rc    *http.ResponseController
	rec   *Received
	reply Reply
	id    string
	sent  int // content and tool-call chunks sent
}

// writeStream streams reply as server-sent events.
func (s *Server) writeStream(w http.ResponseWriter, r *http.Request, rec *Received, reply Reply) {
	st := &streamer{
		s: s, w: w, r: r, rc: http.NewResponseController(w), rec: rec, reply: reply,
		id: fmt.Sprintf("chatcmpl-%016x", rand.Uint64()),
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if !st.event(map[string]any{"role": "assistant", "content": ""}, nil, false) {
		return
	}
	if reply.CutAtStart {
		panic(http.ErrAbortHandler) // drops the connection
	}
	if !s.sleep(r, reply.FirstDelay) {
		return
	}
	for _, c := range reply.chunks() {
		if !st.token(map[string]any{"content": c}) {
			return
		}
	}
	for i, tc := range reply.ToolCalls {
		first := map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": tc.ID, "type": "function",
			"function": map[string]any{"name": tc.Name, "arguments": ""},
		}}}
		if !st.token(first) {
			return
		}
		for _, frag := range splitArgs(tc.Arguments) {
			d := map[string]any{"tool_calls": []any{map[string]any{
				"index": i, "function": map[string]any{"arguments": frag},
			}}}
			if !st.token(d) {
				return
			}
		}
	}
	if !s.sleep(r, reply.ChunkDelay) {
		return
	}
	finish := reply.finishReason()
	if !st.event(map[string]any{}, &finish, false) {
		return
	}
	if rec.IncludeUsage && !reply.OmitUsage {
		if !st.event(nil, nil, true) {
			return
		}
	}
	if _, err := fmt.Fprint(w, "data: [DONE]\n\n"); err != nil {
		return
	}
	st.rc.Flush()
}

// token sends one content or tool-call chunk, with the delays, stall and cut
// the reply asks for. It returns false when the reply is over.
func (st *streamer) token(delta map[string]any) bool {
	if st.sent > 0 && !st.s.sleep(st.r, st.reply.ChunkDelay) {
		return false
	}
	if !st.event(delta, nil, false) {
		return false
	}
	if st.sent == 0 {
		st.s.mu.Lock()
		st.rec.FirstChunkAt = time.Now()
		st.s.mu.Unlock()
	}
	st.sent++
	if st.reply.StallAfter > 0 && st.sent == st.reply.StallAfter {
		select {
		case <-st.r.Context().Done():
		case <-st.s.done:
			panic(http.ErrAbortHandler)
		}
		return false
	}
	if st.reply.CutAfter > 0 && st.sent == st.reply.CutAfter {
		panic(http.ErrAbortHandler) // drops the connection without [DONE]
	}
	return true
}

// event writes and flushes one chat.completion.chunk: a choice with delta
// and finish reason, or, with usage set, the usage chunk (no choices).
func (st *streamer) event(delta map[string]any, finish *string, usage bool) bool {
	chunk := map[string]any{
		"id":                 st.id,
		"object":             "chat.completion.chunk",
		"created":            time.Now().Unix(),
		"model":              st.rec.Model,
		"system_fingerprint": "fp_llmtest",
	}
	if usage {
		u := st.reply.usage(st.rec)
		chunk["choices"] = []any{}
		chunk["usage"] = map[string]any{
			"prompt_tokens":     u.PromptTokens,
			"completion_tokens": u.CompletionTokens,
			"total_tokens":      u.Total(),
		}
	} else {
		chunk["choices"] = []any{map[string]any{
			"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish,
		}}
		if st.rec.IncludeUsage {
			chunk["usage"] = nil
		}
	}
	b, err := json.Marshal(chunk)
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	if _, err := fmt.Fprintf(st.w, "data: %s\n\n", b); err != nil {
		return false
	}
	return st.rc.Flush() == nil
}

// writeCompletion answers a non-streaming request with a chat.completion.
func (s *Server) writeCompletion(w http.ResponseWriter, rec *Received, reply Reply) {
	msg := map[string]any{"role": "assistant", "content": reply.Text}
	if len(reply.ToolCalls) > 0 {
		var calls []any
		for _, tc := range reply.ToolCalls {
			calls = append(calls, map[string]any{
				"id": tc.ID, "type": "function",
				"function": map[string]any{"name": tc.Name, "arguments": tc.Arguments},
			})
		}
		msg["tool_calls"] = calls
		if reply.Text == "" {
			msg["content"] = nil
		}
	}
	u := reply.usage(rec)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id":      fmt.Sprintf("chatcmpl-%016x", rand.Uint64()),
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   rec.Model,
		"choices": []any{map[string]any{
			"index": 0, "message": msg, "logprobs": nil, "finish_reason": reply.finishReason(),
		}},
		"usage": map[string]any{
			"prompt_tokens": u.PromptTokens, "completion_tokens": u.CompletionTokens, "total_tokens": u.Total(),
		},
	})
}
