package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// The browser tests drive the demo shop page and the chat widget in a real,
// headless Chromium against a real server, as a shopper would: they click,
// type and read what is on the screen.
//
// They skip when no Chromium is installed, except on CI (CI set), where a
// missing browser is a failure. Nothing here downloads a browser.
//
// XIAOER_SCREENSHOTS=DIR also saves screenshots (the viewport, and the full
// page) of a few conversations on a desktop, a laptop and a phone viewport
// into DIR, for a person to look at.

// waitFor bounds every wait on the page. A wait ends as soon as its condition
// holds; the bound only matters when the test fails.
const waitFor = 20 * time.Second

// findChromium returns the path of a Chromium or Chrome binary in PATH.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium, chromium-browser or google-chrome in PATH; CI must install one")
	}
	t.Skip("no chromium, chromium-browser or google-chrome in PATH; install Debian's chromium package to run the browser tests")
	return ""
}

// startBrowser starts one headless Chromium for the whole test and returns
// its context. It passes exactly the flags below, not chromedp's defaults, so
// that the browser makes no network request of its own; chromedp adds only
// --remote-debugging-pipe and the first page, about:blank.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := findChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	}
	// A loaded machine occasionally sees Chromium exit during start-up
	// ("chrome failed to start"); a second attempt with a fresh profile
	// starts it.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			append(opts, chromedp.UserDataDir(t.TempDir()))...)
		ctx, cancel := chromedp.NewContext(allocCtx)
		// The first Do starts the browser; its life is bound to ctx, which has no deadline.
		if err = chromedp.Do(ctx); err == nil {
			t.Cleanup(func() {
				cancel()
				cancelAlloc()
			})
			return ctx
		}
		cancel()
		cancelAlloc()
		t.Logf("start %s (attempt %d): %v", path, attempt+1, err)
	}
	t.Fatalf("start %s: %v", path, err)
	return nil
}

// tab is one browser tab in a browser context of its own (its own storage
// and cookies), with a record of what the page reported on its console.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string // JS exceptions, console errors and warnings, CSP violations
	requests []string // every URL the page requested
}

// newTab opens a tab with a desktop viewport. The tab closes when the test ends.
func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx}
	// The listener runs on the tab's reader goroutine: it only records.
	err := chromedp.Listen(ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			tb.problems = append(tb.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					if a.Description != "" {
						parts = append(parts, a.Description)
					} else {
						parts = append(parts, string(a.Value))
					}
				}
				tb.problems = append(tb.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
			}
		case *log.EventEntryAdded:
			// CSP violations and failed loads are reported here.
			if e := ev.Entry; e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning {
				tb.problems = append(tb.problems, fmt.Sprintf("%s %s: %s %s", e.Source, e.Level, e.Text, e.URL))
			}
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, ev.Request.URL)
		}
	})
	if err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	// Report CSP violations on the console too, where the listener sees them.
	tb.onNewDocument(`document.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});`)
	tb.do("set the desktop viewport", chromedp.EmulateViewport(1280, 800))
	return tb
}

// onNewDocument runs a script in every document the tab loads from now on,
// before the page's own scripts. It is the test's, so the page's CSP does not apply.
func (tb *tab) onNewDocument(script string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitFor)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		tb.t.Fatalf("add a script to the tab: %v", err)
	}
}

// do runs actions that return nothing, bounded by waitFor.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitFor)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v%s", what, err, tb.report())
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitFor)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v%s", expr, err, tb.report())
	}
	return v
}

// waitUntil waits until the JavaScript expression is truthy, checking it
// every 100 ms, for at most waitFor.
func (tb *tab) waitUntil(what, expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitFor)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		tb.t.Fatalf("waiting until %s: %v%s", what, err, tb.report())
	}
}

