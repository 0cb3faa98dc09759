package llm

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of one Stream call, the values of the "outcome" label of
// xiaoer_llm_requests_total.
const (
	outcomeOK          = "ok"
	outcomeTimeout     = "timeout"
	outcomeUpstream    = "upstream_error"
	outcomeCircuitOpen = "circuit_open"
	outcomeCanceled    = "canceled"
)

// Metrics are the Prometheus metrics of the LLM client and of the bot's use
// of it. Create them with NewMetrics and hand them to every Client through
// Config.Metrics. All methods are safe for concurrent use and do nothing on a
// nil *Metrics, so code can record figures without checking whether metrics
// are enabled.
//
// Tokens per conversation is xiaoer_llm_tokens_total divided by
// xiaoer_llm_conversations_total; cost per conversation likewise with
// xiaoer_llm_cost_total.
type Metrics struct {
	requests      *prometheus.CounterVec
	retries       prometheus.Counter
	firstToken    prometheus.Histogram
	reply         prometheus.Histogram
	tokens        *prometheus.CounterVec
	cost          prometheus.Counter
	circuitOpen   prometheus.Gauge
	turnTokens    prometheus.Histogram
	turnCost      prometheus.Histogram
	turns         prometheus.Counter
	conversations prometheus.Counter
	replyFirst    prometheus.Histogram
	replyTotal    *prometheus.HistogramVec
}

// latencyBuckets cover 50 ms to 30 s: a local model answers its first token
// in well under a second, a busy hosted one in a few, and 10 s is the default
// first-token timeout.
var latencyBuckets = []float64{0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30}

// NewMetrics creates the metrics and registers them with reg; a nil reg
// leaves them unregistered (useful in tests). Registering twice with the same
// registry reuses the metrics already there, so several clients may share
// one registry. NewMetrics panics only when reg holds a different metric of
// the same name, which is a programming error.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xiaoer_llm_requests_total",
			Help: "LLM calls by outcome (ok, timeout, upstream_error, circuit_open, canceled); retries inside one call count once.",
		}, []string{"outcome"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xiaoer_llm_retries_total",
			Help: "HTTP requests to the LLM endpoint repeated after a retryable failure.",
		}),
		firstToken: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xiaoer_llm_first_token_seconds",
			Help:    "Time from the start of a call to its first content or tool-call token.",
			Buckets: latencyBuckets,
		}),
		reply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xiaoer_llm_reply_seconds",
			Help:    "Time of whole LLM calls, retries included, that ended ok.",
			Buckets: append(append([]float64(nil), latencyBuckets...), 45, 60),
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xiaoer_llm_tokens_total",
			Help: "Tokens used by LLM calls (reported by the endpoint, or estimated when it reports none), by kind (prompt, completion).",
		}, []string{"kind"}),
		cost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xiaoer_llm_cost_total",
			Help: "Estimated cost of LLM calls in the configured currency (0 when prices are not configured).",
		}),
		circuitOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xiaoer_llm_circuit_open",
			Help: "1 while the LLM circuit breaker is open or half-open, 0 when closed.",
		}),
		turnTokens: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xiaoer_llm_turn_tokens",
			Help:    "Tokens (prompt + completion) used by one bot turn, all its LLM calls together.",
			Buckets: prometheus.ExponentialBuckets(100, 2, 10), // 100 .. 51200
		}),
		turnCost: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xiaoer_llm_turn_cost",
			Help:    "Estimated cost of one bot turn in the configured currency.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 4, 12), // 1e-5 .. ~42
		}),
		turns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xiaoer_llm_turns_total",
			Help: "Bot turns that used the model.",
		}),
		conversations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xiaoer_llm_conversations_total",
			Help: "Conversations that used the model at least once.",
		}),
		replyFirst: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xiaoer_reply_first_text_seconds",
			Help:    "Time from the start of a bot turn that asked the model to the first text shown to the shopper (its first delta).",
			Buckets: latencyBuckets,
		}),
		replyTotal: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "xiaoer_reply_seconds",
			Help:    "Time from the start of a bot turn that asked the model to its complete reply, by path: model, or fallback (answered without it after it failed, was slow or over budget).",
			Buckets: append(append([]float64(nil), latencyBuckets...), 45, 60),
		}, []string{"path"}),
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.retries = register(reg, m.retries)
		m.firstToken = register(reg, m.firstToken)
		m.reply = register(reg, m.reply)
		m.tokens = register(reg, m.tokens)
		m.cost = register(reg, m.cost)
		m.circuitOpen = register(reg, m.circuitOpen)
		m.turnTokens = register(reg, m.turnTokens)
		m.turnCost = register(reg, m.turnCost)
		m.turns = register(reg, m.turns)
		m.conversations = register(reg, m.conversations)
		m.replyFirst = register(reg, m.replyFirst)
		m.replyTotal = register(reg, m.replyTotal)
	}
	// Make every outcome visible from the start, so rates work before the
	// first failure.
	for _, o := range []string{outcomeOK, outcomeTimeout, outcomeUpstream, outcomeCircuitOpen, outcomeCanceled} {
		m.requests.WithLabelValues(o)
	}
	m.tokens.WithLabelValues("prompt")
	m.tokens.WithLabelValues("completion")
	return m
}

// register registers c with reg, or returns the equal collector already
// registered there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic("llm: registering metrics: " + err.Error())
}

// ObserveTurn records one bot turn that used the model: u and cost are the
// sums over all LLM calls of the turn (see Client.Cost).
func (m *Metrics) ObserveTurn(u Usage, cost float64) {
	if m == nil {
		return
	}
	m.turns.Inc()
	m.turnTokens.Observe(float64(u.Total()))
	m.turnCost.Observe(cost)
}

// CountConversation counts a conversation that used the model. The bot
// calls it once per conversation, at its first LLM call.
func (m *Metrics) CountConversation() {
	if m == nil {
		return
	}
	m.conversations.Inc()
}

// ObserveReply records one bot reply to a turn that asked the model: the
// time to its first text shown (zero when nothing was streamed) and to the
// complete reply, and whether the reply fell back to the answer without the
// model.
func (m *Metrics) ObserveReply(firstText, total time.Duration, fallback bool) {
	if m == nil {
		return
	}
	if firstText > 0 {
		m.replyFirst.Observe(firstText.Seconds())
	}
	path := "model"
	if fallback {
		path = "fallback"
	}
	m.replyTotal.WithLabelValues(path).Observe(total.Seconds())
}

// call records the end of one Stream call.
func (m *Metrics) call(outcome string, resp Response, cost float64) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(outcome).Inc()
	if outcome == outcomeCircuitOpen {
		return
	}
	if resp.FirstToken > 0 {
		m.firstToken.Observe(resp.FirstToken.Seconds())
	}
	if outcome == outcomeOK {
		m.reply.Observe(resp.Total.Seconds())
	}
	if resp.Usage.PromptTokens > 0 {
		m.tokens.WithLabelValues("prompt").Add(float64(resp.Usage.PromptTokens))
	}
	if resp.Usage.CompletionTokens > 0 {
		m.tokens.WithLabelValues("completion").Add(float64(resp.Usage.CompletionTokens))
	}
	if cost > 0 {
		m.cost.Add(cost)
	}
}

// retry counts one repeated HTTP request.
func (m *Metrics) retry() {
	if m == nil {
		return
	}
	m.retries.Inc()
}

// setCircuitOpen sets the breaker gauge.
func (m *Metrics) setCircuitOpen(open bool) {
	if m == nil {
		return
	}
	if open {
		m.circuitOpen.Set(1)
	} else {
		m.circuitOpen.Set(0)
	}
}
