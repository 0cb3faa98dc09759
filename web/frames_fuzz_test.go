package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// FuzzHandleFrame feeds arbitrary client frames to a chat socket: each must
// end in exactly one outcome, an error frame or a turn for the bot (a
// well-formed typing frame in none: it is forwarded to agents, unanswered),
// and never a panic. `go test -fuzz FuzzHandleFrame ./web` explores further.
func FuzzHandleFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"message","client_id":"a1","text":"你好"}`,
		`{"type":"message","client_id":"a1","text":""}`,
		`{"type":"message","text":"hi"}`,
		`{"type":"handoff"}`,
		`{"type":"feedback","message_id":"m_1","helpful":false}`,
		`{"type":"rating","score":5,"comment":"good"}`,
		`{"type":"rating","score":0}`,
		`{"type":"return_confirm","proposal_id":"rp_0123abcd"}`,
		`{"type":"return_cancel","proposal_id":"rp_0123abcd"}`,
		`{"type":"return_confirm","proposal_id":"../../etc"}`,
		`{"type":"return_cancel"}`,
		`{"type":"typing"}`,
		`{"type":"leave_message","client_id":"l1","text":"请回电","contact_via":"phone","contact":"138 0013 8000"}`,
		`{"type":"leave_message","client_id":"l1","text":"hi","contact_via":"email","contact":"x@y"}`,
		`{"type":"leave_message","text":"hi"}`,
		`{"type":1}`, `{not json`, `[]`, `"str"`, `null`, ``, "\xff\xfe", `{"type":"message","client_id":"` + "\x00" + `","text":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Config{}
		cfg.setDefaults()
		rec := &turnRecorder{}
		srv := &Server{cfg: cfg, deps: Deps{Bot: rec, Hub: NewHub()}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		c := newConn(nil, &srv.cfg, srv.log)
		c.goLive()
		k := &chatSocket{srv: srv, c: c, conv: bot.Conversation{ID: "c_1"}, lang: "zh", limiter: newWindowLimiter(1000, time.Minute)}
		k.handleFrame(data)
		errorsSent := c.queued()
		want := 1
		var in inFrame
		if trimmed := bytes.TrimSpace(data); utf8.Valid(data) && len(trimmed) > 0 && trimmed[0] == '{' &&
			json.Unmarshal(trimmed, &in) == nil && in.Type == "typing" {
			want = 0
		}
		if errorsSent+rec.count() != want {
			t.Fatalf("frame %q: %d error frames and %d turns, want %d outcomes", data, errorsSent, rec.count(), want)
		}
		if errorsSent == 1 {
			var e errorFrame
			if err := json.Unmarshal(c.pop().data, &e); err != nil || e.Type != "error" || e.Code == "" || e.Message == "" {
				t.Fatalf("frame %q: bad error frame %+v (%v)", data, e, err)
			}
		}
	})
}
