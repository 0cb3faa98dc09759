// Package bot holds the conversation logic of Xiaoer: the domain types a
// shopper's conversation is made of (shoppers, orders, messages) and the bot
// that answers each turn from the knowledge base and the shopper's own orders.
//
// Storage and delivery sit behind the small interfaces declared in this
// package (Conversations, Orders, Publisher, Retriever), so the SQLite store
// and the in-process hub can later be joined by PostgreSQL and NATS.
package bot

import (
	"errors"
	"time"
)

// Errors returned by the storage interfaces.
var (
	// ErrNotFound is returned when a record does not exist or is not visible
	// to the caller. Callers must not distinguish the two.
	ErrNotFound = errors.New("not found")
	// ErrOtherShopper wraps ErrNotFound when a shopper asked for a record
	// that belongs to another shopper: callers answer exactly as for
	// ErrNotFound and may log a security event.
	ErrOtherShopper = otherShopperError{}
	// ErrConflict is returned when a record is not in a state that allows
	// the change, such as confirming a cancelled return proposal.
	ErrConflict = errors.New("conflict")
)

type otherShopperError struct{}

func (otherShopperError) Error() string        { return "belongs to another shopper" }
func (otherShopperError) Is(target error) bool { return target == ErrNotFound }

// Shopper is a shop customer with the profile the bot may use.
type Shopper struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Lang       string   `json:"lang"` // "zh" or "en"
	Tier       string   `json:"tier,omitempty"`
	Points     int64    `json:"points,omitempty"`
	AgeBand    string   `json:"age_band,omitempty"`
	Occupation string   `json:"occupation,omitempty"`
	Interests  []string `json:"interests,omitempty"`
	Gender     string   `json:"gender,omitempty"` // "", "female", "male" or "other"
	// PreferredCategories are catalog categories the shopper (or the shop)
	// said they like.
	PreferredCategories []string `json:"preferred_categories,omitempty"`
	Phone               string   `json:"phone,omitempty"`
	Email               string   `json:"email,omitempty"`
	Address             string   `json:"address,omitempty"`
	// Personalize is the shopper's consent to replies personalised from
	// their profile; without it no profile field reaches the model.
	Personalize bool `json:"personalize,omitempty"`
	// Features is what the shopper's orders say about how they buy; nil
	// when not loaded.
	Features *Features `json:"features,omitempty"`
}

// Product is a catalog item.
type Product struct {
	SKU        string `json:"sku"`
	NameZH     string `json:"name_zh"`
	NameEN     string `json:"name_en"`
	Category   string `json:"category"`
	PriceCents int64  `json:"price_cents"`
	// StatutoryExclusion is "" for ordinary goods, or one of "custom",
	// "perishable", "digital", "periodical": the categories the law excludes
	// from 7-day no-reason returns.
	StatutoryExclusion string `json:"statutory_exclusion,omitempty"`
}

// Order statuses.
const (
	StatusUnpaid    = "unpaid"
	StatusPaid      = "paid"
	StatusShipped   = "shipped"
	StatusDelivered = "delivered"
	StatusRefunded  = "refunded"
	StatusCancelled = "cancelled"
)

// Order is one of a shopper's orders.
type Order struct {
	ID            string          `json:"id"`
	ShopperID     string          `json:"shopper_id"`
	Status        string          `json:"status"`
	Currency      string          `json:"currency"`
	TotalCents    int64           `json:"total_cents"`
	ShippingCents int64           `json:"shipping_cents"`
	Payment       string          `json:"payment,omitempty"`
	Carrier       string          `json:"carrier,omitempty"`
	TrackingNo    string          `json:"tracking_no,omitempty"`
	PlacedAt      time.Time       `json:"placed_at"`
	DeliveredAt   time.Time       `json:"delivered_at,omitzero"`
	Items         []OrderItem     `json:"items"`
	History       []StatusChange  `json:"history,omitempty"`
	Tracking      []TrackingEvent `json:"tracking,omitempty"`
}

