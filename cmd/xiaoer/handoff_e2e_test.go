package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xiaoer-cs/xiaoer/web/chatclient"
)

// staff is a signed-in staff member's HTTP client and agent socket.
type staff struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
	ws   *websocket.Conn
}

// addAgent creates a staff account with the command line, while the server
// runs, and returns its generated password.
func addAgent(t *testing.T, dir, role, name string) string {
	t.Helper()
	out, errOut, err := xiaoer(t, "user", "add", "--data", dir, "--role", role, "--name", strings.ToUpper(name[:1])+name[1:], name)
	if err != nil {
		t.Fatalf("user add: %v %s", err, errOut)
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no password in %q", out)
	}
	return m[1]
}

// signIn logs in and, with socket, opens the agent socket from the console's origin.
func signIn(t *testing.T, s *testServer, username, password string, socket bool) *staff {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	st := &staff{t: t, base: s.Base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if code := st.do("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, &out); code != 200 {
		t.Fatalf("login %s: %d", username, code)
	}
	st.csrf = out.CSRF
	if socket {
		d := websocket.Dialer{Jar: jar, HandshakeTimeout: 5 * time.Second}
		ws, resp, err := d.Dial(strings.Replace(s.Base, "http://", "ws://", 1)+"/ws/agent", http.Header{"Origin": {s.Base}})
		if err != nil {
			t.Fatalf("agent socket: %v (%v)", err, resp)
		}
		t.Cleanup(func() { ws.Close() })
		st.ws = ws
		if f := st.frame(func(f map[string]any) bool { return true }); f["type"] != "hello" {
			t.Fatalf("first agent frame %v, want hello", f)
		}
	}
	return st
}

func (st *staff) do(method, path string, body, out any) int {
	st.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, st.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if st.csrf != "" {
		req.Header.Set("X-CSRF-Token", st.csrf)
	}
	resp, err := st.http.Do(req)
	if err != nil {
		st.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// frame reads agent frames until one satisfies ok.
func (st *staff) frame(ok func(map[string]any) bool) map[string]any {
	st.t.Helper()
	st.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f map[string]any
		if err := st.ws.ReadJSON(&f); err != nil {
			st.t.Fatalf("agent socket: %v", err)
		}
		if ok(f) {
			return f
		}
	}
}

// until reads shopper frames until one satisfies ok, and returns it with
// everything read on the way.
func until(t *testing.T, c *chatclient.Client, ok func(chatclient.Frame) bool) (chatclient.Frame, []chatclient.Frame) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen []chatclient.Frame
	for {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("shopper socket: %v (after %d frames)", err, len(seen))
		}
		seen = append(seen, f)
		if ok(f) {
			return f, seen
		}
	}
}

