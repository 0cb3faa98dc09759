package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// reply is the bot's answer to a turn, before it is stored.
type reply struct {
	Message
	lang string
	// bestID and bestConfidence are the best knowledge candidate of an
	// unsure reply, recorded with the gap.
	bestID         string
	bestConfidence float64
	// firstText is the time from the start of a model turn to its first
	// delta; zero when nothing was streamed.
	firstText time.Duration
}

// searchSpare is how many more hits a search asks for, so that tier
// policies left out of the result do not leave it short.
const searchSpare = 3

// suggestionFloor is the confidence a knowledge hit needs to be offered as a
// "did you mean" suggestion; answering needs the retriever's own threshold.
const suggestionFloor = 0.25

// answer decides what the turn asks and composes the reply. A non-empty
// trigger means the shopper asked for a person instead.
//
// With a model, everything but a request for a person and small talk goes
// to the model (upto is the seq of the shopper's message: the memory is
// what came before it); when the model fails, is slow or over budget, the
// turn is answered here without it, under the same message id, so the
// shopper is never left without an answer.
func (b *Bot) answer(ctx context.Context, t Turn, upto int64, log *slog.Logger) (reply, string, error) {
	fallback := t.Lang
	if fallback == "" && t.Shopper != nil {
		fallback = t.Shopper.Lang
	}
	lang := detectLang(t.Text, fallback)
	r := reply{lang: lang, Message: Message{Role: RoleBot, ReplyTo: t.ClientID}}
	// With consent, the profile's language wins when the text says none.
	if sh := consented(t); sh != nil && (sh.Lang == "zh" || sh.Lang == "en") {
		if l := detectLang(t.Text, sh.Lang); l != lang {
			r.lang = l
			lang = l
			addFields(&r.Message, ProfileFieldLang)
		}
	}

	if handoffAsked(t.Text) {
		return r, TriggerWords, nil
	}
	// Sensitive matters and upset shoppers go to a person, with a word
	// that says so, before the bot tries to answer.
	if cat := sensitiveMatter(t.Text); cat != "" {
		r.Intent, r.Text = IntentHandoff, text(lang, msgSensitiveIntro)
		return r, TriggerSensitive + cat, nil
	}
	if moodOf(t.Text).Upset() {
		r.Intent, r.Text = IntentHandoff, text(lang, msgUpsetIntro)
		return r, TriggerUpset, nil
	}
	talk := smallTalk(t.Text)
	if t.Shopper != nil && !t.peopleAway && talk != talkThanks && talk != talkBye && slices.Contains(b.cfg.DirectTiers, strings.ToLower(t.Shopper.Tier)) {
		return r, TriggerTier, nil
	}
	if talk == talkNone && recommendAsked(t.Text) && moodOf(t.Text).Score == 0 && (t.handoffStatus == "" || t.handoffStatus == "closed") {
		return b.recommendReply(ctx, t, r)
	}
	if b.llm != nil && talk == talkNone {
		r.ID = newMessageID()
		start := time.Now()
		mr, trigger, err := b.modelAnswer(ctx, t, r, upto, log)
		if err == nil {
			b.llm.observeReply(mr.firstText, time.Since(start), false)
			return mr, trigger, nil
		}
		firstText := mr.firstText
		defer func() { b.llm.observeReply(firstText, time.Since(start), true) }()
		if ctx.Err() != nil {
			return r, "", ctx.Err()
		}
		if errors.Is(err, errLookupRefused) {
			log.Info("answering without the model", "err", err)
			return b.answerWithoutModel(ctx, t, r, talk, log)
		}
		log.Warn("answering without the model", "err", err)
		// The assistant is not at its best: a person is one tap away.
		fr, trigger, err := b.answerWithoutModel(ctx, t, r, talk, log)
		if err == nil && trigger == "" && !slices.Contains(fr.Suggestions, text(fr.lang, msgTalkToPerson)) {
			fr.Suggestions = append(fr.Suggestions, text(fr.lang, msgTalkToPerson))
		}
		return fr, trigger, err
	}
	return b.answerWithoutModel(ctx, t, r, talk, log)
}

