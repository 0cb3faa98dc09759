package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ReturnAction is the shopper pressing Confirm or Cancel on a return card
// in the widget. It is the only way a return request is made: the model
// can only propose one, and typed words ("确认", "confirm") are just text.
type ReturnAction struct {
	ProposalID string
	Confirm    bool // false cancels the proposal
}

// returnCard shows a return proposal; until (the window's last instant)
// is shown while the proposal waits for the shopper.
func returnCard(p ReturnProposal, o Order, lang string, until time.Time) Card {
	c := Card{Kind: "return", ProposalID: p.ID, ReturnID: p.ReturnID, OrderID: p.OrderID, Status: p.Status,
		StatusText: returnText(lang, "status_"+p.Status), Reason: p.Reason}
	for _, ri := range p.Items {
		name := ri.SKU
		for _, it := range o.Items {
			if it.SKU == ri.SKU {
				name = itemName(it, lang)
				break
			}
		}
		c.Items = append(c.Items, CardItem{Name: name, Qty: ri.Qty})
	}
	if p.Status == ReturnProposed && !until.IsZero() {
		c.ReturnUntil = formatDay(until, lang)
	}
	return c
}

// returnAction carries out the shopper's Confirm or Cancel on a return
// card. Confirming checks eligibility again now (the window may have closed
// since the proposal) and submits the return once: confirming again sends
// the same confirmation. Refusals are error events; nothing is stored.
func (b *Bot) returnAction(ctx context.Context, t Turn, log *slog.Logger) error {
	lang := toolLang(t)
	a := t.Return
	fail := func(code string) error {
		b.pub.Publish(t.ConversationID, Event{Type: EventError, Code: code, Text: returnText(lang, code)})
		return nil
	}
	if t.Shopper == nil {
		return fail("login_required")
	}
	if b.returns == nil {
		return fail("unavailable")
	}
	p, err := b.returns.ReturnProposalOf(ctx, t.Shopper.ID, a.ProposalID)
	switch {
	case errors.Is(err, ErrOtherShopper):
		log.Warn("security: return proposal of another shopper refused", "shopper", t.Shopper.ID, "proposal", maskID(a.ProposalID))
		return fail("not_found")
	case errors.Is(err, ErrNotFound):
		return fail("not_found")
	case err != nil:
		return fmt.Errorf("load return proposal: %w", err)
	case p.ConversationID != t.ConversationID:
		// The shopper's own proposal, but made in another conversation:
		// only the card it came with may act on it.
		log.Warn("return proposal of another conversation refused", "proposal", maskID(a.ProposalID))
		return fail("not_found")
	}
	o, err := b.orders.OrderOf(ctx, t.Shopper.ID, p.OrderID)
	if errors.Is(err, ErrNotFound) {
		return fail("not_found")
	}
	if err != nil {
		return fmt.Errorf("load the order of return proposal: %w", err)
	}

	if !a.Confirm {
		p, err = b.returns.CancelReturn(ctx, t.Shopper.ID, p.ID)
		if errors.Is(err, ErrConflict) {
			return fail("already_submitted")
		}
		if err != nil {
			return fmt.Errorf("cancel return: %w", err)
		}
		log.Info("return proposal cancelled", "proposal", p.ID)
		return b.send(ctx, t.ConversationID, Message{Role: RoleBot, Intent: IntentOrder, Text: returnText(lang, "cancelled"),
			Cards: []Card{returnCard(p, o, lang, time.Time{})}})
	}

	if p.Status == ReturnProposed {
		if reason, lastDay, ok := stillEligible(o, p.Items, b.cfg.Now()); !ok {
			log.Info("return proposal no longer eligible", "proposal", p.ID, "reason", reason)
			msg := returnText(lang, "no_longer_eligible")
			if reason == ReturnWindowClosed {
				msg = fmt.Sprintf(returnText(lang, "window_closed"), formatDay(lastDay, lang))
			}
			return b.send(ctx, t.ConversationID, Message{Role: RoleBot, Intent: IntentOrder, Text: msg,
				Suggestions: []string{text(lang, msgTalkToPerson)}})
		}
	}
	p, created, err := b.returns.ConfirmReturn(ctx, t.Shopper.ID, p.ID)
	if errors.Is(err, ErrConflict) {
		return fail("proposal_cancelled")
	}
	if err != nil {
		return fmt.Errorf("confirm return: %w", err)
	}
	log.Info("return confirmed", "proposal", p.ID, "return", p.ReturnID, "created", created)
	if created {
		b.emitReturnConfirmed(ctx, p, log)
	}
	return b.send(ctx, t.ConversationID, Message{Role: RoleBot, Intent: IntentOrder,
		Text: fmt.Sprintf(returnText(lang, "confirmed"), p.ReturnID), Cards: []Card{returnCard(p, o, lang, time.Time{})}})
}