// TestHandoffEndToEnd: a logged-in shopper asks for a person; the online
// agent gets the conversation with its summary, profile and orders, replies
// live, notes something the shopper never sees, and closes; the bot comes
// back and asks for a rating. Another agent cannot read any of it.
func TestHandoffEndToEnd(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--demo")
	wang := signIn(t, s, "wang", addAgent(t, dir, "agent", "wang"), true)
	li := signIn(t, s, "lina", addAgent(t, dir, "agent", "lina"), false)

	ctx := context.Background()
	shopper := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, dir, "demo-cn")})
	ask(t, ctx, shopper, "我的订单到哪了")
	if err := shopper.Send(chatclient.NewClientID(), "转人工"); err != nil {
		t.Fatal(err)
	}
	// The shopper sees their place in the queue, then the agent joining.
	ho, _ := until(t, shopper, func(f chatclient.Frame) bool { return f.Type == "handoff" })
	if ho.Status != "queued" || ho.Position != 1 {
		t.Fatalf("first handoff frame %s, want queued at position 1", ho.Raw)
	}
	ho, seen := until(t, shopper, func(f chatclient.Frame) bool { return f.Type == "handoff" })
	if ho.Status != "assigned" || !strings.Contains(string(ho.Raw), `"agent":"Wang"`) {
		t.Fatalf("handoff frame %s, want assigned to Wang (the only agent online)", ho.Raw)
	}
	if sys := seen[len(seen)-2]; sys.Role != "system" || !strings.Contains(sys.Text, "Wang") {
		t.Errorf("before the handoff frame: %s, want the system message naming the agent", sys.Raw)
	}
	conv := shopper.Hello.Conversation
	if f := wang.frame(func(f map[string]any) bool { return f["type"] == "assigned" }); f["conversation"] != conv {
		t.Fatalf("assigned frame %v, want %s", f, conv)
	}

	var view struct {
		Case struct {
			Status  string `json:"status"`
			Trigger string `json:"trigger"`
			Summary struct {
				Questions []string `json:"questions"`
				Orders    []string `json:"orders"`
			} `json:"summary"`
		} `json:"case"`
		Messages []struct{ Role, Text string } `json:"messages"`
		Shopper  *struct{ Name, Phone string } `json:"shopper"`
		Orders   []struct{ ID string }         `json:"orders"`
	}
	if code := wang.do("GET", "/api/v1/console/conversations/"+conv, nil, &view); code != 200 {
		t.Fatalf("conversation: %d", code)
	}
	if view.Case.Status != "assigned" || view.Case.Trigger != "shopper_asked" || len(view.Case.Summary.Questions) == 0 ||
		view.Case.Summary.Questions[0] != "我的订单到哪了" || len(view.Case.Summary.Orders) == 0 {
		t.Errorf("case %+v: want the trigger, the questions and the orders shown", view.Case)
	}
	if view.Shopper == nil || view.Shopper.Name == "" || len(view.Orders) == 0 || len(view.Messages) < 4 {
		t.Errorf("view: shopper %+v, %d orders, %d messages", view.Shopper, len(view.Orders), len(view.Messages))
	}
	for _, other := range []string{"", "/suggestions"} {
		if code := li.do("GET", "/api/v1/console/conversations/"+conv+other, nil, nil); code != 404 {
			t.Errorf("another agent got %d on %s, want 404", code, other)
		}
	}

	// The shopper writes: it reaches the agent, and the bot stays silent.
	if err := shopper.Send("still-there", "还在吗？"); err != nil {
		t.Fatal(err)
	}
	if f := wang.frame(func(f map[string]any) bool { return f["type"] == "message" && f["role"] == "shopper" }); f["text"] != "还在吗？" || f["conversation"] != conv {
		t.Fatalf("agent got %v", f)
	}
	if code := wang.do("POST", "/api/v1/console/conversations/"+conv+"/notes", map[string]string{"text": "SECRET-NOTE wants it by Friday"}, nil); code != 201 {
		t.Fatalf("note: %d", code)
	}
	if code := wang.do("POST", "/api/v1/console/conversations/"+conv+"/messages", map[string]string{"client_id": "w1", "text": "您好，我是客服小王"}, nil); code != 201 {
		t.Fatalf("reply: %d", code)
	}
	reply, seen := until(t, shopper, func(f chatclient.Frame) bool { return f.Type == "message" && f.Role != "shopper" })
	if reply.Role != "agent" || reply.Text != "您好，我是客服小王" || !strings.Contains(string(reply.Raw), `"agent_name":"Wang"`) {
		t.Fatalf("the shopper got %s, want the agent's reply (the bot must not answer)", reply.Raw)
	}
	for _, f := range seen {
		if f.Type == "typing" && strings.Contains(string(f.Raw), `"bot"`) {
			t.Errorf("the bot showed itself typing while the agent had the conversation")
		}
	}

	if code := wang.do("POST", "/api/v1/console/conversations/"+conv+"/close", map[string]string{"resolution": "resolved"}, nil); code != 200 {
		t.Fatalf("close: %d", code)
	}
	rate, seen := until(t, shopper, func(f chatclient.Frame) bool { return f.Type == "message" && f.Role == "bot" })
	if len(rate.Cards) != 1 || rate.Cards[0].Kind != "rating" {
		t.Fatalf("after close: %s, want the bot asking for a rating", rate.Raw)
	}
	closed := false
	for _, f := range seen {
		closed = closed || (f.Type == "handoff" && f.Status == "closed")
	}
	if !closed {
		t.Error("no closed handoff frame before the rating prompt")
	}
	if err := shopper.SendFrame(map[string]any{"type": "rating", "score": 5, "comment": "快"}); err != nil {
		t.Fatal(err)
	}
	if m := ask(t, ctx, shopper, "怎么开发票"); m.Role != "bot" {
		t.Errorf("after close the bot did not answer: %s", m.Raw)
	}

	// A reload finds everything as it was, and never the note.
	again := dial(t, ctx, s.WS, chatclient.Options{Token: token(t, dir, "demo-cn"), Conversation: conv})
	var texts []string
	for {
		f, _ := until(t, again, func(f chatclient.Frame) bool { return f.Type == "message" })
		if strings.Contains(string(f.Raw), "SECRET-NOTE") {
			t.Fatalf("the shopper saw an internal note: %s", f.Raw)
		}
		texts = append(texts, f.Text)
		if f.Seq == again.Hello.LastSeq {
			break
		}
	}
	if !contains(texts, "您好，我是客服小王") || !contains(texts, "还在吗？") {
		t.Errorf("replayed transcript %q lacks the agent's exchange", texts)
	}
}

