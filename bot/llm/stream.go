package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Causes of the contexts Stream cancels itself, told apart from the
// caller's cancellation with context.Cause.
var (
	errReplyTimeout      = errors.New("reply timeout")
	errFirstTokenTimeout = errors.New("first-token timeout")
	errNoFinish          = errors.New("stream ended without a finish reason")
)

// Stream sends req and streams the reply. onDelta, if not nil, is called
// synchronously, in order, with each piece of content as it arrives; it
// must be fast, since it holds up reading the stream. The returned Response
// holds the whole content, the tool calls assembled from their fragments and
// the usage (as reported, or estimated when the endpoint reports none).
//
// Failed requests are retried (429, 408, 5xx, connection errors, a stream
// that breaks or stays silent before its first token) with backoff, but
// never once a content delta or tool-call fragment has arrived: the caller
// may already have shown it. Stream returns an error wrapping
//   - ErrUnavailable when the circuit breaker is open (no request is sent);
//   - ErrTimeout when no first token came within FirstTokenTimeout on the
//     last attempt, or the call outlived ReplyTimeout;
//   - ErrUpstream when the endpoint failed: an HTTP error (400, 401, 403 and
//     404 are not retried), or a stream that broke;
//   - the caller's ctx.Err() when ctx ended first.
//
// After a failure the Response still holds what had arrived (the partial
// Content, the usage, the timings) but no ToolCalls: partial tool calls are
// never returned. Stream starts no goroutine that outlives it.
func (c *Client) Stream(ctx context.Context, req Request, onDelta func(text string)) (Response, error) {
	ok, probe := c.brk.allow()
	if !ok {
		c.metrics.call(outcomeCircuitOpen, Response{}, 0)
		return Response{}, fmt.Errorf("llm: %s: %w", c.cfg.Model, ErrUnavailable)
	}

	// The breaker hears of every call it let through, even if onDelta
	// panics (as neutral then), or a half-open breaker would wait for its
	// probe forever.
	v := verdictNeutral
	defer func() { c.brk.done(probe, v) }()

	s := &call{c: c, start: c.now(), onDelta: onDelta, wire: c.wireRequest(req)}
	callCtx, cancel := context.WithTimeoutCause(ctx, c.cfg.ReplyTimeout, errReplyTimeout)
	defer cancel()

	var f failure
	for n := 1; ; n++ {
		s.attempts = n
		err := s.attempt(callCtx)
		if err == nil {
			f = failure{}
			break
		}
		f = c.classify(ctx, callCtx, err, s.delivered)
		if !f.retryable || n > c.cfg.MaxRetries {
			break
		}
		wait := c.retryWait(n, s.retryAfter)
		if dl, ok := callCtx.Deadline(); ok && time.Until(dl) < wait {
			// The retry could not finish in time; fail now rather than at
			// the deadline.
			break
		}
		c.log.Warn("llm: attempt failed, retrying", "attempt", n, "wait", wait, "reason", f.summary)
		c.metrics.retry()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-callCtx.Done():
			t.Stop()
		}
		if callCtx.Err() != nil {
			f = c.classify(ctx, callCtx, context.Cause(callCtx), s.delivered)
			break
		}
	}

	resp := s.response(f.err == nil)
	cost := c.Cost(resp.Usage)
	if f.err == nil {
		c.metrics.call(outcomeOK, resp, cost)
		v = verdictSuccess
		return resp, nil
	}
	c.metrics.call(f.outcome, resp, cost)
	v = f.verdict
	if f.outcome != outcomeCanceled {
		c.log.Warn("llm: call failed", "outcome", f.outcome, "attempts", resp.Attempts,
			"delivered", s.delivered, "elapsed", resp.Total, "reason", f.summary)
	}
	return resp, f.err
}

// call is the state of one Stream call across its attempts. It is used by
// the goroutine running Stream only.
type call struct {
	c       *Client
	start   time.Time
	onDelta func(string)
	wire    openai.ChatCompletionRequest

	attempts   int
	retryAfter string // Retry-After of the last attempt's error response

	delivered    bool // a content delta or tool-call fragment arrived
	firstToken   time.Duration
	content      strings.Builder
	tools        toolAssembler
	finishReason string
	usage        *Usage // as reported by the endpoint
}

// First-token states of an attempt, switched once by whichever comes first:
// the first token or the first-token timer.
const (
	waitingFirst int32 = iota
	gotFirst
	timedOutFirst
)

