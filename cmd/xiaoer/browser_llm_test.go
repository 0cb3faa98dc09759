package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xiaoer-cs/xiaoer/bot/llm/llmtest"
)

// TestBrowserLLMStream: the real widget on the demo page, against the real
// server with a scripted model that streams slowly. The shopper sees the
// typing indicator, then a bubble whose text grows, then exactly one final
// bubble with the whole answer and its source.
func TestBrowserLLMStream(t *testing.T) {
	browser := startBrowser(t)

	const (
		question = "How long does shipping take?"
		// The model's answer: it cites reference 1; the marker is not shown.
		answer = "Orders leave our warehouse quickly and most parcels arrive within a few days [1]. Happy shopping with us!"
		shown  = "Orders leave our warehouse quickly and most parcels arrive within a few days. Happy shopping with us!"
		tail   = "Happy shopping with us!"
	)
	model := llmtest.NewServer(t, func(r *llmtest.Received) llmtest.Reply {
		if !strings.Contains(r.LastUser(), question) {
			return llmtest.Text("NO_ANSWER")
		}
		// The first chunk waits, so the typing indicator shows for a while;
		// the rest come 150 ms apart, so the bubble is seen growing.
		return llmtest.Reply{Text: answer, FirstDelay: 1500 * time.Millisecond, ChunkDelay: 150 * time.Millisecond}
	})
	srv := startServer(t, t.TempDir(), "--demo", "--llm-url", model.URL, "--llm-model", "scripted")
	tb := newTab(t, browser)
	defer func() {
		if t.Failed() {
			t.Logf("server logs:\n%s", srv.Logs)
		}
	}()

	// A record of what the page showed, kept by the page itself: polling
	// could miss a state that lasts less than its interval.
	tb.onNewDocument(`window.__llm = {armed: false, typing: false, typingFirst: null, partials: [], ids: []};
new MutationObserver(function () {
  var s = window.__llm;
  if (!s.armed) return;
  if (document.querySelector('.xiaoer-typing.xiaoer-typing-on')) s.typing = true;
  var b = document.querySelector('.xiaoer-msg-bot.xiaoer-streaming');
  if (!b) return;
  if (s.typingFirst === null) s.typingFirst = s.typing;
  var id = b.getAttribute('data-id');
  if (s.ids.indexOf(id) < 0) s.ids.push(id);
  var t = b.querySelector('.xiaoer-stream-text').textContent;
  if (t !== '' && s.partials[s.partials.length - 1] !== t) s.partials.push(t);
}).observe(document, {childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['class']});`)

	tb.do("open the demo page as demo-en",
		chromedp.Navigate(srv.Base+"/"),
		chromedp.WaitVisible(chromedp.ID("xiaoer-launcher")),
		chromedp.Click(chromedp.ID("as-demo-en")),
		chromedp.WaitVisible(chromedp.CSS(`#as-demo-en[aria-pressed="true"]`)),
		chromedp.Click(chromedp.ID("xiaoer-launcher")),
		chromedp.WaitVisible(chromedp.ID("xiaoer-panel")),
	)
	// Signed in (the privacy menu shows only then); the greeting carries
	// no name, since Emma has not consented to personalised replies.
	tb.waitUntil("the widget is online as Emma",
		`!!document.querySelector('.xiaoer-conn-online') && !document.querySelector('.xiaoer-menu-btn').hidden`)
	tb.do("arm the record", chromedp.Evaluate[chromedp.Void](`window.__llm.armed = true`))
	tb.ask(question)

	tb.waitUntil("the typing indicator shows", `window.__llm.typing`)
	tb.waitUntil("a streaming bubble shows a partial answer", `window.__llm.partials.length > 0`)
	// The bot messages after the question, newest last.
	botsAfter := `(function(){var all=document.querySelectorAll('.xiaoer-list .xiaoer-msg');var seen=false;var bots=[];
for(var i=0;i<all.length;i++){var m=all[i];
if(m.classList.contains('xiaoer-msg-shopper')&&m.textContent.indexOf(` + js(question) + `)>=0)seen=true;
else if(seen&&m.classList.contains('xiaoer-msg-bot'))bots.push(m);}
return bots})()`
	tb.waitUntil("the final answer with its source", `(function(){var bs=`+botsAfter+`;var b=bs[bs.length-1];
return !!b&&!b.classList.contains('xiaoer-streaming')&&!!b.querySelector('.xiaoer-source')})()`)

	rec := eval[map[string]any](tb, `window.__llm`)
	if rec["typingFirst"] != true {
		t.Errorf("the streaming bubble appeared before the typing indicator: %v", rec)
	}
	var partials []string
	for _, p := range rec["partials"].([]any) {
		partials = append(partials, p.(string))
	}
	grew := false
	for i, p := range partials {
		if !strings.HasPrefix(shown, p) && !strings.HasPrefix(answer, p) {
			t.Errorf("the streaming bubble showed %q, not a beginning of the answer", p)
		}
		if strings.Contains(p, "[1]") {
			t.Errorf("the streaming bubble showed the citation marker: %q", p)
		}
		if i > 0 && len(p) > len(partials[i-1]) && !strings.Contains(p, tail) {
			grew = true
		}
	}
	if !grew {
		t.Errorf("the streaming bubble never grew while partial; it showed %q", partials)
	}
	if ids := rec["ids"].([]any); len(ids) != 1 {
		t.Errorf("streaming bubbles of ids %v, want one", ids)
	}

	got := eval[map[string]any](tb, `(function(){var bots=`+botsAfter+`;var b=bots[bots.length-1];var s=b.querySelector('.xiaoer-source');
return {bots:bots.length,streaming:document.querySelectorAll('.xiaoer-streaming').length,id:b.getAttribute('data-id'),
text:b.querySelector('.xiaoer-bubble .xiaoer-text').textContent,hidden:b.getAttribute('aria-hidden')||'',
source:s?s.getAttribute('data-source-id'):'',title:s?s.textContent:''}})()`)
	if id, _ := got["source"].(string); id == "" || got["title"] != demoFAQQuestion(t, id) {
		t.Errorf("the source shown is %v %q, want a demo FAQ entry with its question", got["source"], got["title"])
	}
	want := map[string]any{"bots": 1.0, "streaming": 0.0, "text": shown, "hidden": "", "id": rec["ids"].([]any)[0]}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("after the answer: %s = %#v, want %#v", k, got[k], v)
		}
	}
	tb.checkConsole()
}
