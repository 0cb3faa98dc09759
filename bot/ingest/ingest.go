// Package ingest brings the shop's own data into Xiaoer: shoppers with
// their profiles, orders, shipments and catalog items, pushed by the shop's
// backend through the ingestion API (web) or loaded from a JSONL file
// (xiaoer import). Both go through Service, so a record is validated and
// written the same way whichever door it came in by.
//
// Every write is an upsert keyed by the record's id: posting the same
// record twice leaves the same state, so the shop may retry freely. Each
// record is written in its own transaction; a bad record is reported and
// does not stop the others. The format is documented in docs/ingest.md.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// InvalidError is a record the shop must fix: a bad or missing field, an
// unknown status, an order of an unknown shopper. Its message says which
// field and why, in English, for the shop's developers.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

// Store writes ingested records; package bot/sqlite implements it. Each
// method is one transaction and an upsert.
type Store interface {
	// IngestShopper creates or replaces a shopper and their profile, but
	// never their consent to personalisation. It returns an error that
	// errors.Is bot.ErrConflict for a shopper whose data was erased.
	IngestShopper(ctx context.Context, sh bot.Shopper) error
	// IngestOrder creates or replaces an order. A nil Tracking keeps the
	// tracking events the order has; so do an empty Carrier, TrackingNo and
	// a zero DeliveredAt keep the stored ones. It returns an error that
	// errors.Is bot.ErrNotFound when the shopper does not exist, and
	// bot.ErrConflict when the order belongs to another shopper. Order ids
	// are matched without regard to case.
	IngestOrder(ctx context.Context, o bot.Order) error
	// IngestShipment updates an order from a shipment, moving its status
	// only forward. It returns an error that errors.Is bot.ErrNotFound
	// when the order does not exist, and an *InvalidError for a shipment
	// dated before the order was placed.
	IngestShipment(ctx context.Context, s Shipment) error
	// IngestProduct creates or replaces a catalog item and brings the
	// features of the shoppers who bought it up to date.
	IngestProduct(ctx context.Context, p bot.Product) error
}

// Service validates records and writes them to the Store.
type Service struct {
	store Store
	now   func() time.Time
}