// attempt sends one request and reads its stream to the end. It returns
// nil when the stream ended normally.
func (s *call) attempt(callCtx context.Context) error {
	// Nothing of a failed attempt before its first token is kept.
	s.finishReason, s.usage = "", nil

	actx, cancel := context.WithCancelCause(callCtx)
	defer cancel(nil)
	info := &attemptInfo{}
	actx = context.WithValue(actx, attemptKey{}, info)
	defer func() { s.retryAfter = info.retryAfter }()

	// The first-token timer cancels the attempt's context, which also
	// unblocks a Recv waiting on a silent body. Stopping it on return means
	// no callback runs after attempt returns (or, if it already fired, one
	// that only cancels a finished context).
	var first atomic.Int32
	timer := time.AfterFunc(s.c.cfg.FirstTokenTimeout, func() {
		if first.CompareAndSwap(waitingFirst, timedOutFirst) {
			cancel(errFirstTokenTimeout)
		}
	})
	defer timer.Stop()

	stream, err := s.c.api.CreateChatCompletionStream(actx, s.wire)
	if err != nil {
		if !info.sent {
			return localError{err}
		}
		return attemptError(actx, err)
	}
	defer stream.Close()

	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if s.finishReason == "" {
				// go-openai reports a body that ends without "[DONE]" as
				// io.EOF too; a stream without a finish reason was cut.
				return errNoFinish
			}
			return nil
		}
		if err != nil {
			if s.finishReason != "" && s.delivered {
				// The reply was complete; only the usage chunk or "[DONE]"
				// is missing (usage is then estimated).
				return nil
			}
			return attemptError(actx, err)
		}
		if chunk.Usage != nil {
			s.usage = &Usage{PromptTokens: chunk.Usage.PromptTokens, CompletionTokens: chunk.Usage.CompletionTokens}
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue // we ask for one choice
			}
			if ch.FinishReason != "" {
				s.finishReason = string(ch.FinishReason)
			}
			d := ch.Delta
			if d.Content == "" && len(d.ToolCalls) == 0 {
				continue // role-only or reasoning chunks are not tokens
			}
			if !s.delivered {
				if !first.CompareAndSwap(waitingFirst, gotFirst) {
					// The timer fired just now; the attempt is over.
					return attemptError(actx, context.Cause(actx))
				}
				timer.Stop()
				s.delivered = true
				s.firstToken = s.c.now().Sub(s.start)
			}
			if d.Content != "" {
				s.content.WriteString(d.Content)
				if s.onDelta != nil {
					s.onDelta(d.Content)
				}
			}
			for _, tc := range d.ToolCalls {
				s.tools.add(tc)
			}
		}
	}
}

// attemptError prefers the cause of the attempt's context, when it ended,
// over the transport's error (usually "context canceled").
func attemptError(actx context.Context, err error) error {
	if cause := context.Cause(actx); cause != nil {
		if errors.Is(cause, errFirstTokenTimeout) || errors.Is(cause, errReplyTimeout) {
			return cause
		}
	}
	return err
}

// localError is an error go-openai returned before sending the request
// (an invalid request); retrying cannot help.
type localError struct{ err error }

func (e localError) Error() string { return e.err.Error() }
func (e localError) Unwrap() error { return e.err }

// response builds the call's Response. ToolCalls are included only when
// complete is true.
func (s *call) response(complete bool) Response {
	r := Response{
		Content:      s.content.String(),
		FinishReason: s.finishReason,
		FirstToken:   s.firstToken,
		Total:        s.c.now().Sub(s.start),
		Attempts:     s.attempts,
	}
	if complete {
		r.ToolCalls = s.tools.calls()
	}
	switch {
	case s.usage != nil:
		r.Usage = *s.usage
	case complete || s.delivered:
		// The endpoint reported no usage (or the stream broke before it):
		// estimate, so cost figures are not silently zero.
		r.Usage = Usage{
			PromptTokens:     estimatePrompt(s.wire),
			CompletionTokens: EstimateTokens(s.content.String()) + estimateCalls(s.tools.calls()),
		}
		r.UsageEstimated = true
	}
	return r
}

// failure is a classified attempt error.
type failure struct {
	err       error  // returned to the caller; nil on success
	outcome   string // metrics label
	verdict   verdict
	retryable bool
	summary   string // for logs: no message content, no upstream text
}