// report describes the page's state for a failure message.
func (tb *tab) report() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	list, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(function(){var l=document.querySelector('.xiaoer-list');return l?l.innerText:'(no message list)'})()`))
	if err != nil {
		list = "(unreadable: " + err.Error() + ")"
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return fmt.Sprintf("\nmessage list:\n%s\nconsole problems:\n%s", list, strings.Join(tb.problems, "\n"))
}

// checkConsole fails the test for any JS exception, console error or CSP
// violation the page reported.
func (tb *tab) checkConsole() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Errorf("the page reported: %s", p)
	}
}

// ask types a question into the open widget and sends it with the send button.
func (tb *tab) ask(q string) {
	tb.t.Helper()
	tb.do("ask "+q,
		chromedp.WaitVisible(chromedp.ID("xiaoer-input")),
		chromedp.SendKeys(chromedp.ID("xiaoer-input"), q),
		chromedp.Click(chromedp.ID("xiaoer-send")),
	)
}

// js quotes a Go string as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// lastBot is a JS expression for the newest bot message element, or null.
const lastBot = `(function(){var m=document.querySelectorAll('.xiaoer-list .xiaoer-msg.xiaoer-msg-bot');return m.length?m[m.length-1]:null})()`

// botReplyTo is a JS expression that is true once a bot message follows the
// shopper message with the text q.
func botReplyTo(q string) string { return replyTo(q, ".xiaoer-msg-bot") }

// replyTo is a JS expression that is true once a message matching the CSS
// selector reply follows the (sent) shopper message with the text q.
func replyTo(q, reply string) string {
	return `(function(){var all=document.querySelectorAll('.xiaoer-list .xiaoer-msg');var seen=false;
for(var i=0;i<all.length;i++){var m=all[i];
if(m.classList.contains('xiaoer-msg-shopper')&&!m.classList.contains('xiaoer-pending')&&m.textContent.indexOf(` + js(q) + `)>=0)seen=true;
else if(seen&&m.matches(` + js(reply) + `))return true;}
return false})()`
}

// demoOrderIDs reads the ids of a demo shopper's orders from the demo data
// the server loads (demo/shop.json).
func demoOrderIDs(t *testing.T, shopper string) []string {
	t.Helper()
	var f struct {
		Orders []struct {
			ID      string `json:"id"`
			Shopper string `json:"shopper"`
		} `json:"orders"`
	}
	if err := json.Unmarshal(demoShop, &f); err != nil {
		t.Fatalf("demo/shop.json: %v", err)
	}
	var ids []string
	for _, o := range f.Orders {
		if o.Shopper == shopper {
			ids = append(ids, o.ID)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("demo/shop.json has no orders of %s", shopper)
	}
	return ids
}

// demoFAQQuestion returns the question of a demo FAQ entry by id.
func demoFAQQuestion(t *testing.T, id string) string {
	t.Helper()
	var entries []struct {
		ID       string `json:"id"`
		Question string `json:"question"`
	}
	if err := json.Unmarshal(demoFAQ, &entries); err != nil {
		t.Fatalf("demo/faq.json: %v", err)
	}
	for _, e := range entries {
		if e.ID == id {
			return e.Question
		}
	}
	t.Fatalf("demo/faq.json has no entry %q", id)
	return ""
}

func TestBrowserWidget(t *testing.T) {
	browser := startBrowser(t)

	t.Run("shopper", func(t *testing.T) {
		srv := startServer(t, t.TempDir(), "--demo")
		tb := newTab(t, browser)
		defer func() {
			if t.Failed() {
				t.Logf("server logs:\n%s", srv.Logs)
			}
		}()

		// 1. A visitor opens the shop, opens the chat and asks about returns.
		tb.do("open the demo page",
			chromedp.Navigate(srv.Base+"/"),
			chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
			chromedp.Click(chromedp.ID("xiaoer-launcher")),
			chromedp.WaitVisible(chromedp.ID("xiaoer-panel")),
		)
		const faqQ = "如何申请七天无理由退货"
		tb.ask(faqQ)
		tb.waitUntil("the bot answers with a source", `(function(){var b=`+lastBot+`;return !!(b&&b.querySelector('.xiaoer-source'))})()`)
		answer := eval[string](tb, `(function(){var b=`+lastBot+`;return b.querySelector('.xiaoer-bubble .xiaoer-text').textContent})()`)
		if strings.TrimSpace(answer) == "" {
			t.Errorf("the bot's answer to %q is empty", faqQ)
		}
		src := eval[map[string]string](tb, `(function(){var s=`+lastBot+`.querySelector('.xiaoer-source');
return {id:s.getAttribute('data-source-id')||'',title:s.textContent,visible:String(s.getBoundingClientRect().width>0)}})()`)
		if src["id"] == "" {
			t.Fatalf("the source has no id: %v", src)
		}
		if want := demoFAQQuestion(t, src["id"]); src["title"] != want || src["visible"] != "true" {
			t.Errorf("source shown = %q (visible %s), want the FAQ question %q", src["title"], src["visible"], want)
		}
		if !strings.Contains(answer, "7天") {
			t.Errorf("the answer to %q does not look like the 7-day return policy: %q", faqQ, answer)
		}

		// 2. The shopper signs in as demo-cn and asks where the order is.
		tb.do("chat as demo-cn",
			chromedp.Click(chromedp.ID("as-demo-cn")),
			chromedp.WaitVisible(chromedp.CSS(`#as-demo-cn[aria-pressed="true"]`)),
		)
		// Signed in, the widget offers the privacy menu; without consent
		// to personalised replies its greeting does not use her name.
		tb.waitUntil("the widget is online as demo-cn",
			`!!document.querySelector('.xiaoer-conn-online') && !document.querySelector('.xiaoer-menu-btn').hidden && !!document.querySelector('.xiaoer-greeting')`)
		if got := eval[bool](tb, `document.querySelector('.xiaoer-list').textContent.indexOf('林小雨')>=0`); got {
			t.Errorf("the widget greets demo-cn by name before she consented to personalised replies")
		}
		if got := eval[bool](tb, `document.querySelector('.xiaoer-list').textContent.indexOf(`+js(faqQ)+`)>=0`); got {
			t.Errorf("the visitor's conversation is still shown after signing in as demo-cn")
		}
		const orderQ = "我的订单到哪了"
		tb.ask(orderQ)
		tb.waitUntil("the bot answers with order cards", botReplyTo(orderQ)+`&&!!(`+lastBot+`.querySelector('.xiaoer-card-order'))`)
		mine := demoOrderIDs(t, "demo-cn")
		cards := eval[[]string](tb, `Array.prototype.map.call(`+lastBot+`.querySelectorAll('.xiaoer-card-order .xiaoer-order-id'),function(e){return e.textContent})`)
		if len(cards) == 0 {
			t.Fatal("no order card shows an order id")
		}
		for _, id := range cards {
			if !slices.Contains(mine, id) {
				t.Errorf("order card %q is not an order of demo-cn (%v)", id, mine)
			}
		}
		// The reply lists one order per line, and the lines are shown as lines.
		lines := eval[string](tb, lastBot+`.querySelector('.xiaoer-bubble .xiaoer-text').innerText`)
		if n := strings.Count(strings.TrimSpace(lines), "\n"); n < len(cards) {
			t.Errorf("the order reply is shown on %d lines, want an intro and one line per order (%d):\n%s", n+1, len(cards)+1, lines)
		}

		// 3. After a reload the conversation comes back from the server. The
		// visitor's conversation must not show, not even while the page loads.
		tb.onNewDocument(`new MutationObserver(function () {
  var l = document.querySelector('.xiaoer-list');
  if (l && l.textContent.indexOf(` + js(faqQ) + `) >= 0) window.__sawVisitor = true;
}).observe(document, {childList: true, subtree: true, characterData: true});`)
		tb.do("reload the page", chromedp.Reload())
		tb.waitUntil("the demo-cn conversation is replayed",
			`(function(){var l=document.querySelector('.xiaoer-list');if(!l)return false;
var shopper=Array.prototype.some.call(l.querySelectorAll('.xiaoer-msg-shopper'),function(m){return m.textContent.indexOf(`+js(orderQ)+`)>=0});
return shopper&&l.querySelectorAll('.xiaoer-card-order').length===`+fmt.Sprint(len(cards))+`&&l.textContent.indexOf(`+js(faqQ)+`)<0})()`)
		again := eval[[]string](tb, `Array.prototype.map.call(document.querySelectorAll('.xiaoer-list .xiaoer-card-order .xiaoer-order-id'),function(e){return e.textContent})`)
		if !slices.Equal(again, cards) {
			t.Errorf("after reload the cards show %v, want %v", again, cards)
		}
		if saw := eval[bool](tb, `!!window.__sawVisitor`); saw {
			t.Errorf("after the reload the visitor's conversation was shown before demo-cn's")
		}
		if open := eval[bool](tb, `document.getElementById('xiaoer-panel').getBoundingClientRect().width>0`); !open {
			t.Errorf("the chat panel is closed after the reload; it was open")
		}
		tb.checkConsole()
	})

	t.Run("answer is text", func(t *testing.T) {
		dir := t.TempDir()
		const q = "礼品卡可以退吗"
		evil := `礼品卡售出后不退。<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> ![x](http://127.0.0.1:1/leak.png)`
		entries := []map[string]any{{
			"id": "evil-1", "locale": "zh-CN", "question": q,
			"alternates": []string{"礼品卡能退款吗"}, "answer": evil, "category": "payment",
		}}
		data, err := json.Marshal(entries)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "evil.json")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, errOut, err := xiaoer(t, "kb", "import", "--data", dir, file); err != nil {
			t.Fatalf("kb import: %v\n%s\n%s", err, out, errOut)
		}
		srv := startServer(t, dir)
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
		)
		tb.ask(q)
		tb.waitUntil("the bot answers", botReplyTo(q))
		// The import made the answer safe content (HTML removed, the
		// image kept as text); the widget shows what is left as text.
		clean, _ := knowledge.Sanitize(knowledge.Entry{ID: "evil-1", Question: q, Answer: evil})
		shown := eval[string](tb, lastBot+`.querySelector('.xiaoer-bubble .xiaoer-text').textContent`)
		if shown != clean.Answer || strings.Contains(shown, "onerror") || !strings.Contains(shown, "![x](http://127.0.0.1:1/leak.png)") {
			t.Errorf("the answer is shown as\n%q\nwant the cleaned answer as text\n%q", shown, clean.Answer)
		}
		if n := eval[int](tb, `document.querySelectorAll('.xiaoer-list img, .xiaoer-list script, .xiaoer-list iframe, .xiaoer-list [onerror]').length`); n != 0 {
			t.Errorf("the message list holds %d img/script/iframe/onerror elements, want none", n)
		}
		if got := eval[string](tb, `typeof window.__pwned`); got != "undefined" {
			t.Errorf("window.__pwned is %s: the answer ran as code", got)
		}
		tb.mu.Lock()
		for _, u := range tb.requests {
			if strings.Contains(u, "leak.png") || strings.HasSuffix(u, "/x") {
				t.Errorf("the page requested %s from the answer's markup", u)
			}
		}
		tb.mu.Unlock()
		tb.checkConsole()
	})

	if dir := os.Getenv("XIAOER_SCREENSHOTS"); dir != "" {
		t.Run("screenshots", func(t *testing.T) { screenshots(t, browser, dir) })
	}
}

