package web

import (
	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
)

// Frames of the agent socket, /ws/agent (docs/console-api.md). Unlike the
// shopper's frames they name their conversation, because one console
// watches several.

// agentInFrame is any console-to-server frame; which fields matter depends on Type.
type agentInFrame struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Status       string `json:"status"`
}

type agentHelloFrame struct {
	Type  string        `json:"type"`
	Agent handoff.Agent `json:"agent"`
}

// noticeFrame is board, assigned and case: a hint to refetch.
type noticeFrame struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation,omitempty"`
}

type agentTypingFrame struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Role         string `json:"role"`
}

// messageJSON is a stored message as the console reads it: protocol-v1
// message fields with sources, cards and suggestions always arrays.
type messageJSON struct {
	*bot.Message
	// These shadow the message's omitempty fields, so they are always sent.
	Sources     []bot.Source `json:"sources"`
	Cards       []bot.Card   `json:"cards"`
	Suggestions []string     `json:"suggestions"`
}

func toMessageJSON(m bot.Message) messageJSON {
	return messageJSON{Message: &m, Sources: nonNilSlice(m.Sources), Cards: nonNilSlice(m.Cards), Suggestions: nonNilSlice(m.Suggestions)}
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type agentMessageFrame struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	messageJSON
}

// encodeAgentEvent turns a conversation's event into the frame its agent
// watchers get: messages, typing (the shopper's too, which shopper sockets
// never get) and handoff changes as "case". Acks, deltas and errors are the
// shopper's business only. Frames carry no seq: seqs are per conversation
// and a console watches several, so conn must not dedupe by them.
func encodeAgentEvent(conversationID string, ev bot.Event) (outFrame, bool) {
	switch ev.Type {
	case bot.EventMessage:
		if ev.Message == nil {
			return outFrame{}, false
		}
		// Personal data stays hidden as in the console's view, until an
		// agent reveals it there (audited).
		m := *ev.Message
		if masked := handoff.MaskForStaff(m.Text); masked != m.Text {
			m.Text = masked
		}
		return outFrame{data: encode(agentMessageFrame{Type: "message", Conversation: conversationID, messageJSON: toMessageJSON(m)})}, true
	case bot.EventTyping:
		return outFrame{data: encode(agentTypingFrame{Type: "typing", Conversation: conversationID, Role: ev.Role}), ephemeral: true}, true
	case bot.EventHandoff:
		return outFrame{data: encode(noticeFrame{Type: "case", Conversation: conversationID})}, true
	}
	return outFrame{}, false
}

// encodeNotice turns a desk notice into its frame.
func encodeNotice(n handoff.Notice) (outFrame, bool) {
	switch n.Kind {
	case "board":
		return outFrame{data: encode(noticeFrame{Type: "board"})}, true
	case "assigned", "case":
		if n.ConversationID == "" {
			return outFrame{}, false
		}
		return outFrame{data: encode(noticeFrame{Type: n.Kind, Conversation: n.ConversationID})}, true
	}
	return outFrame{}, false
}
