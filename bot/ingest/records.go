package ingest

import (
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// Record kinds, as in the API's paths (plural) and JSONL's "type" (singular).
const (
	KindShopper  = "shopper"
	KindOrder    = "order"
	KindShipment = "shipment"
	KindProduct  = "product"
)

// Kinds are the record kinds, in the order a first import should load them
// (an order needs its shopper, a shipment its order).
var Kinds = []string{KindProduct, KindShopper, KindOrder, KindShipment}

// Limits of a record's fields.
const (
	maxID     = 64   // ids, skus, tracking numbers
	maxShort  = 200  // names, categories, tiers, carriers...
	maxLong   = 1000 // addresses, tracking texts
	maxList   = 50   // interests, preferred categories
	maxItems  = 200  // items of an order
	maxEvents = 500  // status history and tracking events
)

// idPattern is what ids, skus and tracking numbers may look like.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)

// ShopperRecord is a shopper and their profile as the shop knows them. It
// replaces every profile field, but never the shopper's consent to
// personalisation (bot.ConsentPersonalize): that is the shopper's own
// choice, made in the chat, and a record that carries "personalize" is
// refused.
type ShopperRecord struct {
	Type                string   `json:"type,omitempty"` // JSONL only
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Lang                string   `json:"lang"` // zh or en
	Tier                string   `json:"tier,omitempty"`
	Points              int64    `json:"points,omitempty"`
	AgeBand             string   `json:"age_band,omitempty"`
	Gender              string   `json:"gender,omitempty"` // "", female, male or other
	Occupation          string   `json:"occupation,omitempty"`
	Interests           []string `json:"interests,omitempty"`
	PreferredCategories []string `json:"preferred_categories,omitempty"`
	Phone               string   `json:"phone,omitempty"`
	Email               string   `json:"email,omitempty"`
	Address             string   `json:"address,omitempty"`
}

// OrderRecord is one of a shopper's orders with its items and status
// history. Tracking, when present (even empty), replaces the order's
// tracking events; when absent, the events the order already has (from
// shipments) are kept. So are its carrier, tracking number and delivery
// time when the record leaves them empty.
type OrderRecord struct {
	Type          string              `json:"type,omitempty"` // JSONL only
	ID            string              `json:"id"`
	ShopperID     string              `json:"shopper_id"`
	Status        string              `json:"status"`
	Currency      string              `json:"currency,omitempty"` // default CNY
	TotalCents    int64               `json:"total_cents"`
	ShippingCents int64               `json:"shipping_cents,omitempty"`
	Payment       string              `json:"payment,omitempty"`
	Carrier       string              `json:"carrier,omitempty"`
	TrackingNo    string              `json:"tracking_no,omitempty"`
	PlacedAt      time.Time           `json:"placed_at"`
	DeliveredAt   time.Time           `json:"delivered_at,omitzero"`
	Items         []bot.OrderItem     `json:"items"`
	History       []bot.StatusChange  `json:"history,omitempty"`
	Tracking      []bot.TrackingEvent `json:"tracking,omitempty"`
}

// Shipment is what a carrier (or the shop's warehouse) says about an
// order's parcel. It updates the order's carrier, tracking number, status
// (only forward: unpaid, paid, shipped, delivered, then refunded or
// cancelled; a step in the status history, dated by delivered_at or the
// latest event) and delivery time, and merges its events into the order's
// tracking (events already there, same time and text, are not added
// twice). A shipment dated before the order was placed is refused.
type Shipment struct {
	Type        string              `json:"type,omitempty"` // JSONL only
	OrderID     string              `json:"order_id"`
	Carrier     string              `json:"carrier,omitempty"`
	TrackingNo  string              `json:"tracking_no,omitempty"`
	Status      string              `json:"status,omitempty"` // shipped or delivered; empty keeps the order's
	DeliveredAt time.Time           `json:"delivered_at,omitzero"`
	Events      []bot.TrackingEvent `json:"events,omitempty"`
}

// ProductRecord is a catalog item.
type ProductRecord struct {
	Type               string `json:"type,omitempty"` // JSONL only
	SKU                string `json:"sku"`
	NameZH             string `json:"name_zh,omitempty"`
	NameEN             string `json:"name_en,omitempty"`
	Category           string `json:"category,omitempty"`
	PriceCents         int64  `json:"price_cents"`
	StatutoryExclusion string `json:"statutory_exclusion,omitempty"`
}

// Allowed values.
var (
	orderStatuses       = []string{bot.StatusUnpaid, bot.StatusPaid, bot.StatusShipped, bot.StatusDelivered, bot.StatusRefunded, bot.StatusCancelled}
	shipmentStatuses    = []string{bot.StatusShipped, bot.StatusDelivered}
	genders             = []string{"", "female", "male", "other"}
	statutoryExclusions = []string{"", "custom", "perishable", "digital", "periodical"}
	currencyPattern     = regexp.MustCompile(`^[A-Z]{3}$`)
)

// futureSlack is how far ahead of the server's clock a time may be: shop
// clocks drift, but an order placed tomorrow is a mistake.
const futureSlack = time.Hour

// checker collects the first problem of a record.
type checker struct {
	err error
}

func (c *checker) fail(format string, args ...any) {
	if c.err == nil {
		c.err = &InvalidError{Msg: fmt.Sprintf(format, args...)}
	}
}

func (c *checker) id(field, v string, required bool) {
	switch {
	case v == "" && required:
		c.fail("%s is required", field)
	case v == "":
	case len(v) > maxID:
		c.fail("%s is longer than %d characters", field, maxID)
	case !idPattern.MatchString(v):
		c.fail("%s %q may contain only letters, digits and . _ : / -, starting with a letter or digit", field, v)
	}
}

func (c *checker) text(field, v string, max int) {
	if !utf8.ValidString(v) {
		c.fail("%s is not valid UTF-8", field)
	} else if n := utf8.RuneCountInString(v); n > max {
		c.fail("%s is longer than %d characters (%d)", field, max, n)
	}
}

func (c *checker) list(field string, vs []string) {
	if len(vs) > maxList {
		c.fail("%s has more than %d entries", field, maxList)
	}
	for _, v := range vs {
		if v == "" {
			c.fail("%s has an empty entry", field)
		}
		c.text(field, v, maxShort)
	}
}

func (c *checker) oneOf(field, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c.fail("unknown %s %q: want one of %v", field, v, nonEmpty(allowed))
	}
}