// OrderItem is a line of an order.
type OrderItem struct {
	SKU                string `json:"sku"`
	NameZH             string `json:"name_zh"`
	NameEN             string `json:"name_en"`
	Qty                int    `json:"qty"`
	PriceCents         int64  `json:"price_cents"`
	StatutoryExclusion string `json:"statutory_exclusion,omitempty"`
	// NonReturnableConfirmed records that the shopper confirmed at checkout
	// that this item cannot be returned without reason.
	NonReturnableConfirmed bool `json:"non_returnable_confirmed,omitempty"`
}

// StatusChange is one step of an order's status history.
type StatusChange struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// TrackingEvent is one carrier scan, in both languages.
type TrackingEvent struct {
	At         time.Time `json:"at"`
	LocationZH string    `json:"location_zh,omitempty"`
	LocationEN string    `json:"location_en,omitempty"`
	TextZH     string    `json:"text_zh"`
	TextEN     string    `json:"text_en"`
}

// Roles of a message's author.
const (
	RoleShopper = "shopper"
	RoleBot     = "bot"
	RoleAgent   = "agent"
	RoleSystem  = "system"
)

// Conversation is one chat between a shopper (or anonymous visitor) and the shop.
type Conversation struct {
	ID string
	// Owner is "s:<shopper id>" for a verified shopper, "v:<visitor id>" for
	// an anonymous visitor. Only the owner may resume a conversation.
	Owner     string
	ShopperID string // empty for visitors
	Lang      string
	LastSeq   int64
	CreatedAt time.Time
}

// Message is one stored message of a conversation, as protocol v1 sends it.
type Message struct {
	ID             string   `json:"id"`
	ConversationID string   `json:"-"`
	Seq            int64    `json:"seq"`
	Role           string   `json:"role"`
	Text           string   `json:"text"`
	ClientID       string   `json:"client_id,omitempty"`
	ReplyTo        string   `json:"reply_to,omitempty"`
	Sources        []Source `json:"sources,omitempty"`
	Cards          []Card   `json:"cards,omitempty"`
	Suggestions    []string `json:"suggestions,omitempty"`
	Intent         string   `json:"intent,omitempty"`
	// Personalized names the profile fields the reply used (ProfileField*),
	// so every personalised element can be traced; empty for a reply that
	// used no profile data.
	Personalized []string `json:"personalized,omitempty"`
	// AgentName is the display name of the agent who wrote a RoleAgent message.
	AgentName string    `json:"agent_name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Source is a knowledge entry a reply was drawn from.
type Source struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Card is structured content shown beside a message: Kind "order" (an
// order), "return" (a return proposal, confirmed or cancelled) or
// "product" (a catalog item recommended to the shopper).
type Card struct {
	Kind        string     `json:"kind"`
	OrderID     string     `json:"order_id,omitempty"`
	Status      string     `json:"status,omitempty"`
	StatusText  string     `json:"status_text,omitempty"`
	Items       []CardItem `json:"items,omitempty"`
	Total       string     `json:"total,omitempty"`
	Carrier     string     `json:"carrier,omitempty"`
	TrackingNo  string     `json:"tracking_no,omitempty"`
	PlacedAt    string     `json:"placed_at,omitempty"`
	LatestEvent *CardEvent `json:"latest_event,omitempty"`
	ReturnUntil string     `json:"return_until,omitempty"`
	// ProposalID, ReturnID and Reason are set on "return" cards, whose
	// Status is "proposed", "confirmed" or "cancelled".
	ProposalID string `json:"proposal_id,omitempty"`
	ReturnID   string `json:"return_id,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// SKU, Name, Price and Category are set on "product" cards; Reason
	// then says why it was recommended ("you like running").
	SKU      string `json:"sku,omitempty"`
	Name     string `json:"name,omitempty"`
	Price    string `json:"price,omitempty"`
	Category string `json:"category,omitempty"`
}

// CardItem is an order line on a card.
type CardItem struct {
	Name string `json:"name"`
	Qty  int    `json:"qty"`
}

// CardEvent is the latest tracking event on a card.
type CardEvent struct {
	Time string `json:"time"`
	Text string `json:"text"`
}
