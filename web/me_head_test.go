package web

import (
	"context"
	"testing"
)

// A HEAD of the export (a link checker, a browser prefetch) answers 405
// and records no data request and no audit row: only a real download is
// an export.
func TestMeExportHeadRecordsNothing(t *testing.T) {
	e := newMeEnv(t)
	tok := e.token(t, "alice")
	resp, _ := e.do(t, "HEAD", "/api/v1/me/data", tok, "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
		t.Errorf("HEAD /api/v1/me/data = %d, Allow %q; want 405 with Allow", resp.StatusCode, resp.Header.Get("Allow"))
	}
	reqs, err := e.store.DataRequests(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 0 {
		t.Errorf("a HEAD recorded %d data requests: %+v", len(reqs), reqs)
	}
	log, err := e.store.AuditLog(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range log {
		if a.ShopperID == "alice" {
			t.Errorf("a HEAD wrote an audit row: %+v", a)
		}
	}
	// GET still exports, and is recorded.
	if resp, b := e.do(t, "GET", "/api/v1/me/data", tok, ""); resp.StatusCode != 200 {
		t.Fatalf("GET after HEAD: %d %s", resp.StatusCode, b)
	}
	if reqs, _ := e.store.DataRequests(context.Background(), "alice"); len(reqs) != 1 {
		t.Errorf("GET recorded %d data requests, want 1", len(reqs))
	}
}
