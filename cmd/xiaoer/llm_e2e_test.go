package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// The end-to-end tests of answers phrased by a model: the real `xiaoer
// serve --demo` with --llm-url pointing at a scripted OpenAI-compatible
// server (bot/llm/llmtest), real websockets. The script plays the model:
// it answers from the references it is given, calls the tools, lies, echoes
// what it should not, or dies mid-reply.

// Questions the script recognises (in the masked text the model gets).
const (
	qShipping = "How long does shipping take?"
	qOrders   = "Where is my order?"
	qShowMe   = "Show me order "
	qPrivacy  = "我的手机号是13800138000，地址上海市徐汇区示例路88弄6号1202室，帮我查一下订单"
	qPrivacy2 = "我的电话是+86 138 0000 2718，邮箱 lin.xiaoyu@example.com，寄到上海市徐汇区示例路88弄6号1202室可以吗"
	qReturn   = "I want to return the T-shirt from order XE2026051095, it is too small."
	qConfirm  = "确认"
	// crossOrder is demo-cn's shipped order, asked for as demo-en.
	crossOrder    = "XE2026051388"
	crossTracking = "SF1408267735021"
	crossItem     = "Noise-Cancelling Earbuds"
)

var (
	refRE         = regexp.MustCompile(`(?s)<reference n="1">\nTitle: ([^\n]*)\n(.*?)\n</reference>`)
	orderNoRE     = regexp.MustCompile(`XE\d{10}`)
	placeholderRE = regexp.MustCompile(`\[(PHONE|ADDRESS|EMAIL)_\d+\]`)
)

