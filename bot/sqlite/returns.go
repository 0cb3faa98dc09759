package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

var _ bot.Returns = (*Store)(nil)

// ProposeReturn stores a new return proposal with status "proposed". Its
// id, status, creation time and return id are set here, whatever p holds.
func (s *Store) ProposeReturn(ctx context.Context, p bot.ReturnProposal) (bot.ReturnProposal, error) {
	if p.ShopperID == "" || p.OrderID == "" || p.ConversationID == "" || len(p.Items) == 0 {
		return p, fmt.Errorf("sqlite: propose return: shopper, order, conversation and items are required")
	}
	items, err := json.Marshal(p.Items)
	if err != nil {
		return p, fmt.Errorf("sqlite: propose return: %w", err)
	}
	p.ID, p.Status, p.ReturnID = newID("rp_"), bot.ReturnProposed, ""
	p.CreatedAt, p.DecidedAt = s.now(), time.Time{}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO return_proposals
		(id, conversation_id, shopper_id, order_id, items, reason, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.ConversationID, p.ShopperID, p.OrderID, string(items), p.Reason, p.Status, formatTime(p.CreatedAt)); err != nil {
		return p, fmt.Errorf("sqlite: propose return: %w", err)
	}
	return p, nil
}

// ReturnProposalOf returns a proposal of shopperID with its return id once
// confirmed. A missing proposal gives bot.ErrNotFound, another shopper's
// bot.ErrOtherShopper (which errors.Is bot.ErrNotFound).
func (s *Store) ReturnProposalOf(ctx context.Context, shopperID, proposalID string) (bot.ReturnProposal, error) {
	return proposalOf(ctx, s.read, shopperID, proposalID)
}

// ConfirmReturn turns a proposal into a return request, in one
// transaction. Confirming again returns the same return id with created
// false; a cancelled proposal gives an error that errors.Is bot.ErrConflict.
func (s *Store) ConfirmReturn(ctx context.Context, shopperID, proposalID string) (p bot.ReturnProposal, created bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		p, err = proposalOf(ctx, tx, shopperID, proposalID)
		if err != nil {
			return err
		}
		switch p.Status {
		case bot.ReturnConfirmed:
			return nil
		case bot.ReturnCancelled:
			return fmt.Errorf("sqlite: confirm return %s: cancelled: %w", proposalID, bot.ErrConflict)
		}
		items, err := json.Marshal(p.Items)
		if err != nil {
			return fmt.Errorf("sqlite: confirm return %s: %w", proposalID, err)
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE return_proposals SET status = ?, decided_at = ? WHERE id = ? AND status = ?`,
			bot.ReturnConfirmed, formatTime(now), p.ID, bot.ReturnProposed)
		if err != nil {
			return fmt.Errorf("sqlite: confirm return %s: %w", proposalID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("sqlite: confirm return %s: proposal changed under the transaction (%d rows, %v)", proposalID, n, err)
		}
		p.ReturnID, p.Status, p.DecidedAt = newID("r_"), bot.ReturnConfirmed, now
		if _, err := tx.ExecContext(ctx, `INSERT INTO return_requests
			(id, proposal_id, shopper_id, order_id, items, reason, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'submitted', ?)`,
			p.ReturnID, p.ID, p.ShopperID, p.OrderID, string(items), p.Reason, formatTime(now)); err != nil {
			return fmt.Errorf("sqlite: confirm return %s: %w", proposalID, err)
		}
		created = true
		return nil
	})
	if err != nil {
		return bot.ReturnProposal{}, false, err
	}
	return p, created, nil
}

// CancelReturn cancels a proposal the shopper has not confirmed; a
// cancelled one is returned as it is. A confirmed proposal gives an error
// that errors.Is bot.ErrConflict: a submitted return is withdrawn by a person.
func (s *Store) CancelReturn(ctx context.Context, shopperID, proposalID string) (bot.ReturnProposal, error) {
	var p bot.ReturnProposal
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = proposalOf(ctx, tx, shopperID, proposalID)
		if err != nil {
			return err
		}
		switch p.Status {
		case bot.ReturnCancelled:
			return nil
		case bot.ReturnConfirmed:
			return fmt.Errorf("sqlite: cancel return %s: already confirmed: %w", proposalID, bot.ErrConflict)
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE return_proposals SET status = ?, decided_at = ? WHERE id = ?`,
			bot.ReturnCancelled, formatTime(now), p.ID); err != nil {
			return fmt.Errorf("sqlite: cancel return %s: %w", proposalID, err)
		}
		p.Status, p.DecidedAt = bot.ReturnCancelled, now
		return nil
	})
	if err != nil {
		return bot.ReturnProposal{}, err
	}
	return p, nil
}

