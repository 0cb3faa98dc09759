package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// The streaming test drives the real widget (web/static, served from the
// repository) against a scripted stand-in for the chat socket: the frames of
// docs/protocol.md for a streamed LLM reply (typing, delta…, the final
// message with the same id) and for a return the shopper confirms. The real
// server streams only with an LLM configured, and its timing is not the
// test's to choose; here each step is where the test wants it.

// streamPage is the host page: the widget alone, opened, with the server's
// CSP, so an inline script or style the widget injected would be reported.
const streamPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stream test</title><link rel="icon" href="data:,"></head>
<body><script src="/widget.js" data-open="true"></script></body></html>`

const streamCSP = "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"

// fakeChat is a loopback HTTP server with the widget's files and a
// /ws/chat endpoint whose every connection runs script.
type fakeChat struct {
	*httptest.Server
	t      *testing.T
	script func(c *fakeConn, n int) // n: 1 for the first connection, 2 for the next…

	mu     sync.Mutex
	conns  int
	frames []map[string]any // every frame the widget sent, in order

	errs []string // the script's failures, reported by the test

	paused  chan string   // the name of the step the script waits at
	release chan struct{} // lets the script go on
	stop    chan struct{} // closed when the test ends: the script gives up
}

func newFakeChat(t *testing.T, script func(c *fakeConn, n int)) *fakeChat {
	t.Helper()
	f := &fakeChat{t: t, script: script, paused: make(chan string), release: make(chan struct{}), stop: make(chan struct{})}
	files := http.FileServer(http.Dir("../../web/static"))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(streamPage))
	})
	mux.Handle("GET /widget.js", files)
	mux.Handle("GET /widget.css", files)
	mux.HandleFunc("GET /ws/chat", f.serveWS)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", streamCSP)
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		close(f.stop)
		f.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, e := range f.errs {
			t.Errorf("fake server: %s", e)
		}
	})
	return f
}

// errorf records a failure of the script, which runs on the server's
// goroutines; the test reports it when it ends.
func (f *fakeChat) errorf(format string, args ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// fakeConn is one widget connection as the script sees it.
type fakeConn struct {
	f    *fakeChat
	ws   *websocket.Conn
	in   chan map[string]any
	done chan struct{} // closed when the socket is gone
	lang string        // the lang the widget asked for, as the real server honours it
}

func (f *fakeChat) serveWS(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{} // same-origin only, as the real server
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	f.mu.Lock()
	f.conns++
	n := f.conns
	f.mu.Unlock()
	c := &fakeConn{f: f, ws: ws, in: make(chan map[string]any, 64), done: make(chan struct{}), lang: r.URL.Query().Get("lang")}
	go func() { // the only reader; ends when the socket closes
		defer close(c.done)
		for {
			var fr map[string]any
			if err := ws.ReadJSON(&fr); err != nil {
				return
			}
			f.mu.Lock()
			f.frames = append(f.frames, fr)
			f.mu.Unlock()
			select {
			case c.in <- fr:
			default:
			}
		}
	}()
	f.script(c, n)
	<-c.done
}

// send writes one frame; the script is the connection's only writer.
func (c *fakeConn) send(fr map[string]any) {
	if err := c.ws.WriteJSON(fr); err != nil {
		c.f.errorf("send %v: %v", fr["type"], err)
	}
}

// expect returns the next frame of type typ the widget sends, skipping
// others, or nil when none comes within waitFor.
func (c *fakeConn) expect(typ string) map[string]any {
	timeout := time.After(waitFor)
	for {
		select {
		case fr := <-c.in:
			if fr["type"] == typ {
				return fr
			}
		case <-c.done:
			c.f.errorf("the socket closed while waiting for a %s frame", typ)
			return nil
		case <-timeout:
			c.f.errorf("no %s frame from the widget", typ)
			return nil
		case <-c.f.stop:
			return nil
		}
	}
}

// pause stops the script at a named step until the test calls resume.
func (c *fakeConn) pause(step string) {
	select {
	case c.f.paused <- step:
	case <-c.f.stop:
		return
	}
	select {
	case <-c.f.release:
	case <-c.f.stop:
	}
}

// reached waits until the script pauses at step.
func (f *fakeChat) reached(step string) {
	f.t.Helper()
	select {
	case got := <-f.paused:
		if got != step {
			f.t.Fatalf("the fake server paused at %q, want %q", got, step)
		}
	case <-time.After(waitFor):
		f.t.Fatalf("the fake server never paused at %q", step)
	}
}

func (f *fakeChat) resume() { f.release <- struct{}{} }

// sent returns the frames of type typ the widget sent so far.
func (f *fakeChat) sent(typ string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, fr := range f.frames {
		if fr["type"] == typ {
			out = append(out, fr)
		}
	}
	return out
}

func (f *fakeChat) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// msg makes a stored message frame.
func msg(id string, seq int, role, text string) map[string]any {
	return map[string]any{"type": "message", "id": id, "seq": seq, "role": role, "text": text,
		"sources": []any{}, "cards": []any{}, "suggestions": []any{}, "created_at": time.Now().UTC().Format(time.RFC3339)}
}

func returnCard(status, statusText, returnID string) map[string]any {
	return map[string]any{"kind": "return", "proposal_id": "p_42", "order_id": "XE2026051388",
		"status": status, "status_text": statusText,
		"items":        []any{map[string]any{"name": "Wireless earbuds", "qty": 1}},
		"return_until": "2026-05-20", "reason": "Changed my mind", "return_id": returnID}
}

func TestBrowserStream(t *testing.T) {
	browser := startBrowser(t)

	const (
		question = "Can I return my earbuds?"
		chunk1   = "You can return "
		chunk2   = "the earbuds within 7 days[1]. "
		chunk3   = "I have prepared the request."
		// The final text is authoritative: the citation marker is gone and
		// the wording differs from the chunks.
		final      = "You can return the earbuds within **7 days**. Please confirm the return below."
		finalShown = "You can return the earbuds within 7 days. Please confirm the return below."
		question2  = "And the refund?"
	)

	// The conversation as the fake server stores it, for replays.
	var (
		mu      sync.Mutex
		history []map[string]any
	)
	store := func(fr map[string]any) map[string]any {
		mu.Lock()
		history = append(history, fr)
		mu.Unlock()
		return fr
	}
	replay := func(c *fakeConn, after int) {
		mu.Lock()
		h := slices.Clone(history)
		mu.Unlock()
		for _, fr := range h {
			if fr["seq"].(int) > after {
				c.send(fr)
			}
		}
	}
	hello := func(c *fakeConn, lastSeq int) {
		// Like the real server: the language the widget asked for, else en.
		lang := c.lang
		if lang != "zh" {
			lang = "en"
		}
		c.send(map[string]any{"type": "hello", "conversation": "c_stream", "last_seq": lastSeq, "shopper": nil, "lang": lang})
	}
	shopperMsg := func(c *fakeConn, seq int) {
		m := c.expect("message")
		if m == nil {
			return
		}
		cid, _ := m["client_id"].(string)
		c.send(map[string]any{"type": "ack", "client_id": cid, "seq": seq})
		text, _ := m["text"].(string)
		s := msg(fmt.Sprintf("m_s%d", seq), seq, "shopper", text)
		s["client_id"] = cid
		c.send(store(s))
		c.send(map[string]any{"type": "typing", "role": "bot"})
	}

	f := newFakeChat(t, func(c *fakeConn, n int) {
		switch n {
		case 1: // a streamed reply, then the shopper confirms the return
			hello(c, 0)
			shopperMsg(c, 1)
			c.pause("first delta")
			c.send(map[string]any{"type": "delta", "id": "m_b1", "text": chunk1})
			c.pause("more deltas")
			for _, ch := range []string{chunk2, chunk3} {
				time.Sleep(150 * time.Millisecond)
				c.send(map[string]any{"type": "delta", "id": "m_b1", "text": ch})
			}
			time.Sleep(150 * time.Millisecond)
			b := msg("m_b1", 2, "bot", final)
			b["reply_to"] = "x"
			b["intent"] = "faq"
			b["cards"] = []any{returnCard("proposed", "Awaiting confirmation", "")}
			b["sources"] = []any{map[string]any{"id": "returns-7day", "title": "7-day no-reason returns"}}
			c.send(store(b))
			// A late chunk of a finished message is ignored.
			c.send(map[string]any{"type": "delta", "id": "m_b1", "text": " STALE"})
			if c.expect("return_confirm") == nil {
				return
			}
			c.pause("confirmed")
			d := msg("m_b2", 3, "bot", "Your return is submitted.")
			d["cards"] = []any{returnCard("confirmed", "Submitted", "r_7781")}
			c.send(store(d))
		case 2: // the reload: the whole conversation is replayed
			hello(c, 3)
			replay(c, 0)
			// A reply that is cut off: a system message of another id
			// arrives while it streams, then the socket drops.
			shopperMsg(c, 4)
			c.send(map[string]any{"type": "delta", "id": "m_b3", "text": "Partial ans"})
			c.send(store(msg("m_y1", 5, "system", "An agent will join shortly.")))
			c.pause("cut")
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "restart"), time.Now().Add(time.Second))
			c.ws.Close()
		case 3: // the reconnect: the stored reply comes as a replay
			hello(c, 6)
			store(msg("m_b3", 6, "bot", "The refund takes 3 days."))
			c.pause("replay")
			replay(c, 5)
		case 4: // setLang reconnects; then streams joined midway or with a gap
			hello(c, 6)
			c.pause("numbered")
			c.send(map[string]any{"type": "delta", "id": "m_b4", "n": 3, "text": "…joined midway"})
			c.send(map[string]any{"type": "delta", "id": "m_b5", "n": 0, "text": "Fresh start"})
			c.send(map[string]any{"type": "delta", "id": "m_b5", "n": 2, "text": " AFTER A GAP"})
			c.send(map[string]any{"type": "delta", "id": "m_b5", "n": 3, "text": " MORE"})
			c.send(map[string]any{"type": "delta", "id": "m_b6", "n": 0, "text": "Last"})
		}
	})

	tb := newTab(t, browser)
	tb.do("open the page", chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.ID("xiaoer-panel")))
	tb.waitUntil("the widget is online", `!!document.querySelector('.xiaoer-conn-online')`)
	tb.ask(question)

	// 1. typing: the indicator shows, with its label, and no bot bubble yet.
	f.reached("first delta")
	tb.waitUntil("the shopper message is stored", `!!document.querySelector('.xiaoer-msg-shopper.xiaoer-sent[data-seq="1"]')`)
	typing := eval[map[string]any](tb, `(function(){var e=document.querySelector('.xiaoer-typing');var r=e.getBoundingClientRect();
return {on:e.classList.contains('xiaoer-typing-on'),h:r.height,label:e.querySelector('.xiaoer-typing-label').textContent,
hidden:e.getAttribute('aria-hidden')||'',bots:document.querySelectorAll('.xiaoer-msg-bot').length}})()`)
	if typing["on"] != true || typing["h"].(float64) <= 0 || typing["label"] != "Xiaoer is typing…" || typing["hidden"] != "" || typing["bots"].(float64) != 0 {
		t.Errorf("before the first delta: typing indicator %v, want shown, labelled \"Xiaoer is typing…\", not aria-hidden, and no bot bubble", typing)
	}

	// 2. The first delta: a streaming bubble with the partial text only.
	f.resume()
	f.reached("more deltas")
	tb.waitUntil("the first chunk shows", `!!document.querySelector('.xiaoer-msg-bot.xiaoer-streaming')`)
	partial := eval[map[string]any](tb, `(function(){var b=document.querySelector('.xiaoer-msg-bot.xiaoer-streaming');
return {text:b.querySelector('.xiaoer-bubble .xiaoer-text').textContent,id:b.getAttribute('data-id'),hidden:b.getAttribute('aria-hidden')||'',
typing:document.querySelector('.xiaoer-typing').classList.contains('xiaoer-typing-on'),
caret:getComputedStyle(b.querySelector('.xiaoer-text'),'::after').content}})()`)
	streamShot(tb, "stream-partial")
	if partial["text"] != chunk1 || partial["id"] != "m_b1" {
		t.Errorf("after the first delta the bubble is %v, want the text %q only, data-id m_b1", partial, chunk1)
	}
	if partial["hidden"] != "true" || partial["typing"] != false || partial["caret"] == "none" {
		t.Errorf("after the first delta: %v, want the bubble aria-hidden, the typing indicator gone, a caret", partial)
	}

	// 3. The rest streams, then the final message replaces the bubble.
	f.resume()
	tb.waitUntil("the final message", `!!document.querySelector('.xiaoer-msg-bot[data-seq="2"]')`)
	tb.waitUntil("the return card", `!!document.querySelector('.xiaoer-card-return .xiaoer-return-confirm')`)
	got := eval[map[string]any](tb, `(function(){var bs=document.querySelectorAll('.xiaoer-list .xiaoer-msg-bot');var b=bs[bs.length-1];
var card=b.querySelector('.xiaoer-card-return');
return {bots:bs.length,streaming:document.querySelectorAll('.xiaoer-streaming').length,text:b.querySelector('.xiaoer-bubble .xiaoer-text').textContent,
strong:(b.querySelector('.xiaoer-bubble strong')||{}).textContent||'',hidden:b.getAttribute('aria-hidden')||'',
source:b.querySelector('.xiaoer-source').textContent,sourceID:b.querySelector('.xiaoer-source').getAttribute('data-source-id'),
feedback:b.querySelectorAll('.xiaoer-fb').length,
order:card.querySelector('.xiaoer-order-id').textContent,items:card.querySelector('.xiaoer-card-items').textContent,
window:card.querySelector('.xiaoer-return-window').textContent,reason:card.querySelector('.xiaoer-return-reason').textContent,
status:card.querySelector('.xiaoer-return-status').textContent,hint:card.querySelector('.xiaoer-return-hint').textContent,
buttons:Array.prototype.map.call(card.querySelectorAll('button'),function(x){return x.textContent+(x.disabled?' (disabled)':'')}).join('|')}})()`)
	want := map[string]any{"bots": 1.0, "streaming": 0.0, "text": finalShown, "strong": "7 days", "hidden": "",
		"source": "7-day no-reason returns", "sourceID": "returns-7day", "feedback": 2.0,
		"order": "XE2026051388", "items": "Wireless earbuds× 1", "window": "Return window ends 2026-05-20",
		"reason": "ReasonChanged my mind", "status": "Awaiting confirmation", "hint": "Nothing is submitted until you confirm",
		"buttons": "Confirm return|Cancel"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("final message: %s = %#v, want %#v", k, got[k], v)
		}
	}

	streamShot(tb, "stream-proposed")

	// 4. Confirm: the frame goes out with the proposal id, the card waits.
	tb.do("confirm the return", chromedp.Click(chromedp.CSS(".xiaoer-card-return .xiaoer-return-confirm")))
	f.reached("confirmed")
	if rc := f.sent("return_confirm"); len(rc) != 1 || rc[0]["proposal_id"] != "p_42" {
		t.Errorf("the widget sent return_confirm frames %v, want one for p_42", rc)
	}
	if n := len(f.sent("return_cancel")); n != 0 {
		t.Errorf("the widget sent %d return_cancel frames, want none", n)
	}
	waiting := eval[map[string]any](tb, `(function(){var c=document.querySelector('.xiaoer-card-return');
return {pending:c.classList.contains('xiaoer-return-pending'),wait:c.querySelector('.xiaoer-return-wait').textContent,
enabled:c.querySelectorAll('button:not([disabled])').length,buttons:c.querySelectorAll('button').length}})()`)
	if waiting["pending"] != true || waiting["wait"] != "Submitting…" || waiting["enabled"].(float64) != 0 || waiting["buttons"].(float64) != 2 {
		t.Errorf("after pressing Confirm the card is %v, want pending, \"Submitting…\", both buttons disabled", waiting)
	}
	f.resume()

	// 5. The outcome: both cards of the proposal are final, no buttons.
	finalCards := `(function(){return Array.prototype.map.call(document.querySelectorAll('.xiaoer-list .xiaoer-card-return'),function(c){
var o=c.querySelector('.xiaoer-return-outcome');
return {pid:c.getAttribute('data-proposal-id'),status:c.querySelector('.xiaoer-return-status').textContent,
outcome:o?o.textContent:'',buttons:c.querySelectorAll('button').length,hint:!!c.querySelector('.xiaoer-return-hint'),pending:c.classList.contains('xiaoer-return-pending')}})})()`
	checkFinal := func(when string) {
		t.Helper()
		cards := eval[[]map[string]any](tb, finalCards)
		if len(cards) != 2 {
			t.Fatalf("%s: %d return cards, want 2: %v", when, len(cards), cards)
		}
		for i, c := range cards {
			if c["pid"] != "p_42" || c["status"] != "Submitted" || c["outcome"] != "Submitted, return no. r_7781" ||
				c["buttons"].(float64) != 0 || c["hint"] != false || c["pending"] != false {
				t.Errorf("%s: return card %d is %v, want final: submitted, return no. r_7781, no buttons", when, i+1, c)
			}
		}
	}
	tb.waitUntil("the confirmed card", `!!document.querySelector('.xiaoer-msg-bot[data-seq="3"] .xiaoer-return-outcome')`)
	checkFinal("live")
	streamShot(tb, "stream-confirmed")
	if text := eval[string](tb, `document.querySelector('.xiaoer-msg-bot[data-id="m_b1"]').textContent`); strings.Contains(text, "STALE") {
		t.Errorf("a delta after the final message was shown: %q", text)
	}
	tb.checkConsole()

	// 6. Reload: the replay shows the proposed card as final too.
	tb.do("reload", chromedp.Reload())
	tb.waitUntil("the replay", `!!document.querySelector('.xiaoer-msg-bot[data-seq="3"] .xiaoer-return-outcome')`)
	checkFinal("after the reload")
	if n := eval[int](tb, `document.querySelectorAll('.xiaoer-list .xiaoer-msg-bot').length`); n != 2 {
		t.Errorf("after the reload %d bot messages, want 2", n)
	}

	// 7. A reply cut off by a dropped socket: a message of another id
	// leaves the streamed bubble alone; the drop removes it; the replay
	// after the reconnect brings the stored message, once.
	tb.ask(question2)
	tb.waitUntil("the system message", `!!document.querySelector('.xiaoer-msg-system[data-seq="5"]')`)
	f.reached("cut")
	open := eval[string](tb, `(function(){var b=document.querySelector('.xiaoer-msg-bot.xiaoer-streaming[data-id="m_b3"]');return b?b.querySelector('.xiaoer-text').textContent:''})()`)
	if open != "Partial ans" {
		t.Errorf("the streamed bubble after a message of another id is %q, want it kept with \"Partial ans\"", open)
	}
	f.resume()
	f.reached("replay")
	if f.connections() != 3 {
		t.Errorf("%d connections, want 3", f.connections())
	}
	if n := eval[int](tb, `document.querySelectorAll('.xiaoer-msg-bot[data-id="m_b3"], .xiaoer-streaming').length`); n != 0 {
		t.Errorf("after the reconnect %d unfinished streamed bubbles remain, want none", n)
	}
	f.resume()
	tb.waitUntil("the replayed reply", `!!document.querySelector('.xiaoer-msg-bot[data-id="m_b3"][data-seq="6"]')`)
	b3 := eval[[]string](tb, `Array.prototype.map.call(document.querySelectorAll('.xiaoer-msg-bot[data-id="m_b3"]'),function(b){return b.querySelector('.xiaoer-bubble .xiaoer-text').textContent})`)
	if !slices.Equal(b3, []string{"The refund takes 3 days."}) {
		t.Errorf("the replayed reply shows as %q, want one bubble with the stored text", b3)
	}

	// 8. The widget's own strings follow the language (the server's
	// status_text does not).
	tb.do("switch to Chinese", chromedp.Evaluate[chromedp.Void](`window.Xiaoer.setLang('zh')`))
	zh := eval[[]string](tb, `[document.querySelector('.xiaoer-typing-label').textContent,
document.querySelector('.xiaoer-msg-bot[data-seq="3"] .xiaoer-return-outcome').textContent,
document.querySelector('.xiaoer-msg-bot[data-seq="3"] .xiaoer-return-window').textContent]`)
	if !slices.Equal(zh, []string{"小二正在输入…", "已提交，退货单号 r_7781", "可在 2026-05-20 前申请"}) {
		t.Errorf("in Chinese the typing label, outcome and window read %q", zh)
	}

	// 9. Numbered deltas: a stream first seen at n > 0 is not shown; one
	// with a gap stops growing (the final message brings the whole text).
	f.reached("numbered")
	f.resume()
	tb.waitUntil("the last numbered stream", `!!document.querySelector('.xiaoer-streaming[data-id="m_b6"]')`)
	numbered := eval[[]string](tb, `[String(document.querySelectorAll('[data-id="m_b4"]').length),
(document.querySelector('.xiaoer-streaming[data-id="m_b5"] .xiaoer-stream-text')||{}).textContent||'']`)
	if !slices.Equal(numbered, []string{"0", "Fresh start"}) {
		t.Errorf("numbered deltas: %q bubbles of a stream joined at n=3 and m_b5 reads %q; want none, and the text before the gap only", numbered[0], numbered[1])
	}
	tb.checkConsole()

	b, _ := json.Marshal(f.sent("return_confirm"))
	t.Logf("return_confirm frames: %s", b)
}

// streamShot saves a screenshot of the viewport into $XIAOER_SCREENSHOTS,
// when set, for a person to look at.
func streamShot(tb *tab, name string) {
	tb.t.Helper()
	dir := os.Getenv("XIAOER_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatal(err)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("saved %s", file)
}