// firstReference returns reference 1 of the context message (Messages[1]).
func firstReference(r *llmtest.Received) (title, body string, ok bool) {
	if len(r.Messages) < 2 {
		return "", "", false
	}
	m := refRE.FindStringSubmatch(r.Messages[1].Content)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// faqAnswer answers from reference 1, citing it.
func faqAnswer(r *llmtest.Received) string {
	_, body, ok := firstReference(r)
	if !ok {
		return "NO_ANSWER"
	}
	line := strings.TrimSpace(strings.SplitN(strings.TrimSpace(body), "\n", 2)[0])
	return "Good news: " + line + " [1]"
}

// shopScript is the model of the shared server.
func shopScript(r *llmtest.Received) llmtest.Reply {
	q := r.LastUser()
	results := r.ToolResults()
	switch {
	case strings.Contains(q, qShipping):
		return llmtest.Reply{Text: faqAnswer(r), FirstDelay: 20 * time.Millisecond, ChunkDelay: 20 * time.Millisecond}
	case strings.Contains(q, qOrders):
		if len(results) == 0 {
			return llmtest.Calls(llmtest.Call("list_my_orders", `{}`))
		}
		var out struct {
			Orders []struct {
				ID         string `json:"order_id"`
				StatusText string `json:"status_text"`
			} `json:"orders"`
		}
		if err := json.Unmarshal([]byte(results[0].Content), &out); err != nil || len(out.Orders) == 0 {
			return llmtest.Text("NO_ANSWER")
		}
		return llmtest.Text(fmt.Sprintf("Your newest order %s is %s.", out.Orders[0].ID, out.Orders[0].StatusText))
	case strings.HasPrefix(q, qShowMe):
		// An obedient model: it looks the number up and echoes whatever
		// the tool said, verbatim.
		if len(results) == 0 {
			return llmtest.Calls(llmtest.Call("get_order", `{"order_id":"`+orderNoRE.FindString(q)+`"}`))
		}
		return llmtest.Text("Here is everything about that order: " + results[0].Content)
	case strings.Contains(q, "帮我查一下订单"):
		if len(results) == 0 {
			return llmtest.Calls(llmtest.Call("list_my_orders", `{}`))
		}
		// The placeholder that stands for the phone the shopper typed.
		phone := placeholderRE.FindString(q[strings.Index(q, "手机号是"):])
		return llmtest.Text("已为您查到订单，详情见下方卡片。如需联系，我们会拨打 " + phone + "。")
	case strings.Contains(q, "return the T-shirt"):
		if len(results) == 0 {
			return llmtest.Calls(llmtest.Call("request_return", `{"order_id":"XE2026051095","items":["SKU-AP-2001"],"reason":"too small"}`))
		}
		return llmtest.Text("I have prepared the return of the T-shirt. Please check the card and press Confirm.")
	case strings.TrimSpace(q) == qConfirm:
		// A model that claims to act on typed words: nothing may come of it.
		return llmtest.Text("好的，您的退货已经提交成功，退货单号 r_fake。")
	}
	return llmtest.Text("NO_ANSWER")
}

// intentOf returns the intent of a message frame.
func intentOf(f chatclient.Frame) string {
	var m struct {
		Intent string `json:"intent"`
	}
	json.Unmarshal(f.Raw, &m)
	return m.Intent
}

// streamed returns the deltas of the reply in ex, and checks the frame
// order: typing, then the deltas (all of the reply's id), then the reply.
func streamed(t *testing.T, ex chatclient.Exchange) []string {
	t.Helper()
	typing, firstDelta := -1, -1
	var deltas []string
	for i, f := range ex.Frames {
		switch f.Type {
		case "typing":
			if typing < 0 {
				typing = i
			}
		case "delta":
			if f.ID != ex.Reply.ID {
				t.Errorf("delta %q of id %s, the reply is %s", f.Text, f.ID, ex.Reply.ID)
			}
			if firstDelta < 0 {
				firstDelta = i
			}
			deltas = append(deltas, f.Text)
		}
	}
	if typing < 0 || (firstDelta >= 0 && typing > firstDelta) {
		t.Errorf("typing frame at %d, first delta at %d: want typing first", typing, firstDelta)
	}
	return deltas
}

func TestLLMEndToEnd(t *testing.T) {
	model := llmtest.NewServer(t, shopScript)
	metricsAddr := freeAddr(t)
	s := startServer(t, t.TempDir(), "--demo", "--llm-url", model.URL, "--llm-model", "scripted", "--metrics-addr", metricsAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	defer func() {
		if t.Failed() {
			t.Logf("server logs:\n%s", s.Logs)
		}
	}()
	orders := demoOrders(t)

	t.Run("FAQ answer streams from the cited reference", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
		ex, err := c.Ask(ctx, qShipping)
		if err != nil {
			t.Fatal(err)
		}
		r := ex.Reply
		deltas := streamed(t, ex)
		if len(deltas) < 3 {
			t.Fatalf("%d delta frames %q, want at least 3", len(deltas), deltas)
		}
		if joined := strings.Join(deltas, ""); joined != r.Text {
			t.Errorf("deltas joined = %q\nfinal text    = %q\nwant the same", joined, r.Text)
		}
		if strings.Contains(r.Text, "[1]") || !strings.HasPrefix(r.Text, "Good news: ") {
			t.Errorf("final text %q: want the model's answer without its citation marker", r.Text)
		}
		if intentOf(r) != "faq" {
			t.Errorf("intent %q, want faq", intentOf(r))
		}
		// The source is the entry the model was given as reference 1.
		var title string
		for _, rec := range model.Requests() {
			if rec.LastUser() == qShipping {
				title, _, _ = firstReference(rec)
			}
		}
		if title == "" {
			t.Fatal("the model got no reference 1 for the shipping question")
		}
		if len(r.Sources) != 1 || r.Sources[0].Title != title || r.Sources[0].ID == "" {
			t.Fatalf("sources %+v, want the cited reference %q", r.Sources, title)
		}
		if id := kbSearchID(t, s, title); id != r.Sources[0].ID {
			t.Errorf("source id %s, the entry titled %q is %s", r.Sources[0].ID, title, id)
		}
		// The stored message, as a reconnect replays it, is the one streamed.
		c.Close()
		re := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en"), Conversation: c.Hello.Conversation, After: ex.Ack.Seq})
		f, err := re.Next(ctx)
		if err != nil || f.Type != "message" || f.ID != r.ID || f.Text != r.Text || len(f.Sources) != 1 || f.Sources[0] != r.Sources[0] {
			t.Errorf("replayed %s (%v), want the streamed message %s", f.Raw, err, r.Raw)
		}
	})

	t.Run("orders through list_my_orders", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
		r := ask(t, ctx, c, qOrders)
		if intentOf(r) != "order" || len(r.Cards) == 0 {
			t.Fatalf("reply %q intent %q cards %+v, want order cards", r.Text, intentOf(r), r.Cards)
		}
		for _, card := range r.Cards {
			if card.Kind != "order" || !contains(orders["demo-en"], card.OrderID) {
				t.Errorf("card %+v is not one of demo-en's orders %v", card, orders["demo-en"])
			}
		}
		if !strings.HasPrefix(r.Text, "Your newest order XE") || !contains(orders["demo-en"], orderNoRE.FindString(r.Text)) {
			t.Errorf("reply %q, want the model's words about demo-en's newest order", r.Text)
		}
	})

	t.Run("another shopper's order reads like a missing one", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
		missing := ask(t, ctx, c, qShowMe+"XE2099999999")
		cross := ask(t, ctx, c, qShowMe+crossOrder)
		// What the shopper reads: the text and the cards (the frame's ids
		// and times are random and could hold "399" by chance).
		shown, _ := json.Marshal(struct {
			Text  string
			Cards []chatclient.Card
		}{cross.Text, cross.Cards})
		for _, leak := range []string{crossTracking, crossItem, "无线降噪", "SF Express", "399"} {
			if strings.Contains(string(shown), leak) {
				t.Errorf("the reply about demo-cn's order contains %q: %s", leak, cross.Raw)
			}
		}
		if len(cross.Cards) != 0 || strings.ReplaceAll(cross.Text, crossOrder, "X") != strings.ReplaceAll(missing.Text, "XE2099999999", "X") {
			t.Errorf("another shopper's order: %q %+v\na missing order: %q %+v\nwant the same reply, no card", cross.Text, cross.Cards, missing.Text, missing.Cards)
		}
		if !strings.Contains(missing.Text, "couldn't find order XE2099999999") {
			t.Errorf("a missing order: %q, want it named as not found", missing.Text)
		}
		// What the model saw of each was the same too.
		var toolSaw []string
		for _, rec := range model.Requests() {
			if strings.HasPrefix(rec.LastUser(), qShowMe) && len(rec.ToolResults()) > 0 {
				toolSaw = append(toolSaw, rec.ToolResults()[0].Content)
			}
			if strings.Contains(string(rec.Raw), crossTracking) {
				t.Errorf("a request to the model holds demo-cn's tracking number")
			}
		}
		if len(toolSaw) != 2 || toolSaw[0] != toolSaw[1] {
			t.Errorf("get_order results the model saw: %q, want two identical not-found results", toolSaw)
		}
		logs := s.Logs.String()
		if !strings.Contains(logs, "security: order lookup across shoppers refused") {
			t.Error("no security event logged for the cross-shopper lookup")
		}
		if strings.Contains(logs, crossOrder) {
			t.Error("the log holds the full order number")
		}
	})

	t.Run("personal data never reaches the model", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-cn")})
		before := len(model.Requests())
		r := ask(t, ctx, c, qPrivacy)
		if len(r.Cards) == 0 || !strings.Contains(r.Text, "13800138000") {
			t.Errorf("reply %q %+v: want order cards and the typed phone restored where the model wrote its placeholder", r.Text, r.Cards)
		}
		ask(t, ctx, c, qPrivacy2)
		reqs := model.Requests()[before:]
		if len(reqs) < 3 {
			t.Fatalf("%d model requests for two turns, want at least 3", len(reqs))
		}
		secrets := []string{"13800002718", "138-0000-2718", "138 0000 2718", "13800138000", "lin.xiaoyu@example.com",
			"上海市徐汇区示例路88弄6号1202室", "示例路88弄"}
		for i, rec := range reqs {
			var all strings.Builder
			all.Write(rec.Raw)
			for _, m := range rec.Messages {
				all.WriteString(m.Content)
			}
			for _, sec := range secrets {
				if strings.Contains(all.String(), sec) {
					t.Errorf("model request %d contains %q", i, sec)
				}
			}
		}
		q1 := reqs[0].LastUser()
		if !strings.Contains(q1, "[PHONE_") || !strings.Contains(q1, "[ADDRESS_") || !strings.Contains(q1, "帮我查一下订单") {
			t.Errorf("the model got the question as %q, want placeholders for the phone and the address", q1)
		}
		q2 := reqs[len(reqs)-1].LastUser()
		if !strings.Contains(q2, "[PHONE_") || !strings.Contains(q2, "[EMAIL_") || !strings.Contains(q2, "[ADDRESS_") {
			t.Errorf("the model got the second question as %q, want placeholders", q2)
		}
	})

	t.Run("a return is made only by the confirm button", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
		r := ask(t, ctx, c, qReturn)
		if len(r.Cards) != 1 || r.Cards[0].Kind != "return" || r.Cards[0].Status != "proposed" || r.Cards[0].ProposalID == "" ||
			r.Cards[0].OrderID != "XE2026051095" || r.Cards[0].ReturnID != "" {
			t.Fatalf("reply %q cards %+v, want one proposed return card of XE2026051095", r.Text, r.Cards)
		}
		if intentOf(r) != "order" {
			t.Errorf("intent %q, want order", intentOf(r))
		}
		proposal := r.Cards[0].ProposalID

		typed := ask(t, ctx, c, qConfirm)
		for _, card := range typed.Cards {
			if card.Status == "confirmed" || card.ReturnID != "" {
				t.Errorf("typing %q made the card %+v", qConfirm, card)
			}
		}
		if strings.Contains(typed.Text, "r_fake") || strings.Contains(s.Logs.String(), "return confirmed") {
			t.Errorf("typing %q: reply %q; want no return made and the model's claim not shown", qConfirm, typed.Text)
		}

		confirm := func() chatclient.Card {
			t.Helper()
			if err := c.SendFrame(map[string]any{"type": "return_confirm", "proposal_id": proposal}); err != nil {
				t.Fatal(err)
			}
			for {
				f, err := c.Next(ctx)
				if err != nil {
					t.Fatalf("waiting for the confirmation: %v", err)
				}
				if f.Type == "error" {
					t.Fatalf("return_confirm: error %s %s", f.Code, f.Message)
				}
				if f.Type == "message" && f.Role == "bot" && len(f.Cards) == 1 && f.Cards[0].Kind == "return" {
					if intentOf(f) != "order" || f.Text == "" {
						t.Errorf("confirmation %q intent %q", f.Text, intentOf(f))
					}
					return f.Cards[0]
				}
			}
		}
		card := confirm()
		if card.Status != "confirmed" || !strings.HasPrefix(card.ReturnID, "r_") || card.ProposalID != proposal {
			t.Fatalf("after return_confirm the card is %+v, want confirmed with a return_id", card)
		}
		if again := confirm(); again.ReturnID != card.ReturnID {
			t.Errorf("confirming again gave return %s, the first %s: want the same return", again.ReturnID, card.ReturnID)
		}
		if n := strings.Count(s.Logs.String(), "created=true"); n != 1 {
			t.Errorf("%d returns created, want 1", n)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
		}
		m := string(body)
		for name, min := range map[string]float64{
			`xiaoer_llm_requests_total{outcome="ok"}`:  1,
			`xiaoer_llm_first_token_seconds_count`:     1,
			`xiaoer_reply_first_text_seconds_count`:    1,
			`xiaoer_reply_seconds_count{path="model"}`: 1,
			`xiaoer_llm_conversations_total`:           1,
			`go_goroutines`:                            1,
		} {
			if v, ok := metricValue(m, name); !ok || v < min {
				t.Errorf("%s = %v (found %v), want at least %v", name, v, ok, min)
			}
		}
		if !regexp.MustCompile(`(?m)^xiaoer_llm_tokens_total\{kind="[a-z_]+"\} [1-9]`).MatchString(m) {
			t.Errorf("no non-zero xiaoer_llm_tokens_total in\n%s", grepLines(m, "xiaoer_llm_tokens"))
		}
	})
}