func (c *checker) notNegative(field string, v int64) {
	if v < 0 {
		c.fail("%s must not be negative", field)
	}
}

func (c *checker) time(field string, t time.Time, required bool, now time.Time) {
	switch {
	case t.IsZero() && required:
		c.fail("%s is required (RFC 3339, e.g. 2026-05-10T14:03:00+08:00)", field)
	case t.IsZero():
	case t.Year() < 2000:
		c.fail("%s %s is before 2000", field, t.Format(time.RFC3339))
	case t.After(now.Add(futureSlack)):
		c.fail("%s %s is in the future", field, t.Format(time.RFC3339))
	}
}

func (c *checker) kind(recordType, want string) {
	if recordType != "" && recordType != want {
		c.fail("type %q sent as a %s", recordType, want)
	}
}

func (c *checker) events(field string, evs []bot.TrackingEvent, now time.Time) {
	if len(evs) > maxEvents {
		c.fail("%s has more than %d events", field, maxEvents)
	}
	for i, e := range evs {
		f := fmt.Sprintf("%s[%d]", field, i)
		c.time(f+".at", e.At, true, now)
		if e.TextZH == "" && e.TextEN == "" {
			c.fail("%s needs text_zh or text_en", f)
		}
		c.text(f+".text_zh", e.TextZH, maxLong)
		c.text(f+".text_en", e.TextEN, maxLong)
		c.text(f+".location_zh", e.LocationZH, maxShort)
		c.text(f+".location_en", e.LocationEN, maxShort)
	}
}

func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Validate reports the first problem of the record, as an *InvalidError.
func (r ShopperRecord) Validate() error {
	var c checker
	c.kind(r.Type, KindShopper)
	c.id("id", r.ID, true)
	c.oneOf("lang", r.Lang, []string{"zh", "en"})
	c.oneOf("gender", r.Gender, genders)
	c.notNegative("points", r.Points)
	for _, f := range []struct {
		name, v string
		max     int
	}{{"name", r.Name, maxShort}, {"tier", r.Tier, maxShort}, {"age_band", r.AgeBand, maxShort},
		{"occupation", r.Occupation, maxShort}, {"phone", r.Phone, 40}, {"email", r.Email, 254}, {"address", r.Address, maxLong}} {
		c.text(f.name, f.v, f.max)
	}
	c.list("interests", r.Interests)
	c.list("preferred_categories", r.PreferredCategories)
	return c.err
}

// Shopper returns the record as a bot.Shopper (Personalize false; the
// store never writes it from here).
func (r ShopperRecord) Shopper() bot.Shopper {
	return bot.Shopper{ID: r.ID, Name: r.Name, Lang: r.Lang, Tier: r.Tier, Points: r.Points, AgeBand: r.AgeBand,
		Gender: r.Gender, Occupation: r.Occupation, Interests: r.Interests, PreferredCategories: r.PreferredCategories,
		Phone: r.Phone, Email: r.Email, Address: r.Address}
}

