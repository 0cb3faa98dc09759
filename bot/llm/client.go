package llm

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Defaults of the Config fields whose zero value means "default".
const (
	DefaultFirstTokenTimeout = 10 * time.Second
	DefaultReplyTimeout      = 30 * time.Second
	DefaultMaxRetries        = 2
	DefaultRetryBase         = 300 * time.Millisecond
	DefaultBreakerFailures   = 5
	DefaultBreakerCooldown   = 30 * time.Second
	DefaultMaxTokens         = 800
	DefaultTemperature       = 0.2

	// maxRetryWait caps both the backoff and an endpoint's Retry-After.
	maxRetryWait = 5 * time.Second
)

// Config configures a Client. The zero value of every optional field means
// the documented default.
type Config struct {
	// BaseURL is the endpoint's OpenAI-compatible base, the part before
	// "/chat/completions", e.g. "http://127.0.0.1:11434/v1". Required.
	BaseURL string
	// Model is the model name sent with each request. Required.
	Model string
	// APIKey is sent as a bearer token; empty sends none (local vLLM or
	// Ollama). It is never logged nor printed.
	APIKey string

	// FirstTokenTimeout bounds each attempt's wait for its first content or
	// tool-call token (headers included); when it passes the attempt is
	// abandoned (and retried while retries remain) and the call ends with
	// ErrTimeout. Default 10s.
	FirstTokenTimeout time.Duration
	// ReplyTimeout bounds the whole call, retries and backoff included, and
	// so also a stream that stalls after its first token. Default 30s.
	ReplyTimeout time.Duration
	// MaxRetries is how many times a failed request is repeated: 0 means the
	// default, 2 (so at most 3 requests); negative means no retries.
	MaxRetries int
	// RetryBase is the first backoff; each retry doubles it, with jitter,
	// capped at 5s. A Retry-After header (in seconds) replaces the backoff,
	// also capped at 5s. Default 300ms.
	RetryBase time.Duration
	// BreakerFailures is how many failed calls in a row open the circuit.
	// Default 5.
	BreakerFailures int
	// BreakerCooldown is how long the open circuit refuses calls before it
	// lets one probe call through. Default 30s.
	BreakerCooldown time.Duration

	// MaxTokens bounds each reply when the Request sets none. Default 800.
	MaxTokens int
	// Temperature is the sampling temperature. Zero means the default, 0.2;
	// values up to 2 are allowed.
	Temperature float32

	// PriceInputPerM and PriceOutputPerM are the estimated price of a
	// million prompt and completion tokens, in any one currency; they only
	// feed Cost and the cost metric. Zero means unknown (cost 0).
	PriceInputPerM, PriceOutputPerM float64

	// HTTPClient sends the requests; nil means a client with dial and TLS
	// timeouts and no overall timeout (the contexts bound each call).
	HTTPClient *http.Client
	// Metrics receives the client's figures; nil records none.
	Metrics *Metrics
	// Now is the clock of the circuit breaker and of the durations in
	// Response; nil means time.Now. Timeouts always use the real clock.
	Now func() time.Time
}

// LogValue shows the configuration without the API key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", redactURL(c.BaseURL)),
		slog.String("model", c.Model),
		slog.Bool("api_key_set", c.APIKey != ""),
		slog.Duration("first_token_timeout", c.FirstTokenTimeout),
		slog.Duration("reply_timeout", c.ReplyTimeout),
		slog.Int("max_retries", c.MaxRetries),
	)
}

// String shows the configuration without the API key, so that printing
// a Config with fmt cannot leak it.
func (c Config) String() string {
	return fmt.Sprintf("llm.Config{BaseURL: %s, Model: %s, APIKey set: %v}", redactURL(c.BaseURL), c.Model, c.APIKey != "")
}

// GoString is String, for the %#v verb.
func (c Config) GoString() string { return c.String() }

// Client calls one model at one OpenAI-compatible endpoint. It is safe for
// concurrent use; all calls share one circuit breaker.
type Client struct {
	cfg     Config // with defaults applied
	api     *openai.Client
	log     *slog.Logger
	metrics *Metrics
	brk     *breaker
	now     func() time.Time
}

// New checks cfg, applies its defaults and returns a Client. A nil log
// discards the client's logs.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("llm: config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("llm_model", cfg.Model)

	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	oc.HTTPClient = retryAfterDoer{cfg.HTTPClient}

	c := &Client{
		cfg:     cfg,
		api:     openai.NewClientWithConfig(oc),
		log:     log,
		metrics: cfg.Metrics,
		now:     cfg.Now,
	}
	c.brk = &breaker{
		threshold: cfg.BreakerFailures,
		cooldown:  cfg.BreakerCooldown,
		now:       cfg.Now,
		onChange: func(from, to breakerState, failures int) {
			c.metrics.setCircuitOpen(to != stateClosed)
			if to == stateOpen {
				log.Warn("llm: circuit open", "from", from.String(), "failures", failures, "cooldown", cfg.BreakerCooldown)
			} else {
				log.Info("llm: circuit "+to.String(), "from", from.String())
			}
		},
	}
	c.metrics.setCircuitOpen(false)
	return c, nil
}

