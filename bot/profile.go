package bot

import (
	"context"
	"time"
)

// Features are what a shopper's order history says about how they buy,
// recomputed whenever one of their orders is written (ComputeFeatures).
// Counted orders are those neither unpaid nor cancelled; refunded orders
// count towards frequency but not towards money spent.
type Features struct {
	Orders           int       `json:"orders"`
	FirstOrderAt     time.Time `json:"first_order_at,omitzero"`
	LastOrderAt      time.Time `json:"last_order_at,omitzero"`
	RecencyDays      int       `json:"recency_days"`   // days since the last counted order, at ComputedAt
	Frequency365d    int       `json:"frequency_365d"` // counted orders in the last 365 days
	MonetaryCents    int64     `json:"monetary_cents"` // spent in the last 365 days
	AOVCents         int64     `json:"aov_cents"`      // average order value
	FavCategories    []string  `json:"fav_categories"` // most bought first
	PreferredPayment string    `json:"preferred_payment,omitempty"`
	PreferredCarrier string    `json:"preferred_carrier,omitempty"`
	Segment          string    `json:"segment"` // Segment*
	ComputedAt       time.Time `json:"computed_at"`
}

// Segments, from the documented rules in docs/profiles.md.
const (
	SegmentProspect  = "prospect"   // no counted order yet
	SegmentNew       = "new"        // first counted order within the last 30 days
	SegmentHighValue = "high_value" // spent the most recently
	SegmentLoyal     = "loyal"      // buys often and recently
	SegmentAtRisk    = "at_risk"    // used to buy, not for a while
	SegmentLapsed    = "lapsed"     // nothing for a long time
	SegmentRegular   = "regular"    // everyone else
)

// Profile fields a personalised reply may use, named in Message.Personalized.
const (
	ProfileFieldName      = "name"
	ProfileFieldTier      = "tier"
	ProfileFieldLang      = "lang"
	ProfileFieldAgeBand   = "age_band"
	ProfileFieldGender    = "gender"
	ProfileFieldInterests = "interests"
	ProfileFieldPreferred = "preferred_categories"
	ProfileFieldHistory   = "purchase_history" // features from the orders
)

// ConsentPersonalize is the consent to replies personalised from the
// profile. It is off until the shopper turns it on.
const ConsentPersonalize = "personalize"

// Consent is one choice a shopper made, kept as history.
type Consent struct {
	Kind    string    `json:"kind"`
	Granted bool      `json:"granted"`
	Source  string    `json:"source,omitempty"` // widget | api | import
	At      time.Time `json:"at"`
}

// Profiles gives the bot a shopper's current profile (with consent and
// features), read at every turn so that a consent switched or an order
// written a moment ago counts at once, and the catalog to recommend from.
type Profiles interface {
	// Profile returns the shopper with Features set, or ErrNotFound.
	Profile(ctx context.Context, shopperID string) (Shopper, error)
	// Products returns the catalog.
	Products(ctx context.Context) ([]Product, error)
	// BoughtSKUs returns, in any order and each once, the SKUs of the
	// items in every order of the shopper that is not cancelled (all of
	// them, however many): recommendations leave those items out.
	BoughtSKUs(ctx context.Context, shopperID string) ([]string, error)
}

// Webhook event types sent to the shop's own systems.
const (
	WebhookReturnConfirmed = "return.confirmed"
	WebhookHandoff         = "conversation.handed_off"
)

// Webhooks tells the shop's own systems what happened. Emit stores the
// event durably in the caller's process; delivery (signed, retried) happens
// later, so a slow or dead endpoint never holds a conversation up.
type Webhooks interface {
	Emit(ctx context.Context, eventType string, data any) error
}