// Validate reports the first problem of the record at now, as an
// *InvalidError. Whether the shopper exists is checked when it is written.
func (r OrderRecord) Validate(now time.Time) error {
	var c checker
	c.kind(r.Type, KindOrder)
	c.id("id", r.ID, true)
	c.id("shopper_id", r.ShopperID, true)
	c.oneOf("status", r.Status, orderStatuses)
	if r.Currency != "" && !currencyPattern.MatchString(r.Currency) {
		c.fail("currency %q must be 3 capital letters, e.g. CNY", r.Currency)
	}
	c.notNegative("total_cents", r.TotalCents)
	c.notNegative("shipping_cents", r.ShippingCents)
	c.text("payment", r.Payment, maxShort)
	c.text("carrier", r.Carrier, maxShort)
	c.id("tracking_no", r.TrackingNo, false)
	c.time("placed_at", r.PlacedAt, true, now)
	c.time("delivered_at", r.DeliveredAt, false, now)
	if !r.DeliveredAt.IsZero() && r.DeliveredAt.Before(r.PlacedAt) {
		c.fail("delivered_at is before placed_at")
	}
	if r.Status == bot.StatusDelivered && r.DeliveredAt.IsZero() {
		c.fail("a delivered order needs delivered_at")
	}
	if len(r.Items) == 0 {
		c.fail("items: an order needs at least one item")
	}
	if len(r.Items) > maxItems {
		c.fail("items: more than %d", maxItems)
	}
	for i, it := range r.Items {
		f := fmt.Sprintf("items[%d]", i)
		c.id(f+".sku", it.SKU, true)
		if it.NameZH == "" && it.NameEN == "" {
			c.fail("%s needs name_zh or name_en", f)
		}
		c.text(f+".name_zh", it.NameZH, maxShort)
		c.text(f+".name_en", it.NameEN, maxShort)
		if it.Qty <= 0 {
			c.fail("%s.qty must be at least 1", f)
		}
		c.notNegative(f+".price_cents", it.PriceCents)
		c.oneOf(f+".statutory_exclusion", it.StatutoryExclusion, statutoryExclusions)
	}
	if len(r.History) > maxEvents {
		c.fail("history has more than %d steps", maxEvents)
	}
	for i, h := range r.History {
		f := fmt.Sprintf("history[%d]", i)
		c.oneOf(f+".status", h.Status, orderStatuses)
		c.time(f+".at", h.At, true, now)
	}
	c.events("tracking", r.Tracking, now)
	return c.err
}

// Order returns the record as a bot.Order, with the currency defaulted.
func (r OrderRecord) Order() bot.Order {
	o := bot.Order{ID: r.ID, ShopperID: r.ShopperID, Status: r.Status, Currency: r.Currency, TotalCents: r.TotalCents,
		ShippingCents: r.ShippingCents, Payment: r.Payment, Carrier: r.Carrier, TrackingNo: r.TrackingNo,
		PlacedAt: r.PlacedAt, DeliveredAt: r.DeliveredAt, Items: r.Items, History: r.History, Tracking: r.Tracking}
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	return o
}

// Validate reports the first problem of the shipment at now, as an
// *InvalidError. Whether the order exists is checked when it is written.
func (s Shipment) Validate(now time.Time) error {
	var c checker
	c.kind(s.Type, KindShipment)
	c.id("order_id", s.OrderID, true)
	c.text("carrier", s.Carrier, maxShort)
	c.id("tracking_no", s.TrackingNo, false)
	if s.Status != "" {
		c.oneOf("status", s.Status, shipmentStatuses)
	}
	c.time("delivered_at", s.DeliveredAt, false, now)
	if s.Status == bot.StatusDelivered && s.DeliveredAt.IsZero() {
		c.fail("a delivered shipment needs delivered_at")
	}
	if !s.DeliveredAt.IsZero() && s.Status != bot.StatusDelivered {
		c.fail("delivered_at is set but status is not delivered")
	}
	c.events("events", s.Events, now)
	return c.err
}

// Validate reports the first problem of the record, as an *InvalidError.
func (r ProductRecord) Validate() error {
	var c checker
	c.kind(r.Type, KindProduct)
	c.id("sku", r.SKU, true)
	if r.NameZH == "" && r.NameEN == "" {
		c.fail("a product needs name_zh or name_en")
	}
	c.text("name_zh", r.NameZH, maxShort)
	c.text("name_en", r.NameEN, maxShort)
	c.text("category", r.Category, maxShort)
	c.notNegative("price_cents", r.PriceCents)
	c.oneOf("statutory_exclusion", r.StatutoryExclusion, statutoryExclusions)
	return c.err
}

// Product returns the record as a bot.Product.
func (r ProductRecord) Product() bot.Product {
	return bot.Product{SKU: r.SKU, NameZH: r.NameZH, NameEN: r.NameEN, Category: r.Category, PriceCents: r.PriceCents,
		StatutoryExclusion: r.StatutoryExclusion}
}
