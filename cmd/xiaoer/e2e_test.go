package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/web/chatclient"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

func dial(t *testing.T, ctx context.Context, url string, opts chatclient.Options) *chatclient.Client {
	t.Helper()
	c, err := chatclient.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ask(t *testing.T, ctx context.Context, c *chatclient.Client, text string) chatclient.Frame {
	t.Helper()
	ex, err := c.Ask(ctx, text)
	if err != nil {
		t.Fatalf("ask %q: %v", text, err)
	}
	if ex.Ack.Seq == 0 {
		t.Fatalf("ask %q: reply came without an ack: %+v", text, ex.Frames)
	}
	if ex.Reply.Seq <= ex.Ack.Seq {
		t.Fatalf("ask %q: reply seq %d not after the message's seq %d", text, ex.Reply.Seq, ex.Ack.Seq)
	}
	return ex.Reply
}

// demoOrders returns the order ids of each demo shopper, from the embedded demo data.
func demoOrders(t *testing.T) map[string][]string {
	t.Helper()
	_, orders, err := parseDemoShop(demoShop, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, o := range orders {
		out[o.ShopperID] = append(out[o.ShopperID], o.ID)
	}
	return out
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

func TestDemoChat(t *testing.T) {
	s := startServer(t, t.TempDir(), "--demo")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	orders := demoOrders(t)

	t.Run("FAQ answers with sources in both languages", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{})
		if c.Hello.Conversation == "" || c.Hello.Shopper != nil {
			t.Fatalf("visitor hello = %+v", c.Hello)
		}
		tests := []struct {
			q      string
			wantZH bool
			source string // a word the cited entry's title must contain
		}{
			{"如何申请七天无理由退货", true, "七天"},
			{"How long does shipping take?", false, ""},
			{"发票怎么开", true, "发票"},
			{"Can I change my delivery address?", false, "address"},
		}
		for _, tt := range tests {
			r := ask(t, ctx, c, tt.q)
			if r.Role != "bot" || r.Text == "" || len(r.Sources) == 0 {
				t.Errorf("%q: got %s %q with sources %v; want a bot answer with a source", tt.q, r.Role, r.Text, r.Sources)
				continue
			}
			if hasHan(r.Text) != tt.wantZH {
				t.Errorf("%q: answer %q is not in the question's language", tt.q, r.Text)
			}
			if !strings.Contains(strings.ToLower(r.Sources[0].Title), tt.source) {
				t.Errorf("%q: cited %q, want an entry about %q", tt.q, r.Sources[0].Title, tt.source)
			}
		}
	})

	t.Run("verified shopper sees only their own orders", func(t *testing.T) {
		cn := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-cn")})
		if cn.Hello.Shopper == nil || cn.Hello.Shopper.ID != "demo-cn" || cn.Hello.Lang != "zh" {
			t.Fatalf("demo-cn hello = %+v", cn.Hello)
		}
		r := ask(t, ctx, cn, "我的订单到哪了")
		if len(r.Cards) == 0 {
			t.Fatalf("demo-cn got no order card: %q", r.Text)
		}
		for _, card := range r.Cards {
			if card.Kind != "order" || card.Status == "" || !contains(orders["demo-cn"], card.OrderID) {
				t.Errorf("demo-cn was shown card %+v, not one of their orders %v", card, orders["demo-cn"])
			}
		}
		own := r.Cards[0].OrderID

		en := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
		unknown := ask(t, ctx, en, "Where is my order XE2099999999?")
		for _, q := range []string{"Where is my order " + own + "?", "订单 " + own + " 的物流"} {
			r := ask(t, ctx, en, q)
			if len(r.Cards) != 0 || strings.Contains(r.Text, "SF") || strings.Contains(r.Text, "¥") {
				t.Errorf("demo-en asking %q was shown %q %+v", q, r.Text, r.Cards)
			}
			if strings.HasPrefix(q, "Where") && strings.ReplaceAll(r.Text, own, "X") != strings.ReplaceAll(unknown.Text, "XE2099999999", "X") {
				t.Errorf("another shopper's order got %q, an unknown one %q: they must read the same", r.Text, unknown.Text)
			}
		}
		if !strings.Contains(s.Logs.String(), "security: order lookup across shoppers") {
			t.Error("no security event logged for the cross-shopper lookup")
		}
		if strings.Contains(s.Logs.String(), own) {
			t.Error("the log contains the full order number")
		}

		visitor := dial(t, ctx, s.WS, chatclient.Options{})
		for _, q := range []string{"我的订单到哪了", "订单 " + own + " 到哪了"} {
			if r := ask(t, ctx, visitor, q); len(r.Cards) != 0 || strings.Contains(r.Text, own) && strings.Contains(r.Text, "¥") {
				t.Errorf("a visitor asking %q got %q %+v", q, r.Text, r.Cards)
			}
		}
	})

	t.Run("a shopper the shop vouches for but never sent us can chat", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "shop-real-42"), Lang: "en"})
		if c.Hello.Shopper == nil || c.Hello.Shopper.ID != "shop-real-42" {
			t.Fatalf("hello = %+v", c.Hello)
		}
		if r := ask(t, ctx, c, "Where is my order?"); len(r.Cards) != 0 || !strings.Contains(r.Text, "no orders") {
			t.Errorf("a shopper with no orders got %q %+v", r.Text, r.Cards)
		}
	})

	t.Run("order numbers are found whatever their case; a closed window offers a person", func(t *testing.T) {
		cn := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-cn")})
		r := ask(t, ctx, cn, "xe2026032255 还能退吗")
		if len(r.Cards) != 1 || r.Cards[0].OrderID != "XE2026032255" || r.Cards[0].ReturnUntil != "" {
			t.Fatalf("lower-case order number: %q %+v", r.Text, r.Cards)
		}
		if len(r.Suggestions) == 0 || r.Suggestions[len(r.Suggestions)-1] != "转人工" {
			t.Errorf("closed return window: suggestions %v, want the offer of a person", r.Suggestions)
		}
	})

	t.Run("delivered order states its return window", func(t *testing.T) {
		cn := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-cn")})
		r := ask(t, ctx, cn, "订单 XE2026050914 能退货吗")
		if len(r.Cards) != 1 || r.Cards[0].Status != "delivered" || r.Cards[0].ReturnUntil == "" || !strings.Contains(r.Text, "七天无理由") {
			t.Fatalf("delivered-order reply = %q %+v", r.Text, r.Cards)
		}
	})

	t.Run("small talk, unsure and handoff", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, s.Data, "demo-en")})
		// Without the shopper's consent to personalisation, no name.
		if r := ask(t, ctx, c, "hello"); strings.Contains(r.Text, "Emma") || len(r.Personalized) != 0 {
			t.Errorf("greeting = %q (personalized %v), want no name without consent", r.Text, r.Personalized)
		}
		r := ask(t, ctx, c, "What is the capital of Mongolia?")
		if len(r.Sources) != 0 || len(r.Suggestions) == 0 || !strings.Contains(strings.ToLower(r.Text), "not sure") {
			t.Errorf("out-of-scope question got %q sources %v suggestions %v", r.Text, r.Sources, r.Suggestions)
		}
		if last := r.Suggestions[len(r.Suggestions)-1]; last != "Talk to a person" {
			t.Errorf("last suggestion = %q, want the offer of a person", last)
		}
		ex, err := c.Ask(ctx, "Talk to a person")
		if err != nil {
			t.Fatal(err)
		}
		if ex.Reply.Role != "system" || !strings.Contains(ex.Reply.Text, "agent") {
			t.Errorf("handoff reply = %+v", ex.Reply)
		}
		f, err := c.Next(ctx)
		if err != nil || f.Type != "handoff" || f.Status == "" {
			t.Errorf("after the handoff reply: %+v %v, want a handoff frame", f, err)
		}
	})

	t.Run("bad frames get error frames and the socket keeps working", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{})
		bad := []struct{ frame, code string }{
			{`{not json`, "bad_json"},
			{`[]`, "bad_frame"},
			{`"str"`, "bad_frame"},
			{`{"type":"nonsense"}`, "unknown_type"},
			{`{"type":"message"}`, "invalid_message"},
			{`{"type":"message","client_id":"x1","text":"   "}`, "empty_message"},
			{`{"type":"message","client_id":"x2","text":"` + strings.Repeat("长", 2001) + `"}`, "too_long"},
			{"{\"type\":\"message\",\"client_id\":\"x3\",\"text\":\"\xff\xfe\"}", "bad_encoding"},
			{`{"type":"feedback","message_id":"m_nope","helpful":true}`, "not_found"},
			{`{"type":"rating","score":9}`, "invalid_rating"},
		}
		for _, b := range bad {
			if err := c.Conn().WriteMessage(websocket.TextMessage, []byte(b.frame)); err != nil {
				t.Fatal(err)
			}
			f, err := c.Next(ctx)
			if err != nil || f.Type != "error" || f.Code != b.code {
				t.Errorf("frame %.40q: got %+v %v, want error %s", b.frame, f, err, b.code)
			}
		}
		r := ask(t, ctx, c, "How do I get an invoice?")
		if len(r.Sources) == 0 {
			t.Errorf("after bad frames: %q without sources", r.Text)
		}
		// Good feedback and a rating are taken without a word; the next
		// frame is the ack of the next message.
		c.SendFrame(map[string]any{"type": "feedback", "message_id": r.ID, "helpful": true})
		c.SendFrame(map[string]any{"type": "rating", "score": 5, "comment": "快"})
		c.Send("after-feedback", "谢谢")
		if f, err := c.Next(ctx); err != nil || f.Type != "ack" || f.ClientID != "after-feedback" {
			t.Errorf("after good feedback and rating: %+v %v, want the next ack", f, err)
		}
	})

	t.Run("resending a message gets the same ack and no second reply", func(t *testing.T) {
		c := dial(t, ctx, s.WS, chatclient.Options{})
		first, err := c.AskWithID(ctx, "same-id-1", "退款多久到账")
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.Resend(ctx, "same-id-1", "退款多久到账")
		if err != nil || f.Seq != first.Ack.Seq {
			t.Fatalf("resend: got %+v %v, want the same ack seq %d", f, err, first.Ack.Seq)
		}
		// The next thing on the socket is the reply to a new message, not a second reply.
		next := ask(t, ctx, c, "谢谢")
		if next.Seq != first.Reply.Seq+2 {
			t.Errorf("after a resend the next reply has seq %d, want %d: something was stored twice", next.Seq, first.Reply.Seq+2)
		}
	})

	t.Run("reconnecting replays the conversation in order", func(t *testing.T) {
		opts := chatclient.Options{Visitor: "visitor-resume-1"}
		c := dial(t, ctx, s.WS, opts)
		ask(t, ctx, c, "你好")
		last := ask(t, ctx, c, "怎么开发票")
		c.Close()

		for _, after := range []int64{0, 2} {
			opts.Conversation, opts.After = c.Hello.Conversation, after
			r := dial(t, ctx, s.WS, opts)
			if r.Hello.Conversation != c.Hello.Conversation || r.Hello.LastSeq != last.Seq {
				t.Fatalf("resume hello = %+v, want conversation %s at seq %d", r.Hello, c.Hello.Conversation, last.Seq)
			}
			for want := after + 1; want <= last.Seq; want++ {
				f, err := r.Next(ctx)
				if err != nil || f.Type != "message" || f.Seq != want {
					t.Fatalf("replay after %d: got %+v %v, want message seq %d", after, f, err, want)
				}
			}
		}
		// Someone else naming the conversation gets a new, empty one.
		stranger := dial(t, ctx, s.WS, chatclient.Options{Visitor: "visitor-stranger", Conversation: c.Hello.Conversation})
		if stranger.Hello.Conversation == c.Hello.Conversation || stranger.Hello.LastSeq != 0 {
			t.Fatalf("a stranger joined conversation %s: %+v", c.Hello.Conversation, stranger.Hello)
		}
	})

	t.Run("logs hold no message text and no token", func(t *testing.T) {
		tok := token(t, s.Data, "demo-cn")
		c := dial(t, ctx, s.WS, chatclient.Options{Token: tok})
		secret := "我的手机号是13800001234，订单到哪了"
		ask(t, ctx, c, secret)
		logs := s.Logs.String()
		for _, leak := range []string{"13800001234", "如何申请七天无理由退货", "How long does shipping take", tok} {
			if strings.Contains(logs, leak) {
				t.Errorf("the server log contains %q", leak)
			}
		}
	})

	t.Run("the search API says whether the bot would answer", func(t *testing.T) {
		var body struct {
			Hits []struct {
				ID, Question, Answer string
				Score                float64
			}
			Answerable bool
		}
		get := func(q string) {
			resp, err := http.Get(s.Base + "/api/v1/kb/search?limit=3&q=" + q)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body.Hits, body.Answerable = nil, false
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
				t.Fatalf("search %s: %d %v", q, resp.StatusCode, err)
			}
		}
		get("How%20long%20does%20shipping%20take%3F")
		if !body.Answerable || len(body.Hits) == 0 || len(body.Hits) > 3 || body.Hits[0].Answer == "" {
			t.Errorf("shipping question: %+v", body)
		}
		get("quantum%20chromodynamics%20lecture%20notes")
		if body.Answerable {
			t.Errorf("an out-of-scope query is answerable: %+v", body)
		}
		// A category filter keeps only that category's entries.
		get("How%20long%20does%20shipping%20take%3F&category=no-such-category")
		if len(body.Hits) != 0 {
			t.Errorf("a filter on a category no entry has still found %+v", body.Hits)
		}
		resp, err := http.Get(s.Base + "/api/v1/kb/search")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("search without q: %d, want 400", resp.StatusCode)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestHandshakeRefusals(t *testing.T) {
	s := startServer(t, t.TempDir(), "--demo")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	good := token(t, s.Data, "demo-cn")
	expired, _, err := xiaoer(t, "token", "--data", s.Data, "--shopper", "demo-cn", "--ttl", "1ns")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := shoptoken.NewSigner([]byte("another-shop-secret-0123456789"), nil)
	foreign, _ := other.Sign("demo-cn", time.Hour) // signed with another shop's secret
	tests := []struct {
		name string
		opts chatclient.Options
		want int
	}{
		{"foreign origin", chatclient.Options{Origin: "https://evil.example"}, http.StatusForbidden},
		{"suffix-trick origin", chatclient.Options{Origin: "http://" + strings.TrimPrefix(s.Base, "http://") + ".evil.com"}, http.StatusForbidden},
		{"malformed token", chatclient.Options{Token: "not-a-token"}, http.StatusUnauthorized},
		{"tampered token", chatclient.Options{Token: good[:len(good)-2] + "xx"}, http.StatusUnauthorized},
		{"expired token", chatclient.Options{Token: expired}, http.StatusUnauthorized},
		{"another shop's token", chatclient.Options{Token: foreign}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		_, err := chatclient.Dial(ctx, s.WS, tt.opts)
		var he *chatclient.HandshakeError
		if !errors.As(err, &he) || he.Status != tt.want {
			t.Errorf("%s: err = %v, want HTTP %d", tt.name, err, tt.want)
		}
	}
	if _, err := chatclient.Dial(ctx, s.WS, chatclient.Options{Token: good}); err != nil {
		t.Errorf("good token refused: %v", err)
	}
	// A socket lives no longer than its shopper's token.
	short, _, err := xiaoer(t, "token", "--data", s.Data, "--shopper", "demo-cn", "--ttl", "2s")
	if err != nil {
		t.Fatal(err)
	}
	c, err := chatclient.Dial(ctx, s.WS, chatclient.Options{Token: short})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Next(ctx)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Errorf("after the token expired: %v, want close 1008", err)
	}
	c.Close()

	// A foreign origin is refused before any work, with a JSON reason.
	req, _ := http.NewRequest("GET", s.Base+"/ws/chat", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		var body struct{ Error struct{ Code string } }
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || body.Error.Code != "forbidden_origin" {
			t.Errorf("foreign origin: %d %+v", resp.StatusCode, body)
		}
	}
	// Compression is never negotiated, even when the client offers it.
	d := websocket.Dialer{EnableCompression: true}
	ws, resp, err := d.DialContext(ctx, s.WS, http.Header{"Origin": {s.Base}})
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Errorf("handshake negotiated %q", ext)
	}
}

