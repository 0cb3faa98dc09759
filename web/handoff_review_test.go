package web

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
)

// TestWatcherDroppedWhenAnotherAgentClaims: an agent may watch a queued
// conversation to decide whether to take it, but once another agent has
// claimed it the conversation is outside her access (404 on every route),
// so her socket must stop receiving its live messages and typing.
func TestWatcherDroppedWhenAnotherAgentClaims(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	ctx := context.Background()
	queued := e.queued(t, "visitor-review-watch", "agnes")
	agnes := e.login(t, "agnes")
	aws, _ := agnes.openAgent(t)
	if err := aws.WriteJSON(map[string]string{"type": "watch", "conversation": queued}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "agnes to watch the queued conversation", func() bool { return e.hub.agentWatchers(queued) == 1 })

	if _, err := e.desk.Claim(ctx, e.me("bruno"), queued); err != nil {
		t.Fatalf("bruno claims: %v", err)
	}
	if err := e.desk.CanSee(ctx, e.me("agnes"), queued); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("agnes may still see bruno's conversation: %v", err)
	}
	// Give any re-check the socket makes time to run.
	time.Sleep(300 * time.Millisecond)

	e.hub.Publish(queued, bot.Event{Type: bot.EventMessage, Message: &bot.Message{ID: "m_private", Seq: 50,
		Role: bot.RoleShopper, Text: "my card number is 6222020200112233445"}})
	e.hub.Publish(queued, bot.Event{Type: bot.EventTyping, Role: bot.RoleShopper})

	aws.SetReadDeadline(time.Now().Add(time.Second))
	for {
		_, data, err := aws.ReadMessage()
		if err != nil {
			break // deadline: nothing more came
		}
		var f agentFrame
		json.Unmarshal(data, &f)
		// The "has joined" notice published during the claim itself may
		// still arrive; what comes after the claim must not.
		if f.Conversation == queued && (strings.Contains(string(data), "m_private") || f.Type == "typing") {
			t.Errorf("agnes's socket still receives bruno's conversation after he claimed it: %s", data)
		}
	}
	if n := e.hub.agentWatchers(queued); n != 0 {
		t.Errorf("%d agent sockets still watch the conversation claimed by bruno, want 0 (bruno has no socket open)", n)
	}
}

// TestClaimAndCloseAnswersMaskPersonalData: a ticket's contact and the
// shopper's last text are personal data the console shows masked until an
// agent reveals them (an audit row). The case returned by claim, transfer
// and close must be masked like the board's, or claiming a ticket reveals
// its contact without any audit.
func TestClaimAndCloseAnswersMaskPersonalData(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	ctx := context.Background()
	conv, err := e.store.OpenConversation(ctx, "v:visitor-review-mask", "", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.AppendMessage(ctx, bot.Message{ConversationID: conv.ID, Role: bot.RoleShopper,
		Text: "please call me on 13812345678", ClientID: "q1"}); err != nil {
		t.Fatal(err)
	}
	// Nobody online: the shopper leaves a message with an e-mail address.
	if _, err := e.desk.LeaveMessage(ctx, conv.ID, bot.LeftMessage{Text: "call me please", ContactVia: "email", Contact: "lin.xiaoyu@example.com"}); err != nil {
		t.Fatal(err)
	}
	agnes := e.login(t, "agnes")

	var b handoff.Board
	if st := agnes.do("GET", "/api/v1/console/board", nil, &b); st != 200 || len(b.Tickets) != 1 {
		t.Fatalf("board: %d %+v", st, b.Tickets)
	}
	if c := b.Tickets[0].Ticket.Contact; c == "lin.xiaoyu@example.com" {
		t.Fatalf("the board shows the contact unmasked: %q", c)
	}

	var claimed struct {
		Case handoff.Case `json:"case"`
	}
	if st := agnes.do("POST", "/api/v1/console/conversations/"+conv.ID+"/claim", map[string]any{}, &claimed); st != 200 {
		t.Fatalf("claim: %d", st)
	}
	if claimed.Case.Ticket == nil {
		t.Fatalf("claim answered %+v, want the case with its ticket", claimed.Case)
	}
	if strings.Contains(claimed.Case.Ticket.Contact, "lin.xiaoyu@") {
		t.Errorf("claim answered the ticket's contact unmasked, without a reveal: %q", claimed.Case.Ticket.Contact)
	}
	if strings.Contains(claimed.Case.LastText, "13812345678") {
		t.Errorf("claim answered the last text unmasked: %q", claimed.Case.LastText)
	}

	var closed struct {
		Case handoff.Case `json:"case"`
	}
	if st := agnes.do("POST", "/api/v1/console/conversations/"+conv.ID+"/close", map[string]string{"resolution": "resolved"}, &closed); st != 200 {
		t.Fatalf("close: %d", st)
	}
	if closed.Case.Ticket != nil && strings.Contains(closed.Case.Ticket.Contact, "lin.xiaoyu@") {
		t.Errorf("close answered the ticket's contact unmasked: %q", closed.Case.Ticket.Contact)
	}
	if strings.Contains(closed.Case.LastText, "13812345678") {
		t.Errorf("close answered the last text unmasked: %q", closed.Case.LastText)
	}
	if log, _ := e.store.AuditLog(ctx, 10); len(log) != 0 {
		t.Errorf("audit log %+v, want empty: nothing was revealed", log)
	}
}
