package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// TestBrowserWidgetResendsAfterRestart: the server restarts while the
// shopper types. The widget keeps the message it could not send, resends it
// once the server is back, and the shopper sees it sent and answered once;
// after a reload (the conversation replayed from the server) still once.
func TestBrowserWidgetResendsAfterRestart(t *testing.T) {
	browser := startBrowser(t)
	dir, addr := t.TempDir(), freeAddr(t)
	base := "http://" + addr
	stop := serveAt(t, dir, addr)
	tb := newTab(t, browser)
	tb.do("open the demo page",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
		chromedp.Click(chromedp.ID("xiaoer-launcher")),
		chromedp.WaitVisible(chromedp.ID("xiaoer-panel")),
	)
	const first, offline = "如何申请七天无理由退货", "发票怎么开"
	tb.ask(first)
	tb.waitUntil("the first answer", botReplyTo(first))

	stop() // closes the socket with 1001: the widget starts reconnecting
	tb.waitUntil("the widget notices", `!document.querySelector('.xiaoer-conn-online')`)
	tb.ask(offline)
	tb.waitUntil("the message waits", `(function(){var m=document.querySelectorAll('.xiaoer-msg-shopper.xiaoer-pending');
return m.length===1&&m[0].textContent.indexOf(`+js(offline)+`)>=0})()`)

	serveAt(t, dir, addr)
	tb.waitUntil("sent and answered after the restart", botReplyTo(offline))
	count := `(function(){var n=0,r=0,seen=false,all=document.querySelectorAll('.xiaoer-list .xiaoer-msg');
for(var i=0;i<all.length;i++){var m=all[i];
if(m.classList.contains('xiaoer-msg-shopper')){seen=m.textContent.indexOf(` + js(offline) + `)>=0;if(seen)n++;}
else if(seen&&m.classList.contains('xiaoer-msg-bot'))r++;}
return n+' '+r})()`
	if got := eval[string](tb, count); got != "1 1" {
		t.Errorf("the message shows %s times, answered %s times (\"shown answered\"), want \"1 1\"", got[:1], got[2:])
	}
	tb.do("reload the page", chromedp.Reload())
	tb.waitUntil("the conversation is replayed", botReplyTo(offline))
	if got := eval[string](tb, count); got != "1 1" {
		t.Errorf("after a reload the message shows and is answered %q times, want \"1 1\": stored twice", got)
	}
	// While the server was down the widget's reconnects were refused.
	tb.checkConsoleExcept(regexp.MustCompile(`ERR_CONNECTION_REFUSED`))
}

// serveAt runs `xiaoer serve --demo` on addr (the same one across
// restarts, so the widget can reconnect) until the returned stop is called
// or the test ends.
func serveAt(t *testing.T, dir, addr string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	getenv := func(k string) string { return map[string]string{"XIAOER_BCRYPT_COST": "4"}[k] }
	// Owned by the test: exits when stop cancels ctx.
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", addr, "--data", dir}, getenv, logs, logs)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v\n%s", err, logs)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("the server did not stop within 20 s")
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no healthy server at %s within 30 s\n%s", addr, logs)
		}
	}
}