// answerWithoutModel answers from the shopper's orders, the knowledge base
// and the fixed replies: the whole answer without a model, and the
// fallback with one.
func (b *Bot) answerWithoutModel(ctx context.Context, t Turn, r reply, talk string, log *slog.Logger) (reply, string, error) {
	lang := r.lang
	asked, strong := orderIntent(t.Text)
	if asked && strong {
		return b.orderReply(ctx, t, r, log)
	}
	switch talk {
	case talkGreeting:
		r.Intent = IntentSmallTalk
		greeting(t, lang, &r.Message)
		r.Suggestions = starterQuestions[lang]
		return r, "", nil
	case talkThanks, talkBye:
		r.Intent, r.Text = IntentSmallTalk, text(lang, msgThanks)
		if talk == talkBye {
			r.Text = text(lang, msgBye)
		}
		b.closeRecommendations(ctx, t, &r, log)
		return r, "", nil
	}

	res, err := b.search(ctx, t.Text, lang)
	if err != nil {
		return r, "", err
	}
	if res.Answerable {
		top := res.Hits[0]
		r.Intent = IntentFAQ
		r.Text = top.Answer
		r.Sources = []Source{{ID: top.ID, Title: top.Question}}
		// Follow-up suggestions: other close matches on the same topic.
		for _, h := range res.Hits[1:] {
			if len(r.Suggestions) == 2 {
				break
			}
			if h.Confidence >= suggestionFloor && h.Question != top.Question && h.Category == top.Category {
				r.Suggestions = append(r.Suggestions, h.Question)
			}
		}
		b.addTierPolicy(ctx, t, &r, top.Category)
		return r, "", nil
	}
	if asked {
		// "my order ..." with no confident knowledge answer: show the orders.
		return b.orderReply(ctx, t, r, log)
	}
	return b.unsure(r, res), "", nil
}

// search asks the retriever in the message's language first, then in any
// language when that finds nothing answerable. Tier policies (entries
// tagged tier:<tier>) are never answers by themselves: they are left out,
// and added for members by addTierPolicy.
func (b *Bot) search(ctx context.Context, q, lang string) (knowledge.Result, error) {
	locale := "zh-CN"
	if lang == "en" {
		locale = "en"
	}
	res, err := b.kb.Search(ctx, q, knowledge.SearchOptions{Limit: 5 + searchSpare, Locale: locale})
	if err != nil {
		return res, fmt.Errorf("search knowledge: %w", err)
	}
	res = withoutTierPolicies(res, 5)
	if res.Answerable {
		return res, nil
	}
	all, err := b.kb.Search(ctx, q, knowledge.SearchOptions{Limit: 5 + searchSpare})
	if err != nil {
		return res, fmt.Errorf("search knowledge: %w", err)
	}
	all = withoutTierPolicies(all, 5)
	if all.Answerable || len(res.Hits) == 0 {
		return all, nil
	}
	return res, nil
}

// unsure is the honest "not sure" reply: up to 3 questions the shopper may
// have meant, and the offer of a person.
func (b *Bot) unsure(r reply, res knowledge.Result) reply {
	r.Intent = IntentUnsure
	if len(res.Hits) > 0 {
		r.bestID, r.bestConfidence = res.Hits[0].ID, res.Hits[0].Confidence
	}
	seen := map[string]bool{}
	for _, h := range res.Hits {
		if len(r.Suggestions) == 3 {
			break
		}
		if h.Confidence >= suggestionFloor && !seen[h.Question] {
			seen[h.Question] = true
			r.Suggestions = append(r.Suggestions, h.Question)
		}
	}
	if len(r.Suggestions) > 0 {
		r.Text = text(r.lang, msgUnsureSuggest)
	} else {
		r.Text = text(r.lang, msgUnsure)
		r.Suggestions = append(r.Suggestions, starterQuestions[r.lang][:2]...)
	}
	r.Suggestions = append(r.Suggestions, text(r.lang, msgTalkToPerson))
	return r
}
