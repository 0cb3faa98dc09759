package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	tb.checkConsole()
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
