package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
)

var _ handoff.Store = (*Store)(nil)

const caseColumns = `c.id, c.conversation_id, c.shopper_id, COALESCE(sh.name, ''), c.lang, c.tier, c.trigger, c.status,
	c.priority, COALESCE(c.agent_id, 0), COALESCE(NULLIF(u.display_name, ''), u.username, ''), c.requested_at,
	c.assigned_at, c.closed_at, c.resolution, c.ticket_text, c.contact_via, c.contact, c.summary,
	COALESCE((SELECT m.text FROM messages m WHERE m.conversation_id = c.conversation_id AND m.role = 'shopper'
		ORDER BY m.seq DESC LIMIT 1), '')`

const caseFrom = ` FROM handoff_cases c
	LEFT JOIN shoppers sh ON sh.id = c.shopper_id
	LEFT JOIN users u ON u.id = c.agent_id`

func scanCase(row rowScanner) (handoff.Case, error) {
	var c handoff.Case
	var requested, assigned, closed, ticketText, via, contact, summary string
	err := row.Scan(&c.ID, &c.ConversationID, &c.ShopperID, &c.ShopperName, &c.Lang, &c.Tier, &c.Trigger, &c.Status,
		&c.Priority, &c.AgentID, &c.AgentName, &requested, &assigned, &closed, &c.Resolution,
		&ticketText, &via, &contact, &summary, &c.LastText)
	if errors.Is(err, sql.ErrNoRows) {
		return c, bot.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: read handoff case: %w", err)
	}
	if ticketText != "" || via != "" {
		c.Ticket = &handoff.Ticket{Text: ticketText, ContactVia: via, Contact: contact}
	}
	if err := json.Unmarshal([]byte(summary), &c.Summary); err != nil {
		return c, fmt.Errorf("sqlite: handoff case %d summary: %w", c.ID, err)
	}
	for _, f := range []struct {
		dst *time.Time
		v   string
	}{{&c.RequestedAt, requested}, {&c.AssignedAt, assigned}, {&c.ClosedAt, closed}} {
		if *f.dst, err = parseTime(f.v); err != nil {
			return c, err
		}
	}
	return c, nil
}

// OpenCase creates a case unless the conversation has an open one, which
// it returns with created false.
func (s *Store) OpenCase(ctx context.Context, c handoff.Case) (handoff.Case, bool, error) {
	summary, err := json.Marshal(c.Summary)
	if err != nil {
		return c, false, fmt.Errorf("sqlite: open case: %w", err)
	}
	var ticketText, via, contact string
	if c.Ticket != nil {
		ticketText, via, contact = c.Ticket.Text, c.Ticket.ContactVia, c.Ticket.Contact
	}
	var agent any
	if c.AgentID != 0 {
		agent = c.AgentID
	}
	var id int64
	err = s.write.QueryRowContext(ctx, `INSERT INTO handoff_cases (conversation_id, shopper_id, lang, tier, trigger, status,
		priority, agent_id, requested_at, assigned_at, ticket_text, contact_via, contact, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.ConversationID, c.ShopperID, c.Lang, c.Tier, c.Trigger, c.Status, c.Priority, agent,
		formatTime(c.RequestedAt), formatTime(c.AssignedAt), ticketText, via, contact, string(summary)).Scan(&id)
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		open, err := s.OpenCaseOf(ctx, c.ConversationID)
		return open, false, err
	}
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return c, false, fmt.Errorf("sqlite: open case for %s: %w", c.ConversationID, bot.ErrNotFound)
	}
	if err != nil {
		return c, false, fmt.Errorf("sqlite: open case: %w", err)
	}
	stored, err := s.caseWhere(ctx, s.write, "c.id = ?", id)
	return stored, err == nil, err
}

func (s *Store) caseWhere(ctx context.Context, db *sql.DB, where string, args ...any) (handoff.Case, error) {
	return scanCase(db.QueryRowContext(ctx, `SELECT `+caseColumns+caseFrom+` WHERE `+where, args...))
}

// OpenCaseOf returns the conversation's open case, or bot.ErrNotFound.
func (s *Store) OpenCaseOf(ctx context.Context, conversationID string) (handoff.Case, error) {
	return s.caseWhere(ctx, s.read, `c.conversation_id = ? AND c.status IN ('queued', 'assigned', 'ticket')`, conversationID)
}

// LastCaseOf returns the conversation's latest case, or bot.ErrNotFound.
func (s *Store) LastCaseOf(ctx context.Context, conversationID string) (handoff.Case, error) {
	return s.caseWhere(ctx, s.read, `c.conversation_id = ? ORDER BY c.id DESC LIMIT 1`, conversationID)
}

// CasesOf returns the conversation's cases, newest first.
func (s *Store) CasesOf(ctx context.Context, conversationID string) ([]handoff.Case, error) {
	return s.cases(ctx, `c.conversation_id = ? ORDER BY c.id DESC`, conversationID)
}

// Cases returns the cases with one of the statuses, oldest request first.
func (s *Store) Cases(ctx context.Context, statuses ...string) ([]handoff.Case, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = st
	}
	return s.cases(ctx, `c.status IN (?`+strings.Repeat(", ?", len(statuses)-1)+`) ORDER BY c.requested_at, c.id`, args...)
}

// cases reads the cases that match where.
func (s *Store) cases(ctx context.Context, where string, args ...any) ([]handoff.Case, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+caseColumns+caseFrom+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list handoff cases: %w", err)
	}
	defer rows.Close()
	var out []handoff.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateCase moves a case to to's status, agent, times and resolution if
// it is still in status from with agent fromAgent; otherwise
// handoff.ErrTaken. This compare-and-set is what keeps a case from ever
// being given to two agents.
func (s *Store) UpdateCase(ctx context.Context, id int64, from string, fromAgent int64, to handoff.Case) error {
	var agent any
	if to.AgentID != 0 {
		agent = to.AgentID
	}
	res, err := s.write.ExecContext(ctx, `UPDATE handoff_cases SET status = ?, agent_id = ?, assigned_at = ?, closed_at = ?,
		resolution = ?, priority = ? WHERE id = ? AND status = ? AND COALESCE(agent_id, 0) = ?`,
		to.Status, agent, formatTime(to.AssignedAt), formatTime(to.ClosedAt), to.Resolution, to.Priority, id, from, fromAgent)
	if err != nil {
		return fmt.Errorf("sqlite: update handoff case %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return handoff.ErrTaken
	}
	return nil
}

// SetSummary stores a case's summary.
func (s *Store) SetSummary(ctx context.Context, id int64, sum handoff.Summary) error {
	b, err := json.Marshal(sum)
	if err != nil {
		return fmt.Errorf("sqlite: case summary: %w", err)
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE handoff_cases SET summary = ? WHERE id = ?`, string(b), id); err != nil {
		return fmt.Errorf("sqlite: case %d summary: %w", id, err)
	}
	return nil
}

