package handoff_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/handoff"
)

func TestRequestIsRecordedOnTheConversation(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	conv, err := store.OpenConversation(ctx, "v:visitor-123", "", "", "zh")
	if err != nil {
		t.Fatal(err)
	}
	desk := handoff.NewDesk(store)
	st, err := desk.Request(ctx, conv.ID, bot.TriggerWords)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "offline" {
		t.Errorf("status = %q, want offline: there is no agent console yet", st.Status)
	}
	status, trigger, err := store.HandoffState(ctx, conv.ID)
	if err != nil || status != "handoff_requested" || trigger != bot.TriggerWords {
		t.Errorf("conversation handoff state = %q, %q, %v", status, trigger, err)
	}
	if _, err := desk.Request(ctx, "c_missing", bot.TriggerButton); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown conversation: err = %v, want not found", err)
	}
}