// ReturnRequest is a return a shopper confirmed.
type ReturnRequest struct {
	ID         string
	ProposalID string
	ShopperID  string
	OrderID    string
	Items      []bot.ReturnItem
	Reason     string
	Status     string // "submitted"
	CreatedAt  time.Time
}

// ReturnRequests returns a shopper's return requests, oldest first,
// without the storage-only ones (kept after an erasure).
func (s *Store) ReturnRequests(ctx context.Context, shopperID string) ([]ReturnRequest, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, proposal_id, shopper_id, order_id, items, reason, status, created_at
		FROM return_requests WHERE shopper_id = ? AND storage_only = 0 ORDER BY created_at, id`, shopperID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: return requests: %w", err)
	}
	defer rows.Close()
	var out []ReturnRequest
	for rows.Next() {
		var r ReturnRequest
		var items, created string
		if err := rows.Scan(&r.ID, &r.ProposalID, &r.ShopperID, &r.OrderID, &items, &r.Reason, &r.Status, &created); err != nil {
			return nil, fmt.Errorf("sqlite: return requests: %w", err)
		}
		if err := json.Unmarshal([]byte(items), &r.Items); err != nil {
			return nil, fmt.Errorf("sqlite: return request %s items: %w", r.ID, err)
		}
		if r.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: return requests: %w", err)
	}
	return out, nil
}

// HasReturnRequest reports whether the shopper confirmed a return of the
// order (storage-only requests left out); one indexed query.
func (s *Store) HasReturnRequest(ctx context.Context, shopperID, orderID string) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM return_requests WHERE order_id = ? AND shopper_id = ? AND storage_only = 0`,
		orderID, shopperID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: return request of order: %w", err)
	}
	return n > 0, nil
}

// querier is what proposalOf reads through: the reader pool or a write
// transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func proposalOf(ctx context.Context, q querier, shopperID, proposalID string) (bot.ReturnProposal, error) {
	var p bot.ReturnProposal
	var items, created, decided string
	var returnID sql.NullString
	err := q.QueryRowContext(ctx, `SELECT p.id, p.conversation_id, p.shopper_id, p.order_id, p.items, p.reason, p.status,
		p.created_at, p.decided_at, r.id FROM return_proposals p LEFT JOIN return_requests r ON r.proposal_id = p.id
		WHERE p.id = ? AND p.storage_only = 0`, proposalID).Scan(&p.ID, &p.ConversationID, &p.ShopperID, &p.OrderID, &items, &p.Reason, &p.Status,
		&created, &decided, &returnID)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.ReturnProposal{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.ReturnProposal{}, fmt.Errorf("sqlite: return proposal: %w", err)
	}
	if shopperID == "" || p.ShopperID != shopperID {
		return bot.ReturnProposal{}, bot.ErrOtherShopper
	}
	if err := json.Unmarshal([]byte(items), &p.Items); err != nil {
		return bot.ReturnProposal{}, fmt.Errorf("sqlite: return proposal %s items: %w", p.ID, err)
	}
	if p.CreatedAt, err = parseTime(created); err != nil {
		return bot.ReturnProposal{}, err
	}
	if p.DecidedAt, err = parseTime(decided); err != nil {
		return bot.ReturnProposal{}, err
	}
	p.ReturnID = returnID.String
	return p, nil
}
