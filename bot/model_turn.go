package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot/llm"
	"github.com/xiaoer-cs/xiaoer/bot/pii"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// Reasons a turn is answered without the model.
var (
	errOverBudget = errors.New("token budget exhausted")
	errTooLong    = errors.New("input too long for the model")
	errStalled    = errors.New("model too slow")
	// errLookupRefused: the model's answer rests only on an order lookup
	// that found nothing or needed a login. The templates say that ("log
	// in first", "no order XE… in your account") better than the unsure
	// reply, which would contradict what the model was told to say.
	errLookupRefused = errors.New("answer rests only on a refused order lookup")
)

// modelAnswer answers a turn through the model: the question, the turn's
// references and the recent conversation go to the model (personal data
// masked), the model's text streams to the shopper as delta events of
// r.ID, and its tool calls run as the turn's verified shopper. An error
// means the caller answers without the model; deltas already sent are
// replaced by that answer, which carries the same id.
func (b *Bot) modelAnswer(ctx context.Context, t Turn, r reply, upto int64, log *slog.Logger) (reply, string, error) {
	m := b.llm
	start := time.Now()
	if utf8.RuneCountInString(t.Text) > m.cfg.MaxInputRunes {
		return r, "", errTooLong
	}
	day := b.cfg.Now().In(ShopZone).Format(time.DateOnly)
	if m.usage != nil {
		use, err := m.usage.UsageOf(ctx, t.ConversationID, day)
		if err != nil {
			return r, "", fmt.Errorf("read token use: %w", err)
		}
		if over(use.Conversation, m.cfg.ConversationTokens) || over(use.OwnerToday, m.cfg.ShopperDailyTokens) || over(use.AllToday, m.cfg.DailyTokens) {
			log.Info("model budget exhausted; answering without it", "conversation_tokens", use.Conversation,
				"shopper_day_tokens", use.OwnerToday, "day_tokens", use.AllToday)
			return r, "", errOverBudget
		}
	}

	mask := pii.NewMasker()
	if sh := t.Shopper; sh != nil {
		mask.Known(pii.KindPhone, sh.Phone)
		mask.Known(pii.KindEmail, sh.Email)
		mask.Known(pii.KindAddress, sh.Address)
	}
	res, err := b.search(ctx, t.Text, r.lang)
	if err != nil {
		return r, "", err
	}
	var refs refBook
	var top []knowledge.Hit
	for _, h := range res.Hits {
		if len(top) < m.cfg.References && h.Confidence >= suggestionFloor {
			top = append(top, h)
		}
	}
	// told are the profile fields the model is told; they are traced in
	// Personalized only when the reply is the model's own words, not when
	// a fixed reply (unsure, cannot help, handoff intro) replaces them.
	var told []string
	if sh := consented(t); sh != nil {
		// The member's tier policy for the question goes in as a
		// reference the model may cite.
		if len(top) > 0 {
			if h, ok := b.tierPolicy(ctx, t, t.Text, r.lang, top[0].Category); ok {
				top = append(top, h)
			}
		}
		_, told = profileFacts(sh, mask)
	}
	history, err := memory(ctx, b.convs, t.ConversationID, upto, m.cfg.MemoryTokens, mask)
	if err != nil {
		return r, "", err
	}
	msgs := []llm.Message{
		{Role: llm.RoleSystem, Content: m.systemPrompt(r.lang)},
		contextMessage(t, r.lang, referenceText(&refs, top, mask), mask),
	}
	msgs = append(msgs, history...)
	msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: mask.Mask(t.Text)})

	// Giving up on a slow model cancels with the cause llm.ErrTimeout, so
	// the client's circuit breaker counts it as the endpoint's failure.
	tctx, cancelTimeout := context.WithTimeoutCause(ctx, m.cfg.ReplyTimeout, llm.ErrTimeout)
	defer cancelTimeout()
	mctx, cancel := context.WithCancelCause(tctx)
	defer cancel(nil)
	wd := startWatchdog(func() { cancel(llm.ErrTimeout) }, m.cfg.FirstTokenTimeout, m.cfg.StallTimeout)
	defer wd.stop()

	filter := newReplyFilter(mask, m.canary, m.shingles(r.lang))
	filter.allow(msgs[1].Content)
	var usage llm.Usage
	sent := false // the conversation went to the model (or may have)
	defer func() { b.recordUsage(ctx, t.ConversationID, day, usage, sent, log) }()
	var firstText time.Duration
	var chunks int64
	onDelta := func(chunk string) {
		wd.poke()
		if out := filter.Write(chunk); out != "" {
			if firstText == 0 {
				firstText = time.Since(start)
				r.firstText = firstText
			}
			b.pub.Publish(t.ConversationID, Event{Type: EventDelta, MessageID: r.ID, Seq: chunks, Text: out})
			chunks++
		}
	}

	var (
		cards     []Card
		executed  int
		dataTools int
		refused   bool // an order tool found nothing or needed a login
		handoff   string
		tools     = toolDefinitions()
	)
	for round := 0; ; round++ {
		req := llm.Request{Messages: msgs}
		if executed < m.cfg.MaxToolCalls && round <= m.cfg.MaxToolCalls {
			req.Tools = tools
		}
		sent = true
		resp, err := m.model.Stream(mctx, req, onDelta)
		usage.PromptTokens += resp.Usage.PromptTokens
		usage.CompletionTokens += resp.Usage.CompletionTokens
		if err != nil {
			if wd.fired() {
				err = fmt.Errorf("%w: %w", errStalled, err)
			}
			return r, "", fmt.Errorf("model call: %w", err)
		}
		wd.poke()
		if len(resp.ToolCalls) == 0 || req.Tools == nil {
			break
		}
		if filter.started && !strings.HasSuffix(filter.shown.String(), "\n") {
			onDelta("\n")
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleAssistant, Content: resp.Content, ToolCalls: resp.ToolCalls})
		for _, call := range resp.ToolCalls {
			var content string
			if executed >= m.cfg.MaxToolCalls || handoff != "" {
				content = `{"error":"tool_limit","message":"No more tool calls in this turn. Answer with what you have."}`
			} else {
				executed++
				// Arguments may quote placeholders (a masked number): tools
				// see the real values, and only ever the shopper's own.
				out := b.runTool(mctx, t, call.Name, mask.Restore(call.Arguments), log)
				wd.poke()
				switch {
				case call.Name == "search_knowledge" && out.Failed == "":
					content = hitsResult(&refs, out.Hits, mask)
				default:
					content = toolResultText(out.Content, mask)
				}
				if content == "" && out.Failed != "" {
					content = `{"error":"` + out.Failed + `"}`
				}
				filter.allow(content)
				switch out.Failed {
				case "":
					// A search grounds an answer only through the
					// references it cites; a handoff grounds nothing.
					if call.Name != "search_knowledge" && call.Name != "handoff_to_human" {
						dataTools++
					}
				case toolFailNotFound, toolFailLogin:
					refused = true
				}
				cards = mergeCards(cards, out.Cards)
				if out.Handoff != "" {
					handoff = out.Handoff
				}
			}
			msgs = append(msgs, llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: content})
		}
		if handoff != "" {
			break
		}
	}
	if out := filter.Flush(); out != "" {
		b.pub.Publish(t.ConversationID, Event{Type: EventDelta, MessageID: r.ID, Seq: chunks, Text: out})
	}

	var cited []Source
	for _, n := range filter.Cited() {
		if h, ok := refs.hit(n); ok {
			cited = append(cited, Source{ID: h.ID, Title: h.Question})
		}
	}
	if handoff != "" {
		// What the model said before handing off was shown as deltas: a
		// message under that id closes the streamed bubble. Its words are
		// kept only when they rest on a cited source or a tool result;
		// otherwise (and after a leak) a plain line says what happens.
		r.Intent, r.Cards, r.Sources = IntentHandoff, cards, cited
		said := filter.Text()
		grounded := said != "" && !filter.NoAnswer() && !filter.Leaked() && (len(cited) > 0 || dataTools > 0)
		switch {
		case grounded:
			r.Text = said
			addFields(&r.Message, told...)
		case filter.started || filter.Leaked() || len(cards) > 0:
			r.Text, r.Sources = text(r.lang, msgHandoffIntro), nil
		default:
			r.Text = ""
		}
		return r, handoff, nil
	}
	final := filter.Text()
	if filter.Leaked() {
		log.Warn("security: model reply repeated its instructions; not shown")
		r.Intent = IntentUnsure
		r.Text = text(r.lang, msgCannotHelp)
		r.Suggestions = []string{text(r.lang, msgTalkToPerson)}
		r.Cards = cards // what the tools produced stands: a return proposal stays confirmable
		return r, "", nil
	}
	r.Sources = cited
	r.Cards = cards
	noAns := final == "" || filter.NoAnswer() || strings.HasPrefix(final, noAnswer)
	if noAns && len(cards) > 0 {
		final, noAns = text(r.lang, msgOrdersIntro), false
	}
	if noAns || (len(r.Sources) == 0 && dataTools == 0) {
		// Nothing relevant, or an answer that rests on nothing the shop
		// said: the honest reply, never invented policy.
		if refused {
			return r, "", errLookupRefused
		}
		if !noAns {
			log.Info("model answer cited no source and used no tool; replaced by the unsure reply")
		}
		u := b.unsure(r, res)
		u.Cards = cards
		return u, "", nil
	}
	r.Text = final
	addFields(&r.Message, told...)
	b.modelNextStep(ctx, t, &r, cards, log)
	switch {
	case len(cards) > 0:
		r.Intent = IntentOrder
	default:
		r.Intent = IntentFAQ
	}
	for _, c := range cards {
		if c.Kind == "order" && c.Status == StatusDelivered && c.ReturnUntil == "" {
			r.Suggestions = []string{text(r.lang, msgTalkToPerson)}
			break
		}
	}
	return r, "", nil
}