// HandleTimes returns how long the last n closed cases were with an agent.
func (s *Store) HandleTimes(ctx context.Context, n int) ([]time.Duration, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT assigned_at, closed_at FROM handoff_cases
		WHERE status = 'closed' AND assigned_at <> '' AND closed_at <> '' ORDER BY id DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("sqlite: handle times: %w", err)
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var a, c string
		if err := rows.Scan(&a, &c); err != nil {
			return nil, fmt.Errorf("sqlite: handle times: %w", err)
		}
		at, err1 := parseTime(a)
		ct, err2 := parseTime(c)
		if err1 == nil && err2 == nil && ct.After(at) {
			out = append(out, ct.Sub(at))
		}
	}
	return out, rows.Err()
}

// AddNote stores an internal note.
func (s *Store) AddNote(ctx context.Context, n handoff.Note) (handoff.Note, error) {
	n.CreatedAt = s.now().UTC()
	err := s.write.QueryRowContext(ctx, `INSERT INTO handoff_notes (conversation_id, agent_id, agent_name, text, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, n.ConversationID, n.AgentID, n.AgentName, n.Text, formatTime(n.CreatedAt)).Scan(&n.ID)
	if err != nil {
		return n, fmt.Errorf("sqlite: add note: %w", err)
	}
	return n, nil
}

// Notes returns a conversation's internal notes, oldest first.
func (s *Store) Notes(ctx context.Context, conversationID string) ([]handoff.Note, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, conversation_id, agent_id, agent_name, text, created_at
		FROM handoff_notes WHERE conversation_id = ? ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: notes: %w", err)
	}
	defer rows.Close()
	out := []handoff.Note{}
	for rows.Next() {
		var n handoff.Note
		var at string
		if err := rows.Scan(&n.ID, &n.ConversationID, &n.AgentID, &n.AgentName, &n.Text, &at); err != nil {
			return nil, fmt.Errorf("sqlite: notes: %w", err)
		}
		if n.CreatedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Agents returns the enabled staff who may answer conversations (agents and
// admins), with their routing settings and how many cases each holds.
func (s *Store) Agents(ctx context.Context) ([]handoff.Agent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT u.id, COALESCE(NULLIF(u.display_name, ''), u.username),
		COALESCE(a.langs, '["zh","en"]'), COALESCE(a.max_chats, 0),
		(SELECT COUNT(*) FROM handoff_cases c WHERE c.agent_id = u.id AND c.status = 'assigned')
		FROM users u LEFT JOIN agent_settings a ON a.user_id = u.id
		WHERE u.disabled = 0 AND u.role IN ('agent', 'admin') ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: agents: %w", err)
	}
	defer rows.Close()
	var out []handoff.Agent
	for rows.Next() {
		var a handoff.Agent
		var langs string
		if err := rows.Scan(&a.ID, &a.Name, &langs, &a.MaxChats, &a.Active); err != nil {
			return nil, fmt.Errorf("sqlite: agents: %w", err)
		}
		if err := json.Unmarshal([]byte(langs), &a.Langs); err != nil {
			return nil, fmt.Errorf("sqlite: agent %d langs: %w", a.ID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetAgentSettings stores an agent's languages and capacity (0: the default).
func (s *Store) SetAgentSettings(ctx context.Context, id int64, langs []string, maxChats int) error {
	b, err := json.Marshal(langs)
	if err != nil {
		return fmt.Errorf("sqlite: agent settings: %w", err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO agent_settings (user_id, langs, max_chats) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET langs = excluded.langs, max_chats = excluded.max_chats`, id, string(b), maxChats)
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: agent %d settings: %w", id, err)
	}
	return nil
}

