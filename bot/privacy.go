package bot

import (
	"encoding/json"
	"time"
)

// ExportFormat names the layout of a DataExport; it changes when a field
// changes meaning.
const ExportFormat = "xiaoer.shopper-data/v1"

// Data request kinds (docs/privacy.md).
const (
	DataRequestExport = "export" // "download my data"
	DataRequestErase  = "erase"  // "delete my data"
)

// DueDate returns the legal due date of a data request made at t: one
// calendar month later (GDPR Art. 12(3)). Xiaoer answers at once; the due
// date is recorded as proof.
func DueDate(t time.Time) time.Time { return t.AddDate(0, 1, 0) }

// Values of DataRequest.LLMVendorDeletion.
const (
	// VendorDeletionNeeded: the shopper's conversations went to a model
	// vendor, which must be asked to delete what it received.
	VendorDeletionNeeded = "needed"
	// VendorDeletionNotNeeded: no model ever saw the shopper's messages.
	VendorDeletionNotNeeded = "not_needed"
)

// DataRequest is one "download my data" or "delete my data" request.
type DataRequest struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"` // DataRequestExport or DataRequestErase
	RequestedAt time.Time `json:"requested_at"`
	DueAt       time.Time `json:"due_at"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	// LLMVendorDeletion is set on erasures: VendorDeletionNeeded or
	// VendorDeletionNotNeeded.
	LLMVendorDeletion string `json:"llm_vendor_deletion,omitempty"`
	Note              string `json:"note,omitempty"`
}

// ConsentState is a shopper's current choices with their history.
type ConsentState struct {
	// Personalize is the current consent to personalised replies; false
	// until the shopper turns it on.
	Personalize bool      `json:"personalize"`
	History     []Consent `json:"history"` // oldest first
}

// DataExport is everything Xiaoer holds about one shopper and nothing
// about anyone else: the answer to "download my data", as JSON
// (docs/privacy.md). Records kept storage-only after an erasure are not in
// it; after an erasure it holds only ErasedAt, the data requests and the
// access log.
type DataExport struct {
	Format      string    `json:"format"` // ExportFormat
	GeneratedAt time.Time `json:"generated_at"`
	ShopperID   string    `json:"shopper_id"`
	ErasedAt    time.Time `json:"erased_at,omitzero"`
	// Profile is the profile the bot uses, nil when there is none (after
	// an erasure, until the shop sends the shopper again); Features are set
	// when computed.
	Profile         *Shopper             `json:"profile,omitempty"`
	Consents        []Consent            `json:"consents"`
	Conversations   []ExportConversation `json:"conversations"`
	Orders          []Order              `json:"orders"`
	ReturnProposals []ExportReturn       `json:"return_proposals"`
	ReturnRequests  []ExportReturn       `json:"return_requests"`
	DataRequests    []DataRequest        `json:"data_requests"`
	// Access lists who (staff, or the shopper) saw or handled their
	// personal data, from the append-only audit log.
	Access []AccessEntry `json:"access"`
}

// ExportConversation is one conversation with all its messages.
type ExportConversation struct {
	ID        string          `json:"id"`
	Lang      string          `json:"lang"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Rating    *ExportRating   `json:"rating,omitempty"`
	Messages  []ExportMessage `json:"messages"`
	// Handoffs are the shopper's requests for a person in the
	// conversation, with the message and contact left with a ticket.
	Handoffs []ExportHandoff `json:"handoffs,omitempty"`
}

// ExportHandoff is one request for a person (a handoff case), as stored.
type ExportHandoff struct {
	RequestedAt time.Time     `json:"requested_at"`
	Trigger     string        `json:"trigger"`
	Status      string        `json:"status"` // queued, assigned, ticket or closed
	ClosedAt    time.Time     `json:"closed_at,omitzero"`
	Resolution  string        `json:"resolution,omitempty"`
	Ticket      *ExportTicket `json:"ticket,omitempty"`
	// Summary is what the bot told the agent about the conversation.
	Summary json.RawMessage `json:"summary,omitempty"`
}

// ExportTicket is the message and the contact the shopper left for a
// person when nobody was available.
type ExportTicket struct {
	Text       string `json:"text"`
	ContactVia string `json:"contact_via,omitempty"`
	Contact    string `json:"contact,omitempty"`
}

// ExportRating is the shopper's rating of a conversation.
type ExportRating struct {
	Score   int    `json:"score"`
	Comment string `json:"comment,omitempty"`
}

// ExportMessage is one message with the label the widget shows beside it,
// so an exported transcript says which messages an AI wrote (AI-content
// labelling measures, in force 1 Sep 2025).
type ExportMessage struct {
	Seq       int64     `json:"seq"`
	Role      string    `json:"role"`
	Label     string    `json:"label"`    // English: "AI assistant", "Human agent: Li", "You", "System"
	LabelZH   string    `json:"label_zh"` // Chinese: "AI 助手", "人工客服：Li", "您", "系统"
	AgentName string    `json:"agent_name,omitempty"`
	Text      string    `json:"text"`
	Cards     []Card    `json:"cards,omitempty"`
	Helpful   *bool     `json:"helpful,omitempty"` // the shopper's thumbs up or down
	CreatedAt time.Time `json:"created_at"`
}

// ExportReturn is a return proposal or a return request.
type ExportReturn struct {
	ID             string       `json:"id"`
	ConversationID string       `json:"conversation_id,omitempty"`
	OrderID        string       `json:"order_id"`
	Items          []ReturnItem `json:"items"`
	Reason         string       `json:"reason,omitempty"`
	Status         string       `json:"status"`
	ReturnID       string       `json:"return_id,omitempty"`
	ProposalID     string       `json:"proposal_id,omitempty"`
	CreatedAt      time.Time    `json:"created_at"`
	DecidedAt      time.Time    `json:"decided_at,omitzero"`
}

// AccessEntry is one audit-log row about the shopper: who did what with
// which of their fields.
type AccessEntry struct {
	At             time.Time `json:"at"`
	Actor          string    `json:"actor"`
	Role           string    `json:"role"`
	Action         string    `json:"action"`
	Fields         []string  `json:"fields,omitempty"`
	ConversationID string    `json:"conversation_id,omitempty"`
}

// MessageLabel returns the visible author label of a message in English
// and Chinese: the AI is always named as such, and an agent as a person.
func MessageLabel(role, agentName string) (en, zh string) {
	switch role {
	case RoleBot:
		return "AI assistant", "AI 助手"
	case RoleAgent:
		if agentName == "" {
			return "Human agent", "人工客服"
		}
		return "Human agent: " + agentName, "人工客服：" + agentName
	case RoleShopper:
		return "You", "您"
	}
	return "System", "系统"
}

// Erasure reports what "delete my data" did.
type Erasure struct {
	Request DataRequest `json:"request"`
	// Conversations are the ids of the deleted conversations, for the
	// handoff desk to forget (handoff.Desk.Forget).
	Conversations []string `json:"-"`
	// StorageOnly counts the orders and returns kept, hidden, because the
	// law requires it.
	StorageOnly int `json:"storage_only"`
}