// over reports whether use has reached a budget (none when budget <= 0).
func over(use, budget int64) bool { return budget > 0 && use >= budget }

// observeReply records a reply's timing, when metrics are on.
func (m *modelDeps) observeReply(firstText, total time.Duration, fallback bool) {
	if m.metrics != nil {
		m.metrics.ObserveReply(firstText, total, fallback)
	}
}

// recordUsage books a turn's tokens against the budgets and metrics. A
// failure is logged: the shopper already has the reply. sent is true when
// the conversation was handed to the model, whatever came back: a call cut
// off after the request, with no usage reported, is still booked (with
// zero tokens), because the row is what tells "delete my data" that the
// model vendor received the shopper's words (docs/privacy.md).
func (b *Bot) recordUsage(ctx context.Context, conversationID, day string, u llm.Usage, sent bool, log *slog.Logger) {
	m := b.llm
	if u.Total() == 0 && !sent {
		return
	}
	var cost float64
	if c, ok := m.model.(coster); ok {
		cost = c.Cost(u)
	}
	if m.metrics != nil && u.Total() > 0 {
		m.metrics.ObserveTurn(u, cost)
	}
	if m.usage == nil {
		return
	}
	first, err := m.usage.AddUsage(context.WithoutCancel(ctx), conversationID, day, u, cost)
	if err != nil {
		log.Warn("record model token use", "err", err)
		return
	}
	if first && m.metrics != nil {
		m.metrics.CountConversation()
	}
}