func TestOversizedFrameClosesOnlyThatSocket(t *testing.T) {
	s := startServer(t, t.TempDir(), "--demo")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	others := make([]*chatclient.Client, 5)
	for i := range others {
		others[i] = dial(t, ctx, s.WS, chatclient.Options{})
	}
	big := dial(t, ctx, s.WS, chatclient.Options{})
	frame := `{"type":"message","client_id":"big","text":"` + strings.Repeat("a", 1<<20) + `"}`
	big.Conn().WriteMessage(websocket.TextMessage, []byte(frame))
	_, err := big.Next(ctx)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Errorf("1 MiB frame: err = %v, want close 1009", err)
	}
	for i, c := range others {
		if r := ask(t, ctx, c, "How long does shipping take?"); r.Text == "" {
			t.Errorf("client %d got an empty reply", i)
		}
	}
}

func TestDemoLoadsOnceAndServeStartsEmpty(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--demo")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	first, _, err := xiaoer(t, "kb", "export", "--data", dir, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(first), &entries); err != nil || len(entries) < 120 {
		t.Fatalf("demo knowledge base has %d entries (%v), want at least 120", len(entries), err)
	}
	s = startServer(t, dir, "--demo")
	if !strings.Contains(s.Logs.String(), "not empty") {
		t.Errorf("second --demo start did not say it left the folder alone:\n%s", s.Logs)
	}
	s.Stop()
	second, _, _ := xiaoer(t, "kb", "export", "--data", dir, "--format", "json")
	if second != first {
		t.Error("a second --demo start changed the knowledge base")
	}

	// A lost or corrupt index is rebuilt from the store at start.
	for _, damage := range []func(index string) error{
		os.RemoveAll,
		func(index string) error {
			os.RemoveAll(index)
			os.MkdirAll(index, 0o700)
			return os.WriteFile(filepath.Join(index, "index_meta.json"), []byte("{garbage"), 0o600)
		},
	} {
		if err := damage(filepath.Join(dir, indexDir)); err != nil {
			t.Fatal(err)
		}
		s = startServer(t, dir)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		c := dial(t, ctx, s.WS, chatclient.Options{})
		if r := ask(t, ctx, c, "如何申请七天无理由退货"); len(r.Sources) == 0 {
			t.Errorf("after the index was damaged: %q without sources", r.Text)
		}
		cancel()
		c.Close()
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
	}

	// A demo load cut off after the shop data (no FAQ, no marker) is
	// completed by the next --demo start.
	cut := t.TempDir()
	d, err := openData(context.Background(), cut, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_, orders, _ := parseDemoShop(demoShop, time.Now())
	var shop demoShopFile
	json.Unmarshal(demoShop, &shop)
	if err := d.store.PutShop(context.Background(), sqlite.Shop{Products: shop.Catalog, Shoppers: shop.Shoppers, Orders: orders}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	s = startServer(t, cut, "--demo")
	if !strings.Contains(s.Logs.String(), "demo: loaded") {
		t.Errorf("an interrupted demo load was not completed:\n%s", s.Logs)
	}
	s.Stop()
	// A folder with real data is never touched by --demo.
	real := t.TempDir()
	d, err = openData(context.Background(), real, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	d.store.PutShopper(context.Background(), bot.Shopper{ID: "real-1", Name: "R"})
	d.Close()
	s = startServer(t, real, "--demo")
	s.Stop()
	if out, _, _ := xiaoer(t, "kb", "export", "--data", real); strings.Count(out, "\n") > 0 {
		t.Errorf("--demo loaded FAQ into a folder with real data:\n%.200s", out)
	}

	// Without --demo, a new folder starts empty and answers honestly.
	empty := startServer(t, filepath.Join(t.TempDir(), "new", "folder"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := dial(t, ctx, empty.WS, chatclient.Options{Lang: "en"})
	if r := ask(t, ctx, c, "How long does shipping take?"); len(r.Sources) != 0 {
		t.Errorf("empty knowledge base cited %v", r.Sources)
	}
}

func TestKBImportExport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("faq.csv", "id,locale,question,alternates,answer,category\n"+
		"gift-wrap,en,Do you offer gift wrapping?,Can you wrap my present|gift wrap available?,Yes: choose gift wrap at checkout for ¥10.,service\n"+
		"gift-wrap-zh,zh-CN,可以礼品包装吗,能包装成礼物吗|有礼盒包装吗,可以，结算时勾选礼品包装，收费10元。,service\n")
	out, errOut, err := xiaoer(t, "kb", "import", "--data", dir, good)
	if err != nil || !strings.Contains(out, "2 entries") {
		t.Fatalf("import: %q %s %v", out, errOut, err)
	}

	bad := write("bad.csv", "id,locale,question,alternates,answer,category\n"+
		"a1,en,Question one?,,Answer.,x\n"+
		"a1,en,Question two?,,Answer.,x\n"+
		"a3,fr,,,Answer.,x\n")
	_, _, err = xiaoer(t, "kb", "import", "--data", dir, "--replace", bad)
	if err == nil {
		t.Fatal("a file with errors was imported")
	}
	for _, want := range []string{"line 3", "line 4", "a1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("import error %q does not mention %q", err, want)
		}
	}

	jsonFile := filepath.Join(t.TempDir(), "kb.json")
	if _, _, err := xiaoer(t, "kb", "export", "--data", dir, "--out", jsonFile); err != nil {
		t.Fatal(err)
	}
	exported, _ := os.ReadFile(jsonFile)
	var entries []struct {
		ID         string
		Alternates []string
	}
	if err := json.Unmarshal(exported, &entries); err != nil || len(entries) != 2 || len(entries[0].Alternates) != 2 {
		t.Fatalf("export after a refused --replace import: %s (%v); want the 2 good entries untouched", exported, err)
	}
	// The exported file imports back into a fresh folder.
	if _, _, err := xiaoer(t, "kb", "import", "--data", t.TempDir(), jsonFile); err != nil {
		t.Fatalf("re-import of an export: %v", err)
	}

	s := startServer(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := dial(t, ctx, s.WS, chatclient.Options{})
	if r := ask(t, ctx, c, "能帮我包装成礼物吗"); len(r.Sources) == 0 || r.Sources[0].ID != "gift-wrap-zh" {
		t.Errorf("imported entry not answered: %q %v", r.Text, r.Sources)
	}

	// kb eval measures the folder's knowledge base, even while it is served.
	queries := write("q.csv", "query,expected_id\n"+
		"能包装成礼物吗,gift-wrap-zh\n"+
		"can you wrap my present,gift-wrap\n"+
		"how do I reset my password,gift-wrap\n"+
		"what is the capital of Peru,\n")
	out, errOut, err = xiaoer(t, "kb", "eval", "--data", dir, "--queries", queries)
	if err != nil {
		t.Fatalf("kb eval: %v %s", err, errOut)
	}
	for _, want := range []string{"2 entries answerable", "3 in scope, 1 out of scope", "hit@1                    0.667",
		"out-of-scope declined    1.000", `line 4: "how do I reset my password" want gift-wrap`} {
		if !strings.Contains(out, want) {
			t.Errorf("kb eval output lacks %q:\n%s", want, out)
		}
	}
	if _, _, err := xiaoer(t, "kb", "eval", "--data", dir, "--queries", queries, "--min-hit1", "0.9"); err == nil || !strings.Contains(err.Error(), "below --min-hit1") {
		t.Errorf("kb eval --min-hit1 0.9 = %v, want it to fail", err)
	}

	// While the server holds the folder, import says so at once.
	done := make(chan error, 1)
	go func() {
		_, _, err := xiaoer(t, "kb", "import", "--data", dir, good)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "in use") {
			t.Errorf("import into a served folder: %v, want an 'in use' error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("import into a served folder hangs")
	}
}

func TestCommandLine(t *testing.T) {
	if out, _, err := xiaoer(t, "version"); err != nil || !strings.HasPrefix(out, "xiaoer ") {
		t.Errorf("version: %q %v", out, err)
	}
	for _, args := range [][]string{{}, {"nope"}, {"kb"}, {"kb", "nope"}, {"token"}, {"serve", "extra"}} {
		_, _, err := xiaoer(t, args...)
		if exitCode(err) != 2 {
			t.Errorf("xiaoer %q: err %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
	// token never invents a secret: a mistyped --data is an error, not a
	// token no server accepts.
	dir := t.TempDir()
	if _, _, err := xiaoer(t, "token", "--data", filepath.Join(dir, "typo"), "--shopper", "s1"); err == nil || !strings.Contains(err.Error(), "xiaoer serve") {
		t.Errorf("token for a folder without a secret: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); err == nil {
		t.Error("token created the mistyped data folder")
	}
	if _, _, err := xiaoer(t, "token", "--data", dir, "--shopper", "s1", "--ttl", "48h"); exitCode(err) != 2 {
		t.Errorf("--ttl 48h: %v, want a usage error", err)
	}
	// Flags have environment equivalents: XIAOER_DATA names the folder whose
	// secret (made by its first start) signs the token.
	s := startServer(t, dir)
	s.Stop()
	env := map[string]string{"XIAOER_DATA": dir}
	var out strings.Builder
	if err := run(context.Background(), []string{"token", "--shopper", "s1"}, func(k string) string { return env[k] }, &out, &out); err != nil {
		t.Fatal(err)
	}
	fileSecret, _ := os.ReadFile(filepath.Join(dir, secretFile))
	fileSigner, _ := shoptoken.NewSigner([]byte(strings.TrimSpace(string(fileSecret))), nil)
	if _, err := fileSigner.Verify(strings.TrimSpace(out.String())); err != nil {
		t.Errorf("XIAOER_DATA was not used for the secret: %v", err)
	}
	// XIAOER_SECRET overrides the data folder's secret.
	env["XIAOER_SECRET"] = "0123456789abcdef0123456789abcdef"
	out.Reset()
	run(context.Background(), []string{"token", "--shopper", "s1"}, func(k string) string { return env[k] }, &out, &out)
	withEnv := strings.TrimSpace(out.String())
	envSigner, _ := shoptoken.NewSigner([]byte(env["XIAOER_SECRET"]), nil)
	if _, err := envSigner.Verify(withEnv); err != nil {
		t.Errorf("token made with XIAOER_SECRET does not verify with it: %v", err)
	}
	if _, err := fileSigner.Verify(withEnv); err == nil {
		t.Error("XIAOER_SECRET did not override the data folder's secret")
	}
}

// TestDemoAdminAccount: --demo on a folder without staff creates an admin
// account and prints its password once; that password signs in to the
// admin API; the next start creates and prints nothing.
func TestDemoAdminAccount(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--demo")
	re := regexp.MustCompile(`Admin page: http://\S+/admin/  user "admin", password "([^"]+)"`)
	m := re.FindStringSubmatch(s.Logs.String())
	if m == nil {
		t.Fatalf("no admin password printed:\n%s", s.Logs)
	}
	body, _ := json.Marshal(map[string]string{"username": "admin", "password": m[1]})
	resp, err := http.Post(s.Base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login with the printed password: %d", resp.StatusCode)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	again := startServer(t, dir, "--demo")
	if strings.Contains(again.Logs.String(), "Admin page:") {
		t.Errorf("a second start printed a new admin password:\n%s", again.Logs)
	}
}
