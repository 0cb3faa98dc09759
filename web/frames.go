package web

import (
	"encoding/json"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// Frames of protocol v1 (docs/protocol.md). Every frame is one JSON object
// with a "type".

// inFrame is any client-to-server frame; which fields matter depends on Type.
type inFrame struct {
	Type      string `json:"type"`
	ClientID  string `json:"client_id"`
	Text      string `json:"text"`
	MessageID string `json:"message_id"`
	Helpful   *bool  `json:"helpful"`
	Score     int    `json:"score"`
	Comment   string `json:"comment"`
	// ProposalID names a return proposal (return_confirm, return_cancel).
	ProposalID string `json:"proposal_id"`
	// ContactVia and Contact say how a shopper who leaves a message
	// (leave_message) wants to be answered.
	ContactVia string `json:"contact_via"`
	Contact    string `json:"contact"`
}

type shopperInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type helloFrame struct {
	Type         string       `json:"type"`
	Conversation string       `json:"conversation"`
	LastSeq      int64        `json:"last_seq"`
	Shopper      *shopperInfo `json:"shopper"`
	Lang         string       `json:"lang"`
	// Visitor is the anonymous visitor id the conversation belongs to, so a
	// client that did not send one can resume later. Absent for shoppers.
	Visitor string `json:"visitor,omitempty"`
	// Prechat asks the widget to offer the assistant or a person before the
	// first message (Config.Prechat). Absent when false.
	Prechat bool `json:"prechat,omitempty"`
}

type ackFrame struct {
	Type     string `json:"type"`
	ClientID string `json:"client_id"`
	Seq      int64  `json:"seq"`
}

type messageFrame struct {
	Type string `json:"type"`
	*bot.Message
	// These shadow the message's omitempty fields, so they are always sent.
	Sources     []bot.Source `json:"sources"`
	Cards       []bot.Card   `json:"cards"`
	Suggestions []string     `json:"suggestions"`
}

type typingFrame struct {
	Type string `json:"type"`
	Role string `json:"role"`
}

type deltaFrame struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	N    int64  `json:"n"`
	Text string `json:"text"`
}

// handoffFrame says where a request for a person stands: queued, assigned,
// ticket, closed or offline.
type handoffFrame struct {
	Type     string `json:"type"`
	Status   string `json:"status"`
	Position int    `json:"position"`
	// ETASeconds is the estimated wait while queued; absent when unknown.
	ETASeconds int `json:"eta_seconds,omitempty"`
	// Agent is the display name of the agent, once assigned.
	Agent string `json:"agent,omitempty"`
	// Resumed marks the frame a reconnected socket gets after its replay,
	// to restore the state without a new notice. Absent when false.
	Resumed bool `json:"resumed,omitempty"`
}

type errorFrame struct {
	Type     string `json:"type"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	ClientID string `json:"client_id,omitempty"`
}

// outFrame is an encoded server frame on its way to one or more sockets.
type outFrame struct {
	data []byte
	// seq is the message seq for "message" frames, 0 otherwise: sockets
	// use it to skip a message they already sent during a replay.
	seq int64
	// ephemeral frames (typing) are the first dropped under pressure.
	ephemeral bool
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every frame type above marshals; this is unreachable in practice,
		// and the client still gets a well-formed frame.
		return []byte(`{"type":"error","code":"internal","message":"frame encoding failed"}`)
	}
	return b
}

// encodeEvent turns a bot event into a frame.
func encodeEvent(ev bot.Event) (outFrame, bool) {
	switch ev.Type {
	case bot.EventAck:
		return outFrame{data: encode(ackFrame{Type: "ack", ClientID: ev.ClientID, Seq: ev.Seq})}, true
	case bot.EventMessage:
		if ev.Message == nil {
			return outFrame{}, false
		}
		return messageOut(*ev.Message), true
	case bot.EventTyping:
		if ev.Role == bot.RoleShopper {
			// The shopper's own typing is for the agents watching, whose
			// sockets encode it themselves: never echoed to shopper sockets.
			return outFrame{}, false
		}
		return outFrame{data: encode(typingFrame{Type: "typing", Role: ev.Role}), ephemeral: true}, true
	case bot.EventDelta:
		// Droppable under pressure like typing: the complete message
		// follows and replaces whatever the client showed.
		return outFrame{data: encode(deltaFrame{Type: "delta", ID: ev.MessageID, N: ev.Seq, Text: ev.Text}), ephemeral: true}, true
	case bot.EventHandoff:
		if ev.Handoff == nil {
			return outFrame{}, false
		}
		return handoffOut(*ev.Handoff, false), true
	case bot.EventError:
		return outFrame{data: encode(errorFrame{Type: "error", Code: ev.Code, Message: ev.Text, ClientID: ev.ClientID})}, true
	}
	return outFrame{}, false
}

// handoffOut encodes a handoff status; resumed marks the one sent after a
// reconnect's replay.
func handoffOut(st bot.HandoffStatus, resumed bool) outFrame {
	return outFrame{data: encode(handoffFrame{Type: "handoff", Status: st.Status, Position: st.Position,
		ETASeconds: st.ETASeconds, Agent: st.Agent, Resumed: resumed})}
}

// messageOut encodes a stored message. sources, cards and suggestions are
// always arrays, empty rather than absent or null, so clients can iterate
// them without checks.
func messageOut(m bot.Message) outFrame {
	if m.Role == bot.RoleAgent {
		m.ClientID = "" // the console's id, which names the agent's account
	}
	f := messageFrame{Type: "message", Message: &m, Sources: m.Sources, Cards: m.Cards, Suggestions: m.Suggestions}
	if m.Sources == nil {
		f.Sources = []bot.Source{}
	}
	if m.Cards == nil {
		f.Cards = []bot.Card{}
	}
	if m.Suggestions == nil {
		f.Suggestions = []string{}
	}
	return outFrame{data: encode(f), seq: m.Seq}
}
