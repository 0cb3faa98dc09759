package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestReviewRedirectIsNotADelivery: the Sender's default client follows
// redirects (webhook.go:120 builds a plain http.Client). A receiver URL
// that answers 301/302 (an http→https upgrade, a moved path, a login
// gateway) makes Go re-send the request as a GET without the body, and
// the 200 of that GET is taken as success: the event is marked delivered
// and never retried, though the shop never received it. Docs say any
// 2xx of the receiver is success; a 3xx is not the receiver accepting the
// event.
//
// What a user (the shop) notices: confirmed returns and handoffs silently
// never reach its systems, while Xiaoer's outbox says "delivered".
func TestReviewRedirectIsNotADelivery(t *testing.T) {
	var mu sync.Mutex
	var posts, gets int
	mux := http.NewServeMux()
	mux.HandleFunc("/hooks/xiaoer", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		if r.Method == http.MethodPost {
			posts++
		} else {
			gets++
		}
		mu.Unlock()
		w.WriteHeader(http.StatusOK) // a login page
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	out := newMemOutbox()
	s := newSender(t, hs.URL+"/hooks/xiaoer", clk.Now, out)
	ctx := context.Background()
	if err := s.Emit(ctx, "return.confirmed", map[string]string{"return_id": "r_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.deliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	var id string
	for k := range out.events {
		id = k
	}
	e := out.get(id)
	mu.Lock()
	defer mu.Unlock()
	if e.delivered {
		t.Errorf("the receiver answered 302 (then %d GET, %d POST with the event reached the redirect target); the event is marked delivered and will never be retried", gets, posts)
	}
}