// ReturnConfirmedEvent is the data of a WebhookReturnConfirmed event: the
// facts the shop needs to expect the parcel and refund it, and no more.
type ReturnConfirmedEvent struct {
	ReturnID    string       `json:"return_id"`
	OrderID     string       `json:"order_id"`
	ShopperID   string       `json:"shopper_id"`
	Items       []ReturnItem `json:"items"`
	Reason      string       `json:"reason,omitempty"`
	ConfirmedAt time.Time    `json:"confirmed_at"`
}

// emitReturnConfirmed tells the shop's systems, after the return is
// stored. A failure is logged: the return stands, and the shop still sees
// it in its own records of returns.
func (b *Bot) emitReturnConfirmed(ctx context.Context, p ReturnProposal, log *slog.Logger) {
	if b.hooks == nil {
		return
	}
	at := p.DecidedAt
	if at.IsZero() {
		at = b.cfg.Now()
	}
	ev := ReturnConfirmedEvent{ReturnID: p.ReturnID, OrderID: p.OrderID, ShopperID: p.ShopperID, Items: p.Items,
		Reason: p.Reason, ConfirmedAt: at.UTC()}
	if err := b.hooks.Emit(ctx, WebhookReturnConfirmed, ev); err != nil {
		log.Error("webhook for a confirmed return not stored", "return", p.ReturnID, "err", err)
	}
}

// stillEligible re-checks every item of a proposal at now. It returns the
// first refusal's reason and the window's last instant.
func stillEligible(o Order, items []ReturnItem, now time.Time) (reason string, lastDay time.Time, ok bool) {
	for _, ri := range items {
		found := false
		for _, it := range o.Items {
			if it.SKU != ri.SKU {
				continue
			}
			found = true
			if ok, reason, until := Eligible(o, it, now); !ok {
				return reason, until, false
			}
		}
		if !found {
			return "not_in_order", time.Time{}, false
		}
	}
	return "", time.Time{}, true
}

// returnTexts are the shopper-facing texts of the return flow.
var returnTexts = map[string][2]string{
	"status_" + ReturnProposed:  {"待您确认", "awaiting your confirmation"},
	"status_" + ReturnConfirmed: {"已提交", "submitted"},
	"status_" + ReturnCancelled: {"已取消", "cancelled"},
	"confirmed": {"退货申请已提交，编号 %s。请在 7 天内将商品寄回，并保持商品完好；退款将在商家收到退货后 7 天内原路退回。无理由退货的寄回运费由您承担，商品有质量问题的由商家承担。",
		"Your return request has been submitted (no. %s). Please send the items back within 7 days, in good condition. The refund goes back to your original payment method within 7 days after the merchant receives the return. Return shipping is yours to pay for a no-reason return; the merchant pays it if an item has a quality problem."},
	"cancelled": {"已取消这次退货申请，没有提交任何退货。", "The return was cancelled; nothing was submitted."},
	"window_closed": {"抱歉，这笔退货未能提交：七天无理由退货期已于 %s 结束。如商品有质量问题，仍可申请售后；也可以转人工客服帮您看看。",
		"Sorry, this return could not be submitted: the 7-day no-reason return period ended on %s. Quality problems are still covered by after-sales service, and a person can look at your case."},
	"no_longer_eligible": {"抱歉，这笔退货目前无法提交。如商品有质量问题，仍可申请售后；也可以转人工客服帮您看看。",
		"Sorry, this return cannot be submitted as it stands. Quality problems are still covered by after-sales service, and a person can look at your case."},
	"login_required":     {"请先登录商城账号，再确认退货。", "Please log in to the shop to confirm a return."},
	"unavailable":        {"暂时无法处理退货，请稍后再试或转人工客服。", "Returns can't be handled right now; please try again later or ask for a person."},
	"not_found":          {"没有找到这条退货申请。", "That return proposal was not found."},
	"proposal_cancelled": {"这次退货申请已取消，无法再确认。如仍需退货，请再告诉我。", "This return proposal was cancelled and can't be confirmed. If you still want to return the items, just ask me again."},
	"already_submitted":  {"这笔退货已经提交，无法在这里撤销；如需撤销请转人工客服。", "This return has already been submitted and can't be withdrawn here; please ask a person."},
}

func returnText(lang, key string) string {
	t := returnTexts[key]
	if lang == "en" {
		return t[1]
	}
	return t[0]
}
