package handoff

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// summaryQuestions is how many of the shopper's last messages a summary quotes.
const summaryQuestions = 3

// orderIDPattern is what looks like an order number in a shopper's words.
var orderIDPattern = regexp.MustCompile(`\b(?:[A-Za-z]{1,4}\d{6,20}|\d{10,20})\b`)

// extractSummary is the summary an agent reads when no model writes one:
// the trigger, the shopper's last questions (personal data masked), the
// orders mentioned or shown, and the knowledge entries the bot answered
// from. A failure to read the transcript leaves only the trigger.
func (d *Desk) extractSummary(ctx context.Context, conversationID, trigger string) Summary {
	s := Summary{Trigger: trigger, Questions: []string{}, Orders: []string{}, Entries: []bot.Source{}}
	msgs, err := d.transcript(ctx, conversationID)
	if err != nil {
		d.log.Warn("read the transcript for a summary", "conversation", conversationID, "err", err)
		return s
	}
	addOrder := func(id string) {
		if id != "" && !slices.Contains(s.Orders, id) {
			s.Orders = append(s.Orders, id)
		}
	}
	for _, m := range msgs {
		switch m.Role {
		case bot.RoleShopper:
			for _, id := range orderIDPattern.FindAllString(m.Text, -1) {
				addOrder(id)
			}
		case bot.RoleBot:
			for _, c := range m.Cards {
				addOrder(c.OrderID)
			}
			for _, src := range m.Sources {
				if !slices.ContainsFunc(s.Entries, func(e bot.Source) bool { return e.ID == src.ID }) {
					s.Entries = append(s.Entries, src)
				}
			}
		}
	}
	for i := len(msgs) - 1; i >= 0 && len(s.Questions) < summaryQuestions; i-- {
		if msgs[i].Role == bot.RoleShopper {
			s.Questions = append(s.Questions, clip(maskText(msgs[i].Text), 200))
		}
	}
	slices.Reverse(s.Questions)
	return s
}

// transcript reads a whole conversation.
func (d *Desk) transcript(ctx context.Context, conversationID string) ([]bot.Message, error) {
	var all []bot.Message
	var after int64
	for {
		page, err := d.deps.Store.MessagesAfter(ctx, conversationID, after, 500)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 500 {
			return all, nil
		}
		after = page[len(page)-1].Seq
	}
}

// summarizeLater has the model write a short summary of a new case, when
// one is configured, and stores it beside the extractive one. It runs on a
// goroutine owned by Run (which waits for it) and gives up after 30 s.
func (d *Desk) summarizeLater(c Case, lang string) {
	if d.deps.Summarizer == nil {
		return
	}
	d.mu.Lock()
	parent := d.runCtx
	if parent != nil {
		d.wg.Add(1) // under mu, so Run cannot be waiting already
	}
	d.mu.Unlock()
	if parent == nil {
		return // not running: tests and tools; the extractive summary stands
	}
	go func() {
		defer d.wg.Done()
		ctx, cancel := context.WithTimeout(parent, 30*time.Second)
		defer cancel()
		text, err := d.deps.Summarizer.SummarizeForAgent(ctx, c.ConversationID, lang)
		if err != nil || text == "" {
			if err != nil {
				d.log.Warn("model summary for an agent", "conversation", c.ConversationID, "err", err)
			}
			return
		}
		sum := c.Summary
		sum.Text = text
		if err := d.deps.Store.SetSummary(ctx, c.ID, sum); err != nil {
			d.log.Warn("store the model summary", "conversation", c.ConversationID, "err", err)
			return
		}
		d.notify(0, Notice{Kind: "case", ConversationID: c.ConversationID})
	}()
}