// TestLeaveMessageAnsweredLater: with no agent online a visitor leaves a
// message; an agent who signs in later sees it first, claims it and
// answers; the visitor's next visit shows the answer.
func TestLeaveMessageAnsweredLater(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--demo")
	password := addAgent(t, dir, "agent", "wang")
	ctx := context.Background()
	visitor := dial(t, ctx, s.WS, chatclient.Options{Lang: "en"})
	if err := visitor.Send(chatclient.NewClientID(), "talk to a person"); err != nil {
		t.Fatal(err)
	}
	if ho, _ := until(t, visitor, func(f chatclient.Frame) bool { return f.Type == "handoff" }); ho.Status != "offline" {
		t.Fatalf("handoff %s, want offline: nobody is signed in", ho.Raw)
	}
	if err := visitor.SendFrame(map[string]any{"type": "leave_message", "client_id": "left-1",
		"text": "My parcel arrived broken, please call me on 13812345678", "contact_via": "phone", "contact": "13812345678"}); err != nil {
		t.Fatal(err)
	}
	if ho, _ := until(t, visitor, func(f chatclient.Frame) bool { return f.Type == "handoff" }); ho.Status != "ticket" {
		t.Fatalf("handoff %s, want ticket", ho.Raw)
	}
	conv, vid := visitor.Hello.Conversation, visitor.Hello.Visitor
	visitor.Close()

	wang := signIn(t, s, "wang", password, true)
	var board struct {
		Tickets []struct {
			Conversation string `json:"conversation"`
			Ticket       struct {
				Text, Contact string
			} `json:"ticket"`
		} `json:"tickets"`
	}
	if code := wang.do("GET", "/api/v1/console/board", nil, &board); code != 200 || len(board.Tickets) != 1 || board.Tickets[0].Conversation != conv {
		t.Fatalf("board %d %+v, want the ticket", code, board)
	}
	if tk := board.Tickets[0].Ticket; tk.Contact == "13812345678" || !strings.Contains(tk.Text, "broken") {
		t.Errorf("ticket %+v: want the text, the phone masked", tk)
	}
	if code := wang.do("POST", "/api/v1/console/conversations/"+conv+"/claim", nil, nil); code != 200 {
		t.Fatalf("claim: %d", code)
	}
	// The number typed in the chat is masked in the view until revealed.
	var view struct {
		Masked   bool
		Messages []struct{ ID, Role, Text string }
	}
	if code := wang.do("GET", "/api/v1/console/conversations/"+conv, nil, &view); code != 200 || !view.Masked {
		t.Fatalf("view %d masked=%v", code, view.Masked)
	}
	for _, m := range view.Messages {
		if strings.Contains(m.Text, "13812345678") {
			t.Fatalf("the view shows the phone number unmasked: %q", m.Text)
		}
	}
	var revealed struct{ Values map[string]string }
	if code := wang.do("POST", "/api/v1/console/conversations/"+conv+"/reveal", map[string]any{"fields": []string{"transcript"}}, &revealed); code != 200 {
		t.Fatalf("reveal: %d", code)
	}
	found := false
	for k, v := range revealed.Values {
		found = found || (strings.HasPrefix(k, "message:") && strings.Contains(v, "13812345678"))
	}
	if !found {
		t.Errorf("revealing the transcript gave %v", revealed.Values)
	}
	if code := wang.do("POST", "/api/v1/console/conversations/"+conv+"/messages", map[string]string{"client_id": "w1", "text": "Sorry about that, a new one ships today."}, nil); code != 201 {
		t.Fatalf("reply: %d", code)
	}
	back := dial(t, ctx, s.WS, chatclient.Options{Visitor: vid, Conversation: conv, Lang: "en"})
	if back.Hello.Conversation != conv {
		t.Fatalf("the visitor came back to %s, want %s", back.Hello.Conversation, conv)
	}
	m, _ := until(t, back, func(f chatclient.Frame) bool { return f.Type == "message" && f.Role == "agent" })
	if m.Text != "Sorry about that, a new one ships today." {
		t.Fatalf("replayed agent message %s", m.Raw)
	}
	if ho, _ := until(t, back, func(f chatclient.Frame) bool { return f.Type == "handoff" }); ho.Status != "assigned" || !strings.Contains(string(ho.Raw), `"resumed":true`) {
		t.Errorf("after the replay: %s, want the resumed assigned state", ho.Raw)
	}
}
