package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// meGet calls the shopper's own API with their token.
func meGet(t *testing.T, base, tok, path string, out any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

// TestBrowserPrivacy: a signed-in shopper who talked to an agent turns
// personalised replies on in the widget's menu, downloads their data and
// deletes it; afterwards the widget shows an empty transcript and the
// agent's board nothing of them.
func TestBrowserPrivacy(t *testing.T) {
	browser := startBrowser(t)
	dir := t.TempDir()
	pw := addAgent(t, dir, "agent", "wang")
	srv := startServer(t, dir, "--demo")
	defer func() {
		if t.Failed() {
			t.Logf("server logs:\n%s", srv.Logs)
		}
	}()
	wang := signIn(t, srv, "wang", pw, true) // connected: online

	shopper := newTab(t, browser)
	shopper.openShop(srv.Base, "as-demo-cn")
	const human = "转人工"
	shopper.ask(human)
	shopper.waitUntil("the shopper is told about the handoff", replyTo(human, ".xiaoer-msg-system"))

	type board struct {
		Queue, Mine, Tickets []struct {
			Conversation string `json:"conversation"`
			ShopperID    string `json:"shopper_id"`
		}
	}
	theirs := func() []string {
		var b board
		if code := wang.do("GET", "/api/v1/console/board", nil, &b); code != 200 {
			t.Fatalf("board: %d", code)
		}
		var ids []string
		for _, l := range [][]struct {
			Conversation string `json:"conversation"`
			ShopperID    string `json:"shopper_id"`
		}{b.Queue, b.Mine, b.Tickets} {
			for _, c := range l {
				if c.ShopperID == "demo-cn" {
					ids = append(ids, c.Conversation)
				}
			}
		}
		return ids
	}
	cases := theirs()
	if len(cases) != 1 {
		t.Fatalf("demo-cn's cases on the board: %v, want one", cases)
	}
	tok := token(t, dir, "demo-cn")

	// 1. The menu: personalisation is off until switched on.
	shopper.do("open the menu", chromedp.Click(chromedp.CSS(".xiaoer-menu-btn")), chromedp.WaitVisible(chromedp.ID("xiaoer-menu")))
	shopper.waitUntil("the switch shows the stored value", `!document.querySelector('.xiaoer-switch').disabled`)
	if eval[bool](shopper, `document.querySelector('.xiaoer-switch').checked`) {
		t.Fatal("personalised replies are on before the shopper turned them on")
	}
	if help := eval[string](shopper, `document.querySelector('.xiaoer-switch-help').textContent`); !strings.Contains(help, "随时可以关闭") {
		t.Errorf("the switch is explained as %q", help)
	}
	shopper.do("switch personalised replies on", chromedp.Click(chromedp.CSS(".xiaoer-switch")))
	shopper.waitUntil("the choice is saved", `!document.querySelector('.xiaoer-switch').disabled&&document.querySelector('.xiaoer-switch').checked`)
	var st bot.ConsentState
	meGet(t, srv.Base, tok, "/api/v1/me/consent", &st)
	if !st.Personalize || len(st.History) != 1 || st.History[0].Source != "widget" {
		t.Errorf("consent after the switch: %+v", st)
	}

	// 2. Download: the widget fetches the export and saves it.
	shopper.do("download my data", chromedp.Click(chromedp.CSS(".xiaoer-download")))
	shopper.waitUntil("the download is done", `document.querySelector('.xiaoer-menu-status').textContent==='已下载您的数据。'`)
	var ex bot.DataExport
	meGet(t, srv.Base, tok, "/api/v1/me/data", &ex)
	if len(ex.DataRequests) != 2 || ex.DataRequests[0].Kind != bot.DataRequestExport {
		t.Errorf("data requests = %+v, want the widget's export then this one", ex.DataRequests)
	}
	var labels []string
	for _, c := range ex.Conversations {
		for _, m := range c.Messages {
			labels = append(labels, m.Label)
		}
	}
	if !strings.Contains(strings.Join(labels, "|"), "You") || len(ex.Conversations) == 0 || ex.Profile == nil {
		t.Errorf("export: %d conversations, labels %v, profile %v", len(ex.Conversations), labels, ex.Profile)
	}

	// 3. Delete, with a confirm step.
	shopper.do("ask to delete", chromedp.Click(chromedp.CSS(".xiaoer-delete")), chromedp.WaitVisible(chromedp.CSS(".xiaoer-delete-confirm")))
	shopper.do("confirm", chromedp.Click(chromedp.CSS(".xiaoer-delete-yes")))
	shopper.waitUntil("the transcript is cleared and the shopper told",
		`!!document.querySelector('.xiaoer-notice-deleted')&&document.querySelector('.xiaoer-list').textContent.indexOf(`+js(human)+`)<0`)
	shopper.waitUntil("the widget is online again", `!!document.querySelector('.xiaoer-conn-online')`)

	if left := theirs(); len(left) != 0 {
		t.Errorf("the board still shows demo-cn's cases %v", left)
	}
	if code := wang.do("GET", "/api/v1/console/conversations/"+cases[0], nil, nil); code != http.StatusNotFound {
		t.Errorf("the erased conversation in the console: %d, want 404", code)
	}
	ex = bot.DataExport{}
	meGet(t, srv.Base, tok, "/api/v1/me/data", &ex)
	if ex.ErasedAt.IsZero() || ex.Profile != nil || len(ex.Orders) != 0 || len(ex.Consents) != 0 {
		t.Errorf("export after erasure: %+v", ex)
	}
	for _, c := range ex.Conversations {
		if c.ID == cases[0] || len(c.Messages) > 0 {
			t.Errorf("export after erasure holds conversation %s with %d messages", c.ID, len(c.Messages))
		}
	}
	shopper.checkConsole()
}

// TestBrowserErasureElsewhere: a shopper's data is deleted from somewhere
// else (another tab or device, through the API) while the widget is open.
// The server closes the chat with code 4410; the widget clears the
// transcript, says so in the shopper's language and starts afresh, instead
// of reconnecting to the erased conversation with the old transcript.
func TestBrowserErasureElsewhere(t *testing.T) {
	browser := startBrowser(t)
	dir := t.TempDir()
	srv := startServer(t, dir, "--demo")
	defer func() {
		if t.Failed() {
			t.Logf("server logs:\n%s", srv.Logs)
		}
	}()
	// The language is chosen in the widget: after the erasure the
	// shopper's stored language is gone, and the widget would otherwise
	// follow the (English) test browser.
	for _, tc := range []struct{ as, shopper, lang, q, notice string }{
		{"as-demo-cn", "demo-cn", "zh", "退货政策是什么", "您的数据已删除。"},
		{"as-demo-en", "demo-en", "en", "what is your return policy", "Your data has been deleted."},
	} {
		tb := newTab(t, browser)
		tb.openShop(srv.Base, tc.as)
		eval[any](tb, `window.Xiaoer.setLang(`+js(tc.lang)+`)`)
		tb.waitUntil("the widget is online", `!!document.querySelector('.xiaoer-conn-online')`)
		tb.ask(tc.q)
		tb.waitUntil("the question is answered", replyTo(tc.q, ".xiaoer-msg-bot"))

		req, _ := http.NewRequest("DELETE", srv.Base+"/api/v1/me/data", strings.NewReader(`{"confirm":true}`))
		req.Header.Set("Authorization", "Bearer "+token(t, dir, tc.shopper))
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: erase: %d", tc.shopper, resp.StatusCode)
		}
		tb.waitUntil(tc.shopper+": the transcript is cleared and the shopper told",
			`(function(){var n=document.querySelector('.xiaoer-notice-deleted');return !!n&&n.textContent.indexOf(`+js(tc.notice)+`)>=0&&
document.querySelector('.xiaoer-list').textContent.indexOf(`+js(tc.q)+`)<0})()`)
		tb.waitUntil(tc.shopper+": the widget is online again", `!!document.querySelector('.xiaoer-conn-online')`)
		tb.checkConsole()
	}
}