// classify turns an attempt's error into what Stream returns, counts and
// logs. ctx is the caller's context, callCtx the call's (ReplyTimeout).
func (c *Client) classify(ctx, callCtx context.Context, err error, delivered bool) failure {
	model := c.cfg.Model
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) {
			// The caller gave up because the endpoint was too slow for it:
			// a failure of the endpoint, as the breaker must count it.
			return failure{
				err:     fmt.Errorf("llm: %s: %w", model, cause),
				outcome: outcomeTimeout, verdict: verdictFailure, summary: "caller's timeout",
			}
		}
		return failure{
			err:     fmt.Errorf("llm: %s: %w", model, ctx.Err()),
			outcome: outcomeCanceled, verdict: verdictNeutral, summary: "canceled",
		}
	}
	if errors.Is(err, errReplyTimeout) || errors.Is(context.Cause(callCtx), errReplyTimeout) {
		return failure{
			err:     fmt.Errorf("llm: %s: no complete reply within %v: %w", model, c.cfg.ReplyTimeout, ErrTimeout),
			outcome: outcomeTimeout, verdict: verdictFailure, summary: "reply timeout",
		}
	}
	if errors.Is(err, errFirstTokenTimeout) {
		return failure{
			err:     fmt.Errorf("llm: %s: no first token within %v: %w", model, c.cfg.FirstTokenTimeout, ErrTimeout),
			outcome: outcomeTimeout, verdict: verdictFailure, retryable: !delivered, summary: "first-token timeout",
		}
	}
	var le localError
	if errors.As(err, &le) {
		return failure{
			err:     fmt.Errorf("llm: %s: building request: %w: %w", model, ErrUpstream, le.err),
			outcome: outcomeUpstream, verdict: verdictNeutral, summary: "invalid request",
		}
	}
	if status := httpStatus(err); status != 0 {
		f := failure{
			err:     fmt.Errorf("llm: %s: HTTP %d: %w: %w", model, status, ErrUpstream, err),
			outcome: outcomeUpstream,
			summary: "HTTP " + fmt.Sprint(status) + apiErrorKind(err),
		}
		switch {
		case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
			f.verdict, f.retryable = verdictFailure, !delivered
		case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound:
			// A wrong key, base URL or model name: the endpoint is unusable
			// as configured, so these count toward opening the circuit.
			f.verdict = verdictFailure
		default:
			// The endpoint works but refused this request (400: too long,
			// bad schema...): not retried, and no reason to open the circuit.
			f.verdict = verdictSuccess
		}
		return f
	}
	what := "connection or stream error"
	if delivered {
		what = "stream broke mid-reply"
	}
	return failure{
		err:     fmt.Errorf("llm: %s: %s: %w: %w", model, what, ErrUpstream, err),
		outcome: outcomeUpstream, verdict: verdictFailure, retryable: !delivered,
		summary: what + apiErrorKind(err),
	}
}

// httpStatus returns the HTTP status of an error response, or 0.
func httpStatus(err error) int {
	var ae *openai.APIError
	if errors.As(err, &ae) && ae.HTTPStatusCode != 0 {
		return ae.HTTPStatusCode
	}
	var re *openai.RequestError
	if errors.As(err, &re) {
		return re.HTTPStatusCode
	}
	return 0
}

// apiErrorKind returns the type and code of an OpenAI error, safe to log
// (unlike its message, which may quote the request).
func apiErrorKind(err error) string {
	var ae *openai.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	s := ""
	if ae.Type != "" {
		s += " type=" + ae.Type
	}
	if ae.Code != nil {
		s += fmt.Sprintf(" code=%v", ae.Code)
	}
	return s
}

// toolAssembler joins streamed tool-call fragments. The first fragment of a
// call carries its index, id and name; later ones carry pieces of the
// arguments under the same index.
type toolAssembler struct {
	byIndex map[int]*ToolCall
	last    int
}

func (a *toolAssembler) add(tc openai.ToolCall) {
	if a.byIndex == nil {
		a.byIndex = map[int]*ToolCall{}
		a.last = -1
	}
	i := a.last
	switch {
	case tc.Index != nil:
		i = *tc.Index
	case tc.ID != "" || i < 0:
		// No index (some older servers): a new id starts a new call.
		i = len(a.byIndex)
	}
	a.last = i
	t := a.byIndex[i]
	if t == nil {
		t = &ToolCall{}
		a.byIndex[i] = t
	}
	if tc.ID != "" {
		t.ID = tc.ID
	}
	if tc.Function.Name != "" {
		t.Name = tc.Function.Name
	}
	t.Arguments += tc.Function.Arguments
}

// calls returns the assembled calls in index order.
func (a *toolAssembler) calls() []ToolCall {
	if len(a.byIndex) == 0 {
		return nil
	}
	idx := make([]int, 0, len(a.byIndex))
	for i := range a.byIndex {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]ToolCall, 0, len(idx))
	for _, i := range idx {
		out = append(out, *a.byIndex[i])
	}
	return out
}