// TestBrowserWidgetResendsUnansweredAfterReconnect: the server stored and
// acknowledged the shopper's message, then died before answering it (a
// crash between the ack and the reply). After reconnecting, the widget
// sends the message again with the same client_id, so the server, which
// stores each client_id once, can answer it; a message already answered is
// not sent again. The server here is scripted (the real widget, a scripted
// protocol-v1 peer), because a real one cannot be made to die at exactly
// that moment from inside a test.
func TestBrowserWidgetResendsUnansweredAfterReconnect(t *testing.T) {
	type frame struct {
		Type     string `json:"type"`
		ClientID string `json:"client_id"`
		Text     string `json:"text"`
	}
	sent := make(chan frame, 16)       // shopper messages, in the order the server got them
	connects := make(chan struct{}, 8) // one per socket opened
	var mu sync.Mutex
	socket := 0
	srv := scriptedWidgetServer(t, "en", func(ws *websocket.Conn) {
		mu.Lock()
		socket++
		n := socket
		mu.Unlock()
		connects <- struct{}{}
		seq := map[int]int{1: 0, 2: 2}[n]
		ws.WriteJSON(map[string]any{"type": "hello", "conversation": "c_1", "last_seq": seq, "lang": "en"})
		for {
			var f frame
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if f.Type != "message" {
				continue
			}
			sent <- f
			switch {
			case n == 1 && f.Text == "answered question":
				seq++
				ws.WriteJSON(map[string]any{"type": "ack", "client_id": f.ClientID, "seq": seq})
				seq++
				ws.WriteJSON(map[string]any{"type": "message", "id": "m_a", "seq": seq, "role": "bot", "text": "the first answer", "reply_to": f.ClientID})
			case n == 1:
				// Stored and acknowledged, then the server dies before it answers.
				seq++
				ws.WriteJSON(map[string]any{"type": "ack", "client_id": f.ClientID, "seq": seq})
				time.Sleep(200 * time.Millisecond)
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseServiceRestart, ""), time.Now().Add(time.Second))
				return
			default:
				// Back up: the resend is acknowledged again and answered now.
				ws.WriteJSON(map[string]any{"type": "ack", "client_id": f.ClientID, "seq": 3})
				ws.WriteJSON(map[string]any{"type": "message", "id": "m_b", "seq": 4, "role": "bot", "text": "the late answer", "reply_to": f.ClientID})
			}
		}
	})

	browser := startBrowser(t)
	tb := newTab(t, browser)
	tb.do("open the page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
		chromedp.Click(chromedp.ID("xiaoer-launcher")),
		chromedp.WaitVisible(chromedp.ID("xiaoer-panel")),
	)
	next := func(what string) frame {
		t.Helper()
		select {
		case f := <-sent:
			return f
		case <-time.After(20 * time.Second):
			t.Fatalf("the server got no %s", what)
			return frame{}
		}
	}
	tb.ask("answered question")
	answered := next("first message")
	tb.waitUntil("the first answer", botReplyTo("answered question"))
	tb.ask("unanswered question")
	first := next("second message")
	tb.waitUntil("the message shows as sent", `document.querySelectorAll('.xiaoer-msg-shopper.xiaoer-sent').length===2`)
	<-connects
	select {
	case <-connects:
	case <-time.After(30 * time.Second):
		t.Fatal("the widget did not reconnect")
	}
	again := next("resend after reconnecting")
	if again.ClientID != first.ClientID || again.Text != first.Text {
		t.Errorf("after reconnecting the widget sent %+v, want the unanswered message again with its client_id %+v", again, first)
	}
	if again.ClientID == answered.ClientID {
		t.Errorf("the widget sent the already answered message again")
	}
	tb.waitUntil("the late answer", botReplyTo("unanswered question"))
	select {
	case f := <-sent:
		t.Errorf("the widget sent %+v once more after the answer", f)
	case <-time.After(500 * time.Millisecond):
	}
	if got := eval[int](tb, `document.querySelectorAll('.xiaoer-msg-shopper').length`); got != 2 {
		t.Errorf("the shopper sees %d own messages, want 2 (the resend is silent)", got)
	}
	tb.checkConsole()
}

// TestBrowserWidgetTellsKnownErrorsInItsLanguage: under load the server
// refuses a message with "busy" (its text is English); a shopper reading
// the widget in Chinese is told in Chinese, and the message is offered for
// a retry.
func TestBrowserWidgetTellsKnownErrorsInItsLanguage(t *testing.T) {
	srv := scriptedWidgetServer(t, "zh-CN", func(ws *websocket.Conn) {
		ws.WriteJSON(map[string]any{"type": "hello", "conversation": "c_1", "last_seq": 0, "lang": "zh"})
		for {
			var f struct {
				Type     string `json:"type"`
				ClientID string `json:"client_id"`
			}
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if f.Type == "message" {
				ws.WriteJSON(map[string]any{"type": "error", "client_id": f.ClientID, "code": "busy",
					"message": "the assistant is busy; please send that again in a moment"})
			}
		}
	})

	tb := newTab(t, startBrowser(t))
	tb.do("open the page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
		chromedp.Click(chromedp.ID("xiaoer-launcher")),
		chromedp.WaitVisible(chromedp.ID("xiaoer-panel")),
	)
	tb.ask("运费怎么算")
	tb.waitUntil("the busy notice", `(function(){var e=document.querySelector('.xiaoer-error');return !!e&&e.textContent.indexOf('小二正忙')>=0})()`)
	if got := eval[string](tb, `document.querySelector('.xiaoer-error').textContent`); strings.Contains(got, "busy") {
		t.Errorf("the notice is %q: the server's English text, not the widget's Chinese", got)
	}
	tb.waitUntil("a retry is offered", `!!document.querySelector('.xiaoer-msg-shopper.xiaoer-failed .xiaoer-retry')`)
	tb.checkConsole()
}

// scriptedWidgetServer serves a page with the real widget (data-lang
// lang) and a chat socket that script plays, one call per connection, for
// moments a real server cannot be made to reach on cue.
func scriptedWidgetServer(t *testing.T, lang string, script func(ws *websocket.Conn)) *httptest.Server {
	t.Helper()
	widget, err := os.ReadFile(filepath.Join("..", "..", "web", "static", "widget.js"))
	if err != nil {
		t.Fatal(err)
	}
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><html><head><meta charset="utf-8"></head><body><script src="/widget.js" data-lang="`+lang+`"></script></body></html>`)
	})
	mux.HandleFunc("/widget.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(widget)
	})
	mux.HandleFunc("/ws/chat", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		script(ws)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