// screenshots saves screenshots of the demo page with a few conversations,
// on a desktop, a phone and a laptop viewport, for a person to review.
func screenshots(t *testing.T, browser context.Context, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, t.TempDir(), "--demo")
	viewports := []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"desktop", 1280, 800, false},
		{"phone", 390, 844, true},
		{"laptop", 1024, 700, false},
	}
	scenes := []struct {
		name string
		as   string // identity button id
		asks []string
	}{
		{"faq", "as-visitor", []string{"如何申请七天无理由退货", "运费怎么算"}},
		{"orders-cn", "as-demo-cn", []string{"我的订单到哪了"}},
		{"orders-en", "as-demo-en", []string{"Where is my order?", "How long does shipping take?"}},
		{"handoff-cn", "as-demo-cn", []string{"转人工"}},
	}
	for _, vp := range viewports {
		for _, sc := range scenes {
			t.Run(vp.name+"-"+sc.name, func(t *testing.T) {
				tb := newTab(t, browser)
				var vopts []chromedp.EmulateViewportOption
				if vp.mobile {
					vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
				}
				tb.do("open the page",
					chromedp.EmulateViewport(vp.width, vp.height, vopts...),
					chromedp.Navigate(srv.Base+"/"),
					chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
					chromedp.Click(chromedp.ID(sc.as)),
					chromedp.WaitVisible(chromedp.CSS("#"+sc.as+`[aria-pressed="true"]`)),
					chromedp.Click(chromedp.ID("xiaoer-launcher")),
				)
				tb.waitUntil("online", `!!document.querySelector('.xiaoer-conn-online')`)
				for _, q := range sc.asks {
					tb.ask(q)
					tb.waitUntil("the bot answers "+q, replyTo(q, ".xiaoer-msg-bot, .xiaoer-msg-system"))
				}
				shots := []struct {
					suffix string
					shot   chromedp.Action[[]byte]
				}{
					{"-view", chromedp.CaptureScreenshot()},
					{"", chromedp.FullScreenshot(100)},
				}
				for _, s := range shots {
					png, err := chromedp.Run(tb.ctx, s.shot)
					if err != nil {
						t.Fatal(err)
					}
					name := filepath.Join(dir, vp.name+"-"+sc.name+s.suffix+".png")
					if err := os.WriteFile(name, png, 0o644); err != nil {
						t.Fatal(err)
					}
					t.Logf("saved %s", name)
				}
				tb.checkConsole()
			})
		}
	}
}