// metricValue returns the value of the sample named exactly name (with its
// labels) in a Prometheus text exposition.
func metricValue(exposition, name string) (float64, bool) {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// kbSearchID returns the id of the knowledge entry whose question is title.
func kbSearchID(t *testing.T, s *testServer, title string) string {
	t.Helper()
	resp, err := http.Get(s.Base + "/api/v1/kb/search?limit=10&q=" + url.QueryEscape(title))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Hits []struct{ ID, Question string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, h := range body.Hits {
		if h.Question == title {
			return h.ID
		}
	}
	t.Fatalf("no knowledge entry titled %q", title)
	return ""
}

// TestLLMEndpointDiesMidReply: the model's endpoint dies after the first
// chunk reached the shopper; the shopper still gets the retrieval-only
// answer under the same message id, at once.
func TestLLMEndpointDiesMidReply(t *testing.T) {
	model := llmtest.NewServer(t, func(r *llmtest.Received) llmtest.Reply {
		return llmtest.Reply{Text: "Shipping usually takes a few days, and you will get a tracking number as soon as the parcel leaves our warehouse [1].",
			ChunkDelay: 300 * time.Millisecond}
	})
	s := startServer(t, t.TempDir(), "--demo", "--llm-url", model.URL, "--llm-model", "scripted")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
	const cid = "kill-1"
	if err := c.Send(cid, qShipping); err != nil {
		t.Fatal(err)
	}
	var (
		deltaID  string
		killedAt time.Time
		partial  strings.Builder
	)
	for replied := false; !replied; {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for the reply: %v\nlogs:\n%s", err, s.Logs)
		}
		switch {
		case f.Type == "delta":
			partial.WriteString(f.Text)
			if deltaID == "" {
				deltaID = f.ID
				model.Kill()
				killedAt = time.Now()
			}
		case f.Type == "message" && f.ReplyTo == cid:
			replied = true
			if deltaID == "" {
				t.Fatalf("the reply %q came before any delta", f.Text)
			}
			if took := time.Since(killedAt); took > 15*time.Second {
				t.Errorf("the reply came %v after the endpoint died, want within 15 s", took)
			}
			if f.ID != deltaID {
				t.Errorf("reply id %s, the deltas were of %s: want the same message", f.ID, deltaID)
			}
			if f.Text == "" || len(f.Sources) == 0 || intentOf(f) != "faq" {
				t.Errorf("reply %q sources %v intent %q, want the retrieval-only answer with its source", f.Text, f.Sources, intentOf(f))
			}
			if strings.HasPrefix(f.Text, partial.String()) {
				t.Errorf("the reply %q continues the cut-off model text %q, want the retrieval-only answer", f.Text, partial.String())
			}
			if !strings.Contains(s.Logs.String(), "answering without the model") {
				t.Errorf("no log of the fallback:\n%s", s.Logs)
			}
		}
	}
	// With the endpoint gone for good, the next question is still answered
	// from the knowledge base, promptly.
	start := time.Now()
	ex, err := c.Ask(ctx, "Do you deliver to remote areas like Xinjiang or Tibet?")
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 15*time.Second || len(ex.Reply.Sources) == 0 {
		t.Errorf("with the endpoint dead: reply %q sources %v after %v, want the retrieval-only answer within 15 s", ex.Reply.Text, ex.Reply.Sources, took)
	}
}

// TestLLMNoModelNoDeltas: without --llm-url, answers come whole, as before.
func TestLLMNoModelNoDeltas(t *testing.T) {
	s := startServer(t, t.TempDir(), "--demo")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
	ex, err := c.Ask(ctx, qShipping)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ex.Frames {
		if f.Type == "delta" {
			t.Errorf("a delta frame without a model: %s", f.Raw)
		}
	}
	if ex.Reply.Text == "" || len(ex.Reply.Sources) == 0 {
		t.Errorf("reply %q sources %v, want the FAQ answer", ex.Reply.Text, ex.Reply.Sources)
	}
	if strings.Contains(s.Logs.String(), "answers phrased by a model") {
		t.Error("a server without --llm-url says it uses a model")
	}
}

// TestLLMSlowClientHoldsUpNoOne: a shopper whose socket reads nothing while
// a long reply streams to it does not slow anyone else's reply, and the
// reply is generated and stored all the same: they find it when they come
// back.
func TestLLMSlowClientHoldsUpNoOne(t *testing.T) {
	const flood = "Please tell me everything about shipping"
	model := llmtest.NewServer(t, func(r *llmtest.Received) llmtest.Reply {
		if strings.Contains(r.LastUser(), flood) {
			// About 8 MB of text, as fast as the endpoint can write it: more
			// than the socket's queue and the kernel's buffers hold.
			chunks := make([]string, 0, 2001)
			for range 2000 {
				chunks = append(chunks, strings.Repeat("shipping ", 460))
			}
			return llmtest.Reply{Chunks: append(chunks, faqAnswer(r))}
		}
		return llmtest.Reply{Text: faqAnswer(r), ChunkDelay: 10 * time.Millisecond}
	})
	s := startServer(t, t.TempDir(), "--demo", "--llm-url", model.URL, "--llm-model", "scripted")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	slow := dial(t, ctx, s.WS, chatclient.Options{Lang: "en"})
	if err := slow.Send("flood-1", flood+" (How long does shipping take?)"); err != nil {
		t.Fatal(err)
	}
	// The slow shopper reads nothing from here on. Once its reply is under
	// way, another shopper asks.
	for len(model.Requests()) == 0 || model.Requests()[0].FirstChunkAt.IsZero() {
		select {
		case <-ctx.Done():
			t.Fatal("the long reply never started")
		case <-time.After(5 * time.Millisecond):
		}
	}
	other := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
	start := time.Now()
	ex, err := other.Ask(ctx, qShipping)
	if err != nil {
		t.Fatalf("the other shopper: %v\nlogs:\n%s", err, s.Logs)
	}
	if took := time.Since(start); took > 10*time.Second || len(ex.Reply.Sources) == 0 {
		t.Errorf("the other shopper's reply %q came after %v, want it within 10 s with its source", ex.Reply.Text, took)
	}

	// The long reply was generated and stored although its socket never
	// read: resuming the conversation replays it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		back := dial(t, ctx, s.WS, chatclient.Options{Visitor: slow.Hello.Visitor, Conversation: slow.Hello.Conversation, Lang: "en"})
		var found bool
		for i := int64(0); i < back.Hello.LastSeq && !found; {
			f, err := back.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type == "message" {
				i = f.Seq
				found = f.ReplyTo == "flood-1" && strings.HasSuffix(f.Text, ".") && len(f.Text) > 1_000_000
			}
		}
		back.Close()
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow shopper's long reply was not stored\nlogs:\n%s", s.Logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	slow.Close()
}
