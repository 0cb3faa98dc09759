package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// FuzzHandleFrame feeds arbitrary client frames to a chat socket: each must
// end in exactly one outcome, an error frame or a turn for the bot, and
// never a panic. `go test -fuzz FuzzHandleFrame ./web` explores further.
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
		`{"type":1}`, `{not json`, `[]`, `"str"`, `null`, ``, "\xff\xfe", `{"type":"message","client_id":"` + "\x00" + `","text":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Config{}
		cfg.setDefaults()
		rec := &turnRecorder{}
		srv := &Server{cfg: cfg, deps: Deps{Bot: rec}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		c := newConn(nil, &srv.cfg, srv.log)
		c.goLive()
		k := &chatSocket{srv: srv, c: c, conv: bot.Conversation{ID: "c_1"}, lang: "zh", limiter: newWindowLimiter(1000, time.Minute)}
		k.handleFrame(data)
		errorsSent := len(c.send)
		if errorsSent+rec.count() != 1 {
			t.Fatalf("frame %q: %d error frames and %d turns, want exactly one outcome", data, errorsSent, rec.count())
		}
		if errorsSent == 1 {
			var e errorFrame
			if err := json.Unmarshal((<-c.send).data, &e); err != nil || e.Type != "error" || e.Code == "" || e.Message == "" {
				t.Fatalf("frame %q: bad error frame %+v (%v)", data, e, err)
			}
		}
	})
}