// mergeCards appends cards not already shown (one card per order and per
// return proposal; a later card of the same thing replaces the earlier).
func mergeCards(have, add []Card) []Card {
	for _, c := range add {
		replaced := false
		for i, h := range have {
			if h.Kind == c.Kind && h.OrderID == c.OrderID && h.ProposalID == c.ProposalID {
				have[i], replaced = c, true
				break
			}
		}
		if !replaced {
			have = append(have, c)
		}
	}
	return have
}

// shingles returns the instruction spans a reply may not repeat, per
// language, computed once.
func (m *modelDeps) shingles(lang string) map[string]bool {
	m.shingleOnce.Do(func() {
		m.shingleSets = map[string]map[string]bool{
			"zh": promptShingles(m.systemPrompt("zh")),
			"en": promptShingles(m.systemPrompt("en")),
		}
	})
	return m.shingleSets[langOr(lang)]
}

// watchdog cancels the model's context when it shows no progress: nothing
// within the first-token timeout, or a pause longer than the stall timeout.
type watchdog struct {
	progress chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	hasFired bool
}

func startWatchdog(cancel context.CancelFunc, first, stall time.Duration) *watchdog {
	w := &watchdog{progress: make(chan struct{}, 1), done: make(chan struct{})}
	w.wg.Add(1)
	// Owned by the watchdog: stop ends it.
	go func() {
		defer w.wg.Done()
		timer := time.NewTimer(first)
		defer timer.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-w.progress:
				timer.Reset(stall)
			case <-timer.C:
				w.mu.Lock()
				w.hasFired = true
				w.mu.Unlock()
				cancel()
				return
			}
		}
	}()
	return w
}

// poke records progress without blocking.
func (w *watchdog) poke() {
	select {
	case w.progress <- struct{}{}:
	default:
	}
}

func (w *watchdog) fired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hasFired
}

func (w *watchdog) stop() {
	close(w.done)
	w.wg.Wait()
}

// modelNextStep adds the next step (days left to return, review, buy
// again) of the first delivered order with an open return window among
// the cards the model's tools produced.
func (b *Bot) modelNextStep(ctx context.Context, t Turn, r *reply, cards []Card, log *slog.Logger) {
	if t.Shopper == nil {
		return
	}
	for _, c := range cards {
		if c.Kind != "order" || c.Status != StatusDelivered || c.ReturnUntil == "" {
			continue
		}
		o, err := b.orders.OrderOf(ctx, t.Shopper.ID, c.OrderID)
		if err != nil {
			log.Warn("read the order for its next step", "err", err)
			return
		}
		b.addNextStep(ctx, t, r, []Order{o}, b.cfg.Now(), log)
		return
	}
}