// New returns a Service; now is the clock times are checked against (nil
// means time.Now).
func New(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// RecordError is the problem of one record of a batch.
type RecordError struct {
	Index int    `json:"index"`          // 0-based position in the batch
	Line  int    `json:"line,omitempty"` // 1-based line of a JSONL file
	ID    string `json:"id,omitempty"`   // the record's id (an order id for a shipment), when it had one
	Error string `json:"error"`
}

// Result says what became of a batch.
type Result struct {
	Upserted int           `json:"upserted"`
	Failed   int           `json:"failed"`
	Errors   []RecordError `json:"errors"`
}

// KindOf maps a path segment ("orders") or a JSONL type ("order") to a
// record kind; ok is false for anything else.
func KindOf(s string) (kind string, ok bool) {
	s = strings.TrimSuffix(s, "s")
	for _, k := range Kinds {
		if k == s {
			return k, true
		}
	}
	return "", false
}

// PutAll validates and writes each record of kind in turn. A record that
// is invalid is reported in the Result and the others are still written.
// The error is for the store failing (the batch stops there).
func (s *Service) PutAll(ctx context.Context, kind string, records []json.RawMessage) (Result, error) {
	res := Result{Errors: []RecordError{}}
	for i, raw := range records {
		id, err := s.Put(ctx, kind, raw)
		var inv *InvalidError
		switch {
		case err == nil:
			res.Upserted++
		case errors.As(err, &inv):
			res.Failed++
			res.Errors = append(res.Errors, RecordError{Index: i, ID: id, Error: inv.Msg})
		default:
			return res, err
		}
	}
	return res, nil
}

// Put validates one record of kind and writes it. It returns the record's
// id (as far as it could be read, and empty unless it is a well-formed id)
// and an *InvalidError for a record the shop must fix; any other error is
// the store's.
func (s *Service) Put(ctx context.Context, kind string, raw []byte) (id string, err error) {
	id, err = s.put(ctx, kind, raw)
	if !wellFormedID(id) {
		// The id is echoed in reports (`xiaoer import` prints it on the
		// line of a bad record): one with a line break or a megabyte of
		// text would forge or flood them.
		id = ""
	}
	return id, err
}

// wellFormedID reports whether id is one a valid record could have.
func wellFormedID(id string) bool { return len(id) <= maxID && idPattern.MatchString(id) }

func (s *Service) put(ctx context.Context, kind string, raw []byte) (id string, err error) {
	switch kind {
	case KindShopper:
		var r ShopperRecord
		if err := decode(raw, &r); err != nil {
			return peekID(raw, "id"), err
		}
		if err := r.Validate(); err != nil {
			return r.ID, err
		}
		err := s.store.IngestShopper(ctx, r.Shopper())
		if errors.Is(err, bot.ErrConflict) {
			return r.ID, &InvalidError{Msg: fmt.Sprintf("shopper %q had their data erased in Xiaoer at their request: the profile is not taken again", r.ID)}
		}
		return r.ID, err
	case KindOrder:
		var r OrderRecord
		if err := decode(raw, &r); err != nil {
			return peekID(raw, "id"), err
		}
		if err := r.Validate(s.now()); err != nil {
			return r.ID, err
		}
		err := s.store.IngestOrder(ctx, r.Order())
		switch {
		case errors.Is(err, bot.ErrNotFound):
			return r.ID, &InvalidError{Msg: fmt.Sprintf("unknown shopper %q: send the shopper first", r.ShopperID)}
		case errors.Is(err, bot.ErrConflict):
			return r.ID, &InvalidError{Msg: fmt.Sprintf("order %q belongs to another shopper, not %q (order ids are compared without regard to case)", r.ID, r.ShopperID)}
		}
		return r.ID, err
	case KindShipment:
		var r Shipment
		if err := decode(raw, &r); err != nil {
			return peekID(raw, "order_id"), err
		}
		if err := r.Validate(s.now()); err != nil {
			return r.OrderID, err
		}
		err := s.store.IngestShipment(ctx, r)
		if errors.Is(err, bot.ErrNotFound) {
			return r.OrderID, &InvalidError{Msg: fmt.Sprintf("unknown order %q: send the order first", r.OrderID)}
		}
		return r.OrderID, err
	case KindProduct:
		var r ProductRecord
		if err := decode(raw, &r); err != nil {
			return peekID(raw, "sku"), err
		}
		if err := r.Validate(); err != nil {
			return r.SKU, err
		}
		return r.SKU, s.store.IngestProduct(ctx, r.Product())
	}
	return "", &InvalidError{Msg: fmt.Sprintf("unknown record type %q: want shopper, order, shipment or product", kind)}
}

// PutLine writes one JSONL line: a record with its kind in "type".
func (s *Service) PutLine(ctx context.Context, line []byte) (id string, err error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return "", decodeError(err)
	}
	if head.Type == "" {
		return "", &InvalidError{Msg: `type is required: "shopper", "order", "shipment" or "product"`}
	}
	kind, ok := KindOf(head.Type)
	if !ok || kind != head.Type {
		return "", &InvalidError{Msg: fmt.Sprintf("unknown type %q: want shopper, order, shipment or product", head.Type)}
	}
	return s.Put(ctx, kind, line)
}

// decode reads exactly one JSON object into v, refusing unknown fields so
// that a misspelt field is reported rather than silently dropped.
func decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return &InvalidError{Msg: "a record must be one JSON object"}
	}
	return nil
}

// decodeError turns a JSON error into a message a shop developer can act on.
func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	var tim *time.ParseError
	msg := err.Error()
	switch {
	case errors.As(err, &typ) && typ.Field != "":
		msg = fmt.Sprintf("%s: want %s, got a JSON %s", typ.Field, typ.Type, typ.Value)
	case errors.As(err, &typ):
		msg = fmt.Sprintf("a record must be a JSON object, got a JSON %s", typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		msg = "bad JSON: unexpected end of the record"
	case errors.As(err, &syn):
		msg = "bad JSON: " + syn.Error()
	case errors.As(err, &tim):
		msg = fmt.Sprintf("bad time %q: want RFC 3339, e.g. 2026-05-10T14:03:00+08:00", tim.Value)
	case strings.HasPrefix(msg, "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		if field == "personalize" || field == "consent" {
			msg = field + " cannot be set: personalisation is the shopper's own choice, made in the chat"
		} else {
			msg = fmt.Sprintf("unknown field %q", field)
		}
	default:
		msg = strings.TrimPrefix(msg, "json: ")
	}
	return &InvalidError{Msg: msg}
}

// peekID reads the id field of a record that failed to decode, for the
// report (Put drops it unless it is well formed).
func peekID(raw []byte, field string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(m[field], &id) != nil {
		return ""
	}
	return id
}
