package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/xiaoer-cs/xiaoer/handoff"
)

func TestAuditLogIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Audit(ctx, handoff.AuditEntry{Actor: "wang", Role: "agent", Action: "reveal", ShopperID: "s1", Fields: []string{"phone"}}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_log SET actor = 'someone else'`,
		`DELETE FROM audit_log`,
	} {
		if _, err := s.write.ExecContext(ctx, stmt); err == nil {
			t.Errorf("%s: succeeded, want refused", stmt)
		}
	}
	log, err := s.AuditLog(ctx, 10)
	if err != nil || len(log) != 1 || log[0].Actor != "wang" {
		t.Errorf("audit log after the attempts: %+v, %v", log, err)
	}
}
