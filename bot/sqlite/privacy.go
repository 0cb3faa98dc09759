package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// Shopper privacy (docs/privacy.md): consents, "download my data" and
// "delete my data". Every export and erasure is recorded in data_requests
// with its legal due date and in the append-only audit log.

// SetConsent records a shopper's choice: it appends a row to the consent
// history and, for bot.ConsentPersonalize, sets the current value on the
// profile, in one transaction. A shopper or profile not yet known is
// created. It returns the state after the change.
func (s *Store) SetConsent(ctx context.Context, shopperID, kind string, granted bool, source string) (bot.ConsentState, error) {
	if shopperID == "" || kind == "" {
		return bot.ConsentState{}, fmt.Errorf("sqlite: set consent: shopper and kind are required")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `INSERT INTO shoppers (id, created_at, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, shopperID, now, now); err != nil {
			return fmt.Errorf("sqlite: set consent: shopper: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO consents (shopper_id, kind, granted, source, at) VALUES (?, ?, ?, ?, ?)`,
			shopperID, kind, granted, source, now); err != nil {
			return fmt.Errorf("sqlite: set consent: %w", err)
		}
		if kind != bot.ConsentPersonalize {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO profiles (shopper_id, personalize, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (shopper_id) DO UPDATE SET personalize = excluded.personalize, updated_at = excluded.updated_at`,
			shopperID, granted, now); err != nil {
			return fmt.Errorf("sqlite: set consent: profile: %w", err)
		}
		return nil
	})
	if err != nil {
		return bot.ConsentState{}, err
	}
	return s.Consents(ctx, shopperID)
}

// Consents returns a shopper's current consent to personalised replies
// (false for an unknown shopper: it is off until turned on) and the
// history of their choices, oldest first.
func (s *Store) Consents(ctx context.Context, shopperID string) (bot.ConsentState, error) {
	st := bot.ConsentState{History: []bot.Consent{}}
	err := s.read.QueryRowContext(ctx, `SELECT personalize FROM profiles WHERE shopper_id = ?`, shopperID).Scan(&st.Personalize)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("sqlite: consents of %s: %w", shopperID, err)
	}
	if st.History, err = consentHistory(ctx, s.read, shopperID); err != nil {
		return st, err
	}
	return st, nil
}

func consentHistory(ctx context.Context, db *sql.DB, shopperID string) ([]bot.Consent, error) {
	rows, err := db.QueryContext(ctx, `SELECT kind, granted, source, at FROM consents WHERE shopper_id = ? ORDER BY id`, shopperID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: consent history: %w", err)
	}
	defer rows.Close()
	out := []bot.Consent{}
	for rows.Next() {
		var c bot.Consent
		var at string
		if err := rows.Scan(&c.Kind, &c.Granted, &c.Source, &at); err != nil {
			return nil, fmt.Errorf("sqlite: consent history: %w", err)
		}
		if c.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// recordRequest inserts a completed data request and its audit row in tx.
func (s *Store) recordRequest(ctx context.Context, tx *sql.Tx, shopperID, kind, vendor, ip string) (bot.DataRequest, error) {
	now := s.now().UTC()
	r := bot.DataRequest{Kind: kind, RequestedAt: now, DueAt: bot.DueDate(now), CompletedAt: now, LLMVendorDeletion: vendor}
	if vendor == bot.VendorDeletionNeeded {
		r.Note = "the conversations were sent to the model vendor: ask the vendor to delete them"
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO data_requests (shopper_id, kind, requested_at, due_at, completed_at,
		llm_vendor_deletion, note) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopperID, kind, formatTime(r.RequestedAt),
		formatTime(r.DueAt), formatTime(r.CompletedAt), vendor, r.Note).Scan(&r.ID)
	if err != nil {
		return r, fmt.Errorf("sqlite: record %s request: %w", kind, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, role, action, shopper_id, fields, conversation_id, ip)
		VALUES (?, ?, 'shopper', ?, ?, '["all"]', '', ?)`, formatTime(now), shopperID, kind, shopperID, ip); err != nil {
		return r, fmt.Errorf("sqlite: audit %s request: %w", kind, err)
	}
	return r, nil
}

// ExportShopper answers "download my data": it records the request (data
// request and audit row, actor the shopper) and returns everything stored
// about the shopper, except the records kept storage-only after an
// erasure. ip is recorded in the audit row.
func (s *Store) ExportShopper(ctx context.Context, shopperID, ip string) (bot.DataExport, error) {
	if shopperID == "" {
		return bot.DataExport{}, fmt.Errorf("sqlite: export: %w", bot.ErrNotFound)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := s.recordRequest(ctx, tx, shopperID, bot.DataRequestExport, "", ip)
		return err
	})
	if err != nil {
		return bot.DataExport{}, err
	}
	ex := bot.DataExport{Format: bot.ExportFormat, GeneratedAt: s.now().UTC(), ShopperID: shopperID,
		Consents: []bot.Consent{}, Conversations: []bot.ExportConversation{}, Orders: []bot.Order{},
		ReturnProposals: []bot.ExportReturn{}, ReturnRequests: []bot.ExportReturn{}, DataRequests: []bot.DataRequest{},
		Access: []bot.AccessEntry{}}
	var erased string
	err = s.read.QueryRowContext(ctx, `SELECT erased_at FROM shoppers WHERE id = ?`, shopperID).Scan(&erased)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ex, fmt.Errorf("sqlite: export %s: %w", shopperID, err)
	}
	if ex.ErasedAt, err = parseTime(erased); err != nil {
		return ex, err
	}
	// An erased shopper's row keeps only its id; the profile is shown
	// again once the shop re-imports the shopper or they choose a consent.
	var hasProfile bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM profiles WHERE shopper_id = ?)
		OR EXISTS (SELECT 1 FROM shoppers WHERE id = ? AND (name <> '' OR lang <> ''))`, shopperID, shopperID).Scan(&hasProfile); err != nil {
		return ex, fmt.Errorf("sqlite: export %s: %w", shopperID, err)
	}
	if erased == "" || hasProfile {
		sh, err := s.Shopper(ctx, shopperID)
		switch {
		case err == nil:
			if sh.Features == nil {
				sh.Features, err = s.features(ctx, shopperID)
				if err != nil {
					return ex, err
				}
			}
			ex.Profile = &sh
		case !errors.Is(err, bot.ErrNotFound):
			return ex, err
		}
	}
	if ex.Consents, err = consentHistory(ctx, s.read, shopperID); err != nil {
		return ex, err
	}
	if ex.Conversations, err = s.exportConversations(ctx, shopperID); err != nil {
		return ex, err
	}
	orders, err := s.orders(ctx, `WHERE shopper_id = ? AND storage_only = 0 ORDER BY placed_at, id`, shopperID)
	if err != nil {
		return ex, err
	}
	ex.Orders = append(ex.Orders, orders...)
	if err := s.exportReturns(ctx, &ex); err != nil {
		return ex, err
	}
	if ex.DataRequests, err = s.dataRequests(ctx, shopperID); err != nil {
		return ex, err
	}
	if ex.Access, err = s.accessLog(ctx, shopperID); err != nil {
		return ex, err
	}
	return ex, nil
}

// shopperConversations is the condition for a shopper's conversations.
const shopperConversations = `(shopper_id = ? OR owner = 's:' || ?)`

func (s *Store) exportConversations(ctx context.Context, shopperID string) ([]bot.ExportConversation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT c.id, c.lang, c.created_at, c.updated_at, r.score, COALESCE(r.comment, '')
		FROM conversations c LEFT JOIN ratings r ON r.conversation_id = c.id
		WHERE `+shopperConversations+` ORDER BY c.created_at, c.id`, shopperID, shopperID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: export conversations: %w", err)
	}
	out := []bot.ExportConversation{}
	for rows.Next() {
		var c bot.ExportConversation
		var created, updated, comment string
		var score sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Lang, &created, &updated, &score, &comment); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: export conversations: %w", err)
		}
		if c.CreatedAt, err = parseTime(created); err == nil {
			c.UpdatedAt, err = parseTime(updated)
		}
		if err != nil {
			rows.Close()
			return nil, err
		}
		if score.Valid {
			c.Rating = &bot.ExportRating{Score: int(score.Int64), Comment: comment}
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: export conversations: %w", err)
	}
	for i := range out {
		if out[i].Messages, err = s.exportMessages(ctx, out[i].ID); err != nil {
			return nil, err
		}
		if out[i].Handoffs, err = s.exportHandoffs(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// exportHandoffs reads a conversation's handoff cases, with the message
// and contact left with a ticket, oldest first.
func (s *Store) exportHandoffs(ctx context.Context, conversationID string) ([]bot.ExportHandoff, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT requested_at, trigger, status, closed_at, resolution, ticket_text,
		contact_via, contact, summary FROM handoff_cases WHERE conversation_id = ? ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: export handoffs: %w", err)
	}
	defer rows.Close()
	var out []bot.ExportHandoff
	for rows.Next() {
		var h bot.ExportHandoff
		var requested, closed, text, via, contact, summary string
		if err := rows.Scan(&requested, &h.Trigger, &h.Status, &closed, &h.Resolution, &text, &via, &contact, &summary); err != nil {
			return nil, fmt.Errorf("sqlite: export handoffs: %w", err)
		}
		if h.RequestedAt, err = parseTime(requested); err != nil {
			return nil, err
		}
		if h.ClosedAt, err = parseTime(closed); err != nil {
			return nil, err
		}
		if text != "" || via != "" || contact != "" {
			h.Ticket = &bot.ExportTicket{Text: text, ContactVia: via, Contact: contact}
		}
		if summary != "" && summary != "{}" && json.Valid([]byte(summary)) {
			h.Summary = json.RawMessage(summary)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: export handoffs: %w", err)
	}
	return out, nil
}

func (s *Store) exportMessages(ctx context.Context, conversationID string) ([]bot.ExportMessage, error) {
	helpful := map[string]bool{}
	rows, err := s.read.QueryContext(ctx, `SELECT f.message_id, f.helpful FROM feedback f JOIN messages m ON m.id = f.message_id
		WHERE m.conversation_id = ?`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: export feedback: %w", err)
	}
	for rows.Next() {
		var id string
		var h bool
		if err := rows.Scan(&id, &h); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: export feedback: %w", err)
		}
		helpful[id] = h
	}
	rows.Close()
	msgs, err := s.MessagesAfter(ctx, conversationID, 0, -1)
	if err != nil {
		return nil, err
	}
	out := make([]bot.ExportMessage, 0, len(msgs))
	for _, m := range msgs {
		en, zh := bot.MessageLabel(m.Role, m.AgentName)
		em := bot.ExportMessage{Seq: m.Seq, Role: m.Role, Label: en, LabelZH: zh, AgentName: m.AgentName, Text: m.Text,
			Cards: m.Cards, CreatedAt: m.CreatedAt}
		if h, ok := helpful[m.ID]; ok {
			em.Helpful = &h
		}
		out = append(out, em)
	}
	return out, nil
}

func (s *Store) exportReturns(ctx context.Context, ex *bot.DataExport) error {
	rows, err := s.read.QueryContext(ctx, `SELECT p.id, p.conversation_id, p.order_id, p.items, p.reason, p.status,
		COALESCE(r.id, ''), p.created_at, p.decided_at FROM return_proposals p
		LEFT JOIN return_requests r ON r.proposal_id = p.id
		WHERE p.shopper_id = ? AND p.storage_only = 0 ORDER BY p.created_at, p.id`, ex.ShopperID)
	if err != nil {
		return fmt.Errorf("sqlite: export return proposals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r bot.ExportReturn
		var items, created, decided string
		if err := rows.Scan(&r.ID, &r.ConversationID, &r.OrderID, &items, &r.Reason, &r.Status, &r.ReturnID, &created, &decided); err != nil {
			return fmt.Errorf("sqlite: export return proposals: %w", err)
		}
		if err := fillReturn(&r, items, created, decided); err != nil {
			return err
		}
		ex.ReturnProposals = append(ex.ReturnProposals, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: export return proposals: %w", err)
	}
	reqs, err := s.ReturnRequests(ctx, ex.ShopperID)
	if err != nil {
		return err
	}
	for _, q := range reqs {
		ex.ReturnRequests = append(ex.ReturnRequests, bot.ExportReturn{ID: q.ID, ProposalID: q.ProposalID, OrderID: q.OrderID,
			Items: q.Items, Reason: q.Reason, Status: q.Status, CreatedAt: q.CreatedAt})
	}
	return nil
}

func fillReturn(r *bot.ExportReturn, items, created, decided string) error {
	if err := json.Unmarshal([]byte(items), &r.Items); err != nil {
		return fmt.Errorf("sqlite: export return %s items: %w", r.ID, err)
	}
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return err
	}
	r.DecidedAt, err = parseTime(decided)
	return err
}

// DataRequests returns a shopper's data requests, oldest first.
func (s *Store) DataRequests(ctx context.Context, shopperID string) ([]bot.DataRequest, error) {
	return s.dataRequests(ctx, shopperID)
}

func (s *Store) dataRequests(ctx context.Context, shopperID string) ([]bot.DataRequest, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, kind, requested_at, due_at, completed_at, llm_vendor_deletion, note
		FROM data_requests WHERE shopper_id = ? ORDER BY id`, shopperID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: data requests: %w", err)
	}
	defer rows.Close()
	out := []bot.DataRequest{}
	for rows.Next() {
		var r bot.DataRequest
		var req, due, done string
		if err := rows.Scan(&r.ID, &r.Kind, &req, &due, &done, &r.LLMVendorDeletion, &r.Note); err != nil {
			return nil, fmt.Errorf("sqlite: data requests: %w", err)
		}
		if r.RequestedAt, err = parseTime(req); err == nil {
			if r.DueAt, err = parseTime(due); err == nil {
				r.CompletedAt, err = parseTime(done)
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) accessLog(ctx context.Context, shopperID string) ([]bot.AccessEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT at, actor, role, action, fields, conversation_id FROM audit_log
		WHERE shopper_id = ? ORDER BY id`, shopperID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: access log: %w", err)
	}
	defer rows.Close()
	out := []bot.AccessEntry{}
	for rows.Next() {
		var e bot.AccessEntry
		var at, fields string
		if err := rows.Scan(&at, &e.Actor, &e.Role, &e.Action, &fields, &e.ConversationID); err != nil {
			return nil, fmt.Errorf("sqlite: access log: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
			return nil, fmt.Errorf("sqlite: access log fields: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EraseShopper answers "delete my data", in one transaction: the
// shopper's conversations are deleted (with their messages, ratings,
// feedback, handoff cases and notes), with their model-use rows; the
// profile, features and consent history are deleted, the name and language
// blanked and the shopper marked erased; unconfirmed return proposals are
// deleted; orders and confirmed returns, which e-commerce law makes the
// shop keep, are flagged storage-only and so vanish from every read path.
// The request is recorded as completed, with whether the model vendor must
// be asked to delete too, and audited (actor the shopper). The caller
// tells the handoff desk to forget Erasure.Conversations.
func (s *Store) EraseShopper(ctx context.Context, shopperID, ip string) (bot.Erasure, error) {
	var e bot.Erasure
	if shopperID == "" {
		return e, fmt.Errorf("sqlite: erase: %w", bot.ErrNotFound)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `INSERT INTO shoppers (id, created_at, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, shopperID, now, now); err != nil {
			return fmt.Errorf("sqlite: erase: %w", err)
		}
		convs, err := idsOf(ctx, tx, `SELECT id FROM conversations WHERE `+shopperConversations, shopperID, shopperID)
		if err != nil {
			return err
		}
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM llm_usage WHERE conversation_id IN
			(SELECT id FROM conversations WHERE `+shopperConversations+`)`, shopperID, shopperID).Scan(&used); err != nil {
			return fmt.Errorf("sqlite: erase: %w", err)
		}
		if err := forgetGapExamples(ctx, tx, shopperID); err != nil {
			return err
		}
		var storageOnly int64
		steps := []struct {
			what, query string
			args        []any
			count       bool
		}{
			{"model use", `DELETE FROM llm_usage WHERE conversation_id IN (SELECT id FROM conversations WHERE ` + shopperConversations + `)`, []any{shopperID, shopperID}, false},
			{"conversations", `DELETE FROM conversations WHERE ` + shopperConversations, []any{shopperID, shopperID}, false},
			{"return proposals", `DELETE FROM return_proposals WHERE shopper_id = ?
				AND id NOT IN (SELECT proposal_id FROM return_requests)`, []any{shopperID}, false},
			{"confirmed returns", `UPDATE return_proposals SET storage_only = 1 WHERE shopper_id = ?`, []any{shopperID}, false},
			{"return requests", `UPDATE return_requests SET storage_only = 1 WHERE shopper_id = ?`, []any{shopperID}, true},
			{"orders", `UPDATE orders SET storage_only = 1 WHERE shopper_id = ?`, []any{shopperID}, true},
			{"profile", `DELETE FROM profiles WHERE shopper_id = ?`, []any{shopperID}, false},
			{"features", `DELETE FROM shopper_features WHERE shopper_id = ?`, []any{shopperID}, false},
			{"consents", `DELETE FROM consents WHERE shopper_id = ?`, []any{shopperID}, false},
			{"shopper", `UPDATE shoppers SET name = '', lang = '', erased_at = ?, updated_at = ? WHERE id = ?`, []any{now, now, shopperID}, false},
		}
		for _, st := range steps {
			res, err := tx.ExecContext(ctx, st.query, st.args...)
			if err != nil {
				return fmt.Errorf("sqlite: erase %s: %w", st.what, err)
			}
			if st.count {
				n, _ := res.RowsAffected()
				storageOnly += n
			}
		}
		vendor := bot.VendorDeletionNotNeeded
		if used > 0 {
			vendor = bot.VendorDeletionNeeded
		}
		req, err := s.recordRequest(ctx, tx, shopperID, bot.DataRequestErase, vendor, ip)
		if err != nil {
			return err
		}
		e = bot.Erasure{Request: req, Conversations: convs, StorageOnly: int(storageOnly)}
		return nil
	})
	if err != nil {
		return bot.Erasure{}, err
	}
	return e, nil
}

// forgetGapExamples blanks the example of every knowledge gap whose
// example is one of the shopper's questions (as knowledge.GapExample
// stores it), so the KB page no longer shows their words. The gap, its
// counts and its normalised text (personal data masked when recorded)
// stay: other shoppers may have asked the same.
func forgetGapExamples(ctx context.Context, tx *sql.Tx, shopperID string) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT text FROM messages WHERE role = ? AND conversation_id IN
		(SELECT id FROM conversations WHERE `+shopperConversations+`)`, bot.RoleShopper, shopperID, shopperID)
	if err != nil {
		return fmt.Errorf("sqlite: erase gap examples: %w", err)
	}
	examples := map[string]bool{}
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: erase gap examples: %w", err)
		}
		if ex := knowledge.GapExample(text); ex != "" {
			examples[ex] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: erase gap examples: %w", err)
	}
	for ex := range examples {
		if _, err := tx.ExecContext(ctx, `UPDATE kb_gaps SET example = '' WHERE example = ?`, ex); err != nil {
			return fmt.Errorf("sqlite: erase gap examples: %w", err)
		}
	}
	return nil
}

// DeleteIdleConversations deletes the conversations whose last activity
// is before cutoff, with their messages, ratings, feedback, closed handoff
// cases, notes, model-use rows and unconfirmed return proposals, except
// those with an open handoff case (a person is on them). It also deletes
// every owner's daily token totals of days before cutoff and blanks the
// examples of knowledge gaps last seen before cutoff (they quote a
// question from a conversation now deleted). It returns the deleted ids.
func (s *Store) DeleteIdleConversations(ctx context.Context, cutoff time.Time) ([]string, error) {
	var ids []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		at := formatTime(cutoff)
		// Token totals are per day in the shop's zone (bot.UsageLedger).
		day := cutoff.In(bot.ShopZone).Format(time.DateOnly)
		if _, err := tx.ExecContext(ctx, `DELETE FROM llm_usage_owner_day WHERE day < ?`, day); err != nil {
			return fmt.Errorf("sqlite: retention: model use per owner: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE kb_gaps SET example = '' WHERE last_seen < ? AND example <> ''`, at); err != nil {
			return fmt.Errorf("sqlite: retention: gap examples: %w", err)
		}
		const idle = `SELECT id FROM conversations c WHERE c.updated_at < ? AND NOT EXISTS (SELECT 1 FROM handoff_cases h
			WHERE h.conversation_id = c.id AND h.status IN ('queued', 'assigned', 'ticket'))`
		var err error
		if ids, err = idsOf(ctx, tx, idle, at); err != nil || len(ids) == 0 {
			return err
		}
		steps := []struct{ what, query string }{
			{"model use", `DELETE FROM llm_usage WHERE conversation_id IN (` + idle + `)`},
			// Confirmed proposals stay with their return request, which
			// the shop must keep as a transaction record.
			{"return proposals", `DELETE FROM return_proposals WHERE conversation_id IN (` + idle + `)
				AND id NOT IN (SELECT proposal_id FROM return_requests)`},
			{"conversations", `DELETE FROM conversations WHERE id IN (` + idle + `)`},
		}
		for _, st := range steps {
			if _, err := tx.ExecContext(ctx, st.query, at); err != nil {
				return fmt.Errorf("sqlite: retention: %s: %w", st.what, err)
			}
		}
		return nil
	})
	return ids, err
}

func idsOf(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list ids: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: list ids: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