// setDefaults validates c and fills in the defaults of its zero fields.
func (c *Config) setDefaults() error {
	if c.BaseURL == "" {
		return errors.New("BaseURL is required")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return fmt.Errorf("BaseURL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("BaseURL %q: want an http:// or https:// URL", redactURL(c.BaseURL))
	}
	if strings.TrimSpace(c.Model) == "" {
		return errors.New("Model is required")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"FirstTokenTimeout", c.FirstTokenTimeout},
		{"ReplyTimeout", c.ReplyTimeout},
		{"RetryBase", c.RetryBase},
		{"BreakerCooldown", c.BreakerCooldown},
	} {
		if d.v < 0 {
			return fmt.Errorf("%s %v is negative", d.name, d.v)
		}
	}
	if c.BreakerFailures < 0 || c.MaxTokens < 0 {
		return errors.New("BreakerFailures and MaxTokens must not be negative")
	}
	if c.Temperature < 0 || c.Temperature > 2 {
		return fmt.Errorf("Temperature %v is outside 0..2", c.Temperature)
	}
	if c.PriceInputPerM < 0 || c.PriceOutputPerM < 0 {
		return errors.New("prices must not be negative")
	}

	if c.FirstTokenTimeout == 0 {
		c.FirstTokenTimeout = DefaultFirstTokenTimeout
	}
	if c.ReplyTimeout == 0 {
		c.ReplyTimeout = DefaultReplyTimeout
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.RetryBase == 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = DefaultBreakerFailures
	}
	if c.BreakerCooldown == 0 {
		c.BreakerCooldown = DefaultBreakerCooldown
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.Temperature == 0 {
		c.Temperature = DefaultTemperature
	}
	if c.HTTPClient == nil {
		c.HTTPClient = newHTTPClient()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// newHTTPClient returns a client whose transport bounds connecting and the
// TLS handshake. It has no overall timeout: that would cut long streams; the
// per-call contexts bound everything else.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
	}}
}

// Model returns the configured model name.
func (c *Client) Model() string { return c.cfg.Model }

// Cost returns the estimated cost of u at the configured prices (0 when
// they are not configured).
func (c *Client) Cost(u Usage) float64 {
	return (float64(u.PromptTokens)*c.cfg.PriceInputPerM + float64(u.CompletionTokens)*c.cfg.PriceOutputPerM) / 1e6
}

// String returns the endpoint and model, never the API key.
func (c *Client) String() string {
	return "llm " + redactURL(c.cfg.BaseURL) + " model " + c.cfg.Model
}

// LogValue shows the client as its String.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// redactURL hides a password in a URL's user info.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// retryAfterDoer sends requests with an http.Client and, on an error status,
// notes the Retry-After header in the request's attemptInfo: go-openai turns
// error responses into errors that drop the headers.
type retryAfterDoer struct{ c *http.Client }

// attemptInfo is what retryAfterDoer learned about one attempt. It is
// written and read by the goroutine running Stream (Do is synchronous).
type attemptInfo struct {
	sent       bool   // the request reached the HTTP client
	retryAfter string // Retry-After of an error response
}

type attemptKey struct{}

func (d retryAfterDoer) Do(req *http.Request) (*http.Response, error) {
	info, _ := req.Context().Value(attemptKey{}).(*attemptInfo)
	if info != nil {
		info.sent = true
	}
	resp, err := d.c.Do(req)
	if err == nil && info != nil && resp.StatusCode >= 400 {
		info.retryAfter = resp.Header.Get("Retry-After")
	}
	return resp, err
}

// retryWait returns how long to wait before retry number n (1-based):
// Retry-After when the endpoint sent one in seconds, otherwise exponential
// backoff with jitter; either capped at 5s.
func (c *Client) retryWait(n int, retryAfter string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, maxRetryWait)
	}
	d := c.cfg.RetryBase
	for i := 1; i < n && d < maxRetryWait; i++ {
		d *= 2
	}
	d = min(d, maxRetryWait)
	// Jitter in [d/2, d): spreads retries of many conversations that failed
	// together.
	return d/2 + rand.N(d/2+1)
}

// wireRequest maps req to go-openai's request.
func (c *Client) wireRequest(req Request) openai.ChatCompletionRequest {
	msgs := make([]openai.ChatCompletionMessage, 0, len(req.Messages))
	for _, m := range req.Messages {
		om := openai.ChatCompletionMessage{
			Role:       m.Role,
			Content:    m.Content,
			ToolCallID: m.ToolCallID,
		}
		for _, tc := range m.ToolCalls {
			om.ToolCalls = append(om.ToolCalls, openai.ToolCall{
				ID:       tc.ID,
				Type:     openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments},
			})
		}
		msgs = append(msgs, om)
	}
	var tools []openai.Tool
	for _, t := range req.Tools {
		params := t.Parameters
		if len(params) == 0 {
			// Some endpoints reject a null schema.
			params = []byte(`{"type":"object","properties":{}}`)
		}
		tools = append(tools, openai.Tool{
			Type: openai.ToolTypeFunction,
			Function: &openai.FunctionDefinition{
				Name:        t.Name,
				Description: t.Description,
				Parameters:  params,
			},
		})
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = c.cfg.MaxTokens
	}
	w := openai.ChatCompletionRequest{
		Model:         c.cfg.Model,
		Messages:      msgs,
		Tools:         tools,
		Stream:        true,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
		Temperature:   c.cfg.Temperature,
		// max_tokens is what DeepSeek, Qwen, vLLM and Ollama understand.
		MaxTokens: maxTokens, //nolint:staticcheck // see above
	}
	if reasoningModel(c.cfg.Model) {
		// OpenAI's reasoning models refuse max_tokens and a temperature;
		// go-openai checks this before sending.
		w.MaxTokens = 0 //nolint:staticcheck // see above
		w.MaxCompletionTokens = maxTokens
		w.Temperature = 0
	}
	return w
}

// reasoningModel reports whether model is one of OpenAI's reasoning models.
func reasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}
