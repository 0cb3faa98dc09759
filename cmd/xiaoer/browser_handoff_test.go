package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The handoff tests drive the widget through a request for a person: the
// pre-chat choice, the queue (the status bar, updated without new
// notices), the agent, the rating the bot asks for when the agent closes,
// and the leave-a-message form when nobody is online. TestBrowserHandoff
// scripts the frames of docs/protocol.md with the fake chat socket of the
// streaming test; TestBrowserHandoffServer runs the real server.

// handoffNotices counts the widget's own handoff notices.
const handoffNotices = `document.querySelectorAll('.xiaoer-list .xiaoer-notice-handoff').length`

// barText is the handoff bar's text, or "" while it is hidden.
const barText = `(function(){var b=document.querySelector('.xiaoer-hbar');return b&&!b.hidden?b.innerText.replace(/\s+/g,' ').trim():''})()`

// setField sets the value of the form field matching the CSS selector, as
// a shopper's choice or typing would, with its input and change events.
func setField(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(function(){var e=document.querySelector(` + js(sel) + `);e.value=` + js(value) +
		`;e.dispatchEvent(new Event('input',{bubbles:true}));e.dispatchEvent(new Event('change',{bubbles:true}))})()`)
}

func TestBrowserHandoff(t *testing.T) {
	browser := startBrowser(t)

	var (
		mu      sync.Mutex
		history []map[string]any
	)
	store := func(fr map[string]any) map[string]any {
		mu.Lock()
		defer mu.Unlock()
		fr["seq"] = len(history) + 1
		fr["id"] = fmt.Sprintf("m_%d", len(history)+1)
		history = append(history, fr)
		return fr
	}
	system := func(text string) map[string]any {
		m := msg("", 0, "system", text)
		m["intent"] = "handoff"
		return store(m)
	}
	var leaveIDs []string
	f := newFakeChat(t, func(c *fakeConn, n int) {
		switch n {
		case 1:
			c.send(map[string]any{"type": "hello", "conversation": "c_h", "last_seq": 0, "shopper": nil, "lang": "zh", "prechat": true})
			if c.expect("handoff") == nil { // the pre-chat "talk to a person"
				return
			}
			c.send(system("正在为您转接人工客服，您当前排在第 3 位。"))
			c.send(map[string]any{"type": "handoff", "status": "queued", "position": 3, "eta_seconds": 240})
			c.pause("queued")
			c.send(map[string]any{"type": "handoff", "status": "queued", "position": 2, "eta_seconds": 100})
			c.pause("moved up")
			c.send(system("客服王芳已接入。"))
			c.send(map[string]any{"type": "handoff", "status": "assigned", "position": 0, "agent": "王芳"})
			a := msg("", 0, "agent", "您好，我是王芳，请问有什么可以帮您？")
			a["agent_name"] = "王芳"
			c.send(store(a))
			c.pause("assigned")
			c.send(system("人工服务已结束。"))
			c.send(map[string]any{"type": "handoff", "status": "closed", "position": 0})
			r := msg("", 0, "bot", "请为本次服务打分。")
			r["intent"] = "rating"
			r["cards"] = []any{map[string]any{"kind": "rating"}}
			c.send(store(r))
			if c.expect("rating") == nil {
				return
			}
			if c.expect("handoff") == nil { // the header button
				return
			}
			c.send(system("当前暂无人工客服在线，请留言。"))
			c.send(map[string]any{"type": "handoff", "status": "offline", "position": 0})
			lm := c.expect("leave_message")
			if lm == nil {
				return
			}
			cid, _ := lm["client_id"].(string)
			mu.Lock()
			leaveIDs = append(leaveIDs, cid)
			mu.Unlock()
			c.send(map[string]any{"type": "error", "code": "invalid_contact", "message": "请填写有效的联系方式", "client_id": cid})
			if lm = c.expect("leave_message"); lm == nil {
				return
			}
			cid, _ = lm["client_id"].(string)
			mu.Lock()
			leaveIDs = append(leaveIDs, cid)
			mu.Unlock()
			if lm["contact_via"] != "phone" || lm["contact"] != "+86 138 0013 8000" || lm["text"] != "耳机左边没声音" {
				c.f.errorf("leave_message = %v, want the text, contact_via phone and the number", lm)
			}
			s := msg("", 0, "shopper", "耳机左边没声音")
			s["client_id"] = cid
			s = store(s)
			c.send(map[string]any{"type": "ack", "client_id": cid, "seq": s["seq"]})
			c.send(s)
			c.send(system("已收到您的留言，客服会尽快回复。"))
			c.send(map[string]any{"type": "handoff", "status": "ticket", "position": 0})
		case 2: // the reload: the conversation is replayed, then the open case is restored
			mu.Lock()
			h := slices.Clone(history)
			mu.Unlock()
			c.send(map[string]any{"type": "hello", "conversation": "c_h", "last_seq": len(h), "shopper": nil, "lang": "zh", "prechat": true})
			for _, fr := range h {
				c.send(fr)
			}
			c.send(map[string]any{"type": "handoff", "status": "assigned", "position": 0, "agent": "李雷", "resumed": true})
		}
	})

	tb := newTab(t, browser)
	tb.do("open the page", chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.ID("xiaoer-panel")))

	// Pre-chat: both choices before the first message; a person is asked for.
	tb.waitUntil("the pre-chat choice", `!!document.querySelector('.xiaoer-prechat-human')&&document.querySelector('.xiaoer-prechat-ask').textContent==='问 AI 助手'`)
	if chips := eval[bool](tb, `document.querySelector('.xiaoer-greeting .xiaoer-chips').getBoundingClientRect().height>0`); chips {
		t.Error("the greeting's suggestion chips show beside the pre-chat choice")
	}
	tb.do("talk to a person", chromedp.Click(chromedp.CSS(".xiaoer-prechat-human")))

	// Queued: the bar says where the shopper stands; the system message is the only notice.
	f.reached("queued")
	tb.waitUntil("the queue bar", barText+`==='您前面还有 2 位 预计等待约 4 分钟'`)
	if got := eval[bool](tb, `document.querySelector('.xiaoer-human').disabled`); !got {
		t.Error("the talk-to-a-person button is enabled while queued")
	}
	tb.do("type while queued", chromedp.SendKeys(chromedp.ID("xiaoer-input"), "我的耳机"))
	f.resume()
	f.reached("moved up")
	tb.waitUntil("the bar follows the queue", barText+`==='您前面还有 1 位 预计等待约 2 分钟'`)
	if n := eval[int](tb, handoffNotices); n != 0 {
		t.Errorf("%d handoff notices beside the server's system message, want 0", n)
	}
	if n := len(f.sent("typing")); n != 1 {
		t.Errorf("the widget sent %d typing frames for a few keys in under 2 s, want 1", n)
	}
	tb.do("clear the input", setField("#xiaoer-input", ""))

	// Assigned: the agent's name in the bar and on the message, labelled as a person.
	f.resume()
	f.reached("assigned")
	tb.waitUntil("the agent's message", `!!document.querySelector('.xiaoer-msg-agent')`)
	tb.waitUntil("the bar names the agent", barText+`==='与 王芳 对话中'`)
	head := eval[string](tb, `document.querySelector('.xiaoer-msg-agent .xiaoer-msg-head').textContent`)
	if head != "王芳人工客服" {
		t.Errorf("the agent message's head reads %q, want the name and 人工客服", head)
	}

	// Closed: no bar; the rating comes with the bot's rating message only.
	f.resume()
	tb.waitUntil("the rating in the bot's message", `!!document.querySelector('.xiaoer-msg-bot .xiaoer-rating')`)
	if n := eval[int](tb, `document.querySelectorAll('.xiaoer-rating').length`); n != 1 {
		t.Errorf("%d rating boxes, want 1 (the closed handoff adds none)", n)
	}
	if got := eval[string](tb, barText); got != "" {
		t.Errorf("the bar still reads %q after the agent closed", got)
	}
	label := eval[string](tb, `document.querySelector('.xiaoer-msg-bot .xiaoer-badge-ai').textContent`)
	if label != "AI 助手" {
		t.Errorf("the bot message's label is %q, want AI 助手", label)
	}
	tb.do("rate 5 stars",
		chromedp.Click(chromedp.CSS(".xiaoer-rating .xiaoer-star:nth-child(5)")),
		chromedp.Click(chromedp.CSS(".xiaoer-rating-submit")),
	)
	tb.waitUntil("thanks", `document.querySelector('.xiaoer-rating').textContent==='感谢您的评价！'`)

	// Offline: the leave-a-message form; a refusal gives it back; the ticket removes it.
	tb.waitUntil("the button is enabled again", `!document.querySelector('.xiaoer-human').disabled`)
	tb.do("ask for a person again", chromedp.Click(chromedp.CSS(".xiaoer-human")))
	tb.waitUntil("the leave-a-message form", `!!document.querySelector('.xiaoer-leave .xiaoer-leave-text')`)
	tb.do("fill the form with a bad e-mail",
		chromedp.SendKeys(chromedp.CSS(".xiaoer-leave-text"), "耳机左边没声音"),
		setField(".xiaoer-leave-via", "email"),
		chromedp.SendKeys(chromedp.CSS(".xiaoer-leave-contact"), "not-an-address"),
		chromedp.Click(chromedp.CSS(".xiaoer-leave-submit")),
	)
	tb.waitUntil("the form says the address is wrong", `document.querySelector('.xiaoer-leave-error').textContent==='请填写有效的邮箱地址'`)
	tb.do("choose a phone number",
		setField(".xiaoer-leave-via", "phone"),
		setField(".xiaoer-leave-contact", "+86 138 0013 8000"),
		chromedp.Click(chromedp.CSS(".xiaoer-leave-submit")),
	)
	tb.waitUntil("the server's refusal shows in the form", `document.querySelector('.xiaoer-leave-error').textContent==='请填写有效的联系方式'&&!document.querySelector('.xiaoer-leave-submit').disabled`)
	tb.do("send it again", chromedp.Click(chromedp.CSS(".xiaoer-leave-submit")))
	tb.waitUntil("the ticket removes the form", `!document.querySelector('.xiaoer-leave')&&document.querySelector('.xiaoer-list').textContent.indexOf('已收到您的留言')>=0`)
	if n := eval[int](tb, `document.querySelectorAll('.xiaoer-list .xiaoer-msg-shopper').length`); n != 1 {
		t.Errorf("%d shopper messages after leaving one message (one refused), want 1", n)
	}
	mu.Lock()
	if len(leaveIDs) != 2 || leaveIDs[0] == leaveIDs[1] || leaveIDs[0] == "" {
		t.Errorf("the left messages' client_ids = %q, want two different ones", leaveIDs)
	}
	mu.Unlock()
	notices := eval[int](tb, handoffNotices)

	// Reload: the replay and the resumed status restore the state, with no new notice.
	tb.do("reload", chromedp.Reload())
	tb.waitUntil("the resumed agent", barText+`==='与 李雷 对话中'`)
	if n := eval[int](tb, handoffNotices); n != notices {
		t.Errorf("%d handoff notices after the reload, want %d as before", n, notices)
	}
	if eval[bool](tb, `!!document.querySelector('.xiaoer-prechat')`) {
		t.Error("the pre-chat choice shows in a conversation that has messages")
	}
	if got := eval[string](tb, `document.querySelector('.xiaoer-rating').textContent`); got != "感谢您的评价！" {
		t.Errorf("after the reload the rating reads %q, want the thanks", got)
	}
	if eval[bool](tb, `!!document.querySelector('.xiaoer-leave')`) {
		t.Error("the leave-a-message form is back after the reload")
	}
	tb.checkConsole()
}

// TestBrowserHandoffServer asks the real server for a person with no agent
// online: the widget offers the leave-a-message form, and a message left
// there becomes a ticket.
func TestBrowserHandoffServer(t *testing.T) {
	browser := startBrowser(t)

	t.Run("leave a message", func(t *testing.T) {
		srv := startServer(t, t.TempDir(), "--demo")
		tb := newTab(t, browser)
		defer func() {
			if t.Failed() {
				t.Logf("server logs:\n%s", srv.Logs)
			}
		}()
		tb.do("open the chat",
			chromedp.Navigate(srv.Base+"/"),
			chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
			chromedp.Click(chromedp.ID("xiaoer-launcher")),
			chromedp.WaitVisible(chromedp.ID("xiaoer-panel")),
		)
		tb.waitUntil("online", `!!document.querySelector('.xiaoer-conn-online')`)
		tb.ask("转人工")
		tb.waitUntil("the leave-a-message form", `!!document.querySelector('.xiaoer-leave .xiaoer-leave-text')`)
		const left = "耳机左边没有声音，请回电"
		tb.do("leave a message",
			chromedp.SendKeys(chromedp.CSS(".xiaoer-leave-text"), left),
			setField(".xiaoer-leave-via", "phone"),
			chromedp.SendKeys(chromedp.CSS(".xiaoer-leave-contact"), "138 0013 8000"),
			chromedp.Click(chromedp.CSS(".xiaoer-leave-submit")),
		)
		// The ticket: the form goes, the left message is stored, and a
		// confirmation (the server's system message) follows it.
		tb.waitUntil("the ticket confirmation", `!document.querySelector('.xiaoer-leave')&&`+replyTo(left, ".xiaoer-msg-system"))
		if got := eval[string](tb, `document.querySelector('.xiaoer-human').disabled?'disabled':'enabled'`); got != "enabled" {
			t.Errorf("the talk-to-a-person button is %s after leaving a message, want enabled", got)
		}
		tb.checkConsole()
	})

	t.Run("prechat", func(t *testing.T) {
		srv := startServer(t, t.TempDir(), "--demo", "--prechat")
		tb := newTab(t, browser)
		defer func() {
			if t.Failed() {
				t.Logf("server logs:\n%s", srv.Logs)
			}
		}()
		tb.do("open the chat",
			chromedp.Navigate(srv.Base+"/"),
			chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
			chromedp.Click(chromedp.ID("xiaoer-launcher")),
			chromedp.WaitVisible(chromedp.ID("xiaoer-panel")),
		)
		tb.waitUntil("the pre-chat choice", `!!document.querySelector('.xiaoer-prechat-ask')&&!!document.querySelector('.xiaoer-prechat-human')`)
		tb.do("ask the assistant", chromedp.Click(chromedp.CSS(".xiaoer-prechat-ask")))
		tb.waitUntil("the choice is gone and the chips show", `!document.querySelector('.xiaoer-prechat')&&document.querySelector('.xiaoer-greeting .xiaoer-chips').getBoundingClientRect().height>0`)
		const q = "运费怎么算"
		tb.ask(q)
		tb.waitUntil("the bot answers", botReplyTo(q))
		tb.do("reload", chromedp.Reload())
		tb.waitUntil("the conversation is replayed", `!!document.querySelector('.xiaoer-list .xiaoer-msg-bot')`)
		time.Sleep(300 * time.Millisecond)
		if eval[bool](tb, `!!document.querySelector('.xiaoer-prechat')`) {
			t.Error("the pre-chat choice shows in a conversation that has messages")
		}
		if !strings.Contains(eval[string](tb, `document.querySelector('.xiaoer-list').textContent`), q) {
			t.Error("the replayed conversation lacks the question")
		}
		tb.checkConsole()
	})
}