// CannedList returns the canned replies by shortcut.
func (s *Store) CannedList(ctx context.Context) ([]handoff.Canned, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, shortcut, lang, title, text, updated_at, updated_by
		FROM canned_replies ORDER BY shortcut, lang`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: canned replies: %w", err)
	}
	defer rows.Close()
	out := []handoff.Canned{}
	for rows.Next() {
		var c handoff.Canned
		var at string
		if err := rows.Scan(&c.ID, &c.Shortcut, &c.Lang, &c.Title, &c.Text, &at, &c.UpdatedBy); err != nil {
			return nil, fmt.Errorf("sqlite: canned replies: %w", err)
		}
		if c.UpdatedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PutCanned creates (ID 0) or updates a canned reply; ErrShortcutTaken
// when the shortcut and language are in use, bot.ErrNotFound for an
// unknown id.
func (s *Store) PutCanned(ctx context.Context, c handoff.Canned) (handoff.Canned, error) {
	c.UpdatedAt = s.now().UTC()
	var err error
	if c.ID == 0 {
		err = s.write.QueryRowContext(ctx, `INSERT INTO canned_replies (shortcut, lang, title, text, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, c.Shortcut, c.Lang, c.Title, c.Text, formatTime(c.UpdatedAt), c.UpdatedBy).Scan(&c.ID)
	} else {
		var res sql.Result
		res, err = s.write.ExecContext(ctx, `UPDATE canned_replies SET shortcut = ?, lang = ?, title = ?, text = ?,
			updated_at = ?, updated_by = ? WHERE id = ?`, c.Shortcut, c.Lang, c.Title, c.Text, formatTime(c.UpdatedAt), c.UpdatedBy, c.ID)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				return c, bot.ErrNotFound
			}
		}
	}
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		return c, handoff.ErrShortcutTaken
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: save canned reply: %w", err)
	}
	return c, nil
}

// DeleteCanned deletes a canned reply, or returns bot.ErrNotFound.
func (s *Store) DeleteCanned(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM canned_replies WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete canned reply: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bot.ErrNotFound
	}
	return nil
}

// Audit appends a row to the audit log, which no statement can change or
// delete afterwards (see migration 0006).
func (s *Store) Audit(ctx context.Context, e handoff.AuditEntry) error {
	fields, err := json.Marshal(e.Fields)
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO audit_log (at, actor, role, action, shopper_id, fields, conversation_id, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, formatTime(e.At), e.Actor, e.Role, e.Action, e.ShopperID, string(fields), e.ConversationID, e.IP); err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	return nil
}

// AuditLog returns the newest audit rows first, at most limit.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]handoff.AuditEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT at, actor, role, action, shopper_id, fields, conversation_id, ip
		FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit log: %w", err)
	}
	defer rows.Close()
	out := []handoff.AuditEntry{}
	for rows.Next() {
		var e handoff.AuditEntry
		var at, fields string
		if err := rows.Scan(&at, &e.Actor, &e.Role, &e.Action, &e.ShopperID, &fields, &e.ConversationID, &e.IP); err != nil {
			return nil, fmt.Errorf("sqlite: audit log: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
			return nil, fmt.Errorf("sqlite: audit fields: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
