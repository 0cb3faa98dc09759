package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// newID returns a random identifier with the given prefix.
func newID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand documents it)
	return prefix + hex.EncodeToString(b)
}

// OpenConversation returns the conversation a connection should join.
// It resumes the conversation named wantID when owner owns it, else
// creates a new one. A wantID owned by someone else is ignored without a
// word, so ids cannot be probed.
func (s *Store) OpenConversation(ctx context.Context, owner, shopperID, wantID, lang string) (bot.Conversation, error) {
	if wantID != "" {
		c, err := s.conversation(ctx, "id = ? AND owner = ?", wantID, owner)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, bot.ErrNotFound) {
			return bot.Conversation{}, err
		}
	}
	now := s.now()
	c := bot.Conversation{ID: newID("c_"), Owner: owner, ShopperID: shopperID, Lang: lang, CreatedAt: now}
	// The create goes through the group-commit writer; a ctx that ends while
	// it waits may leave an unused conversation behind, which nobody sees.
	err := s.group.do(ctx, func(ctx context.Context, tx *batchTx) error {
		var shopper any
		if shopperID != "" {
			shopper = shopperID
			// A shopper the shop vouches for with a signed token but has not
			// sent us yet is known by id only, until the shop's data arrives.
			if _, err := tx.insertShopper.ExecContext(ctx, shopperID, formatTime(now), formatTime(now)); err != nil {
				return fmt.Errorf("shopper: %w", err)
			}
		}
		_, err := tx.insertConv.ExecContext(ctx, c.ID, owner, shopper, lang, formatTime(now), formatTime(now))
		return err
	})
	if err != nil {
		return bot.Conversation{}, fmt.Errorf("sqlite: create conversation: %w", err)
	}
	return c, nil
}

// Conversation returns the conversation with the id, or bot.ErrNotFound.
func (s *Store) Conversation(ctx context.Context, id string) (bot.Conversation, error) {
	return s.conversation(ctx, "id = ?", id)
}

func (s *Store) conversation(ctx context.Context, where string, args ...any) (bot.Conversation, error) {
	var c bot.Conversation
	var shopper sql.NullString
	var created string
	err := s.read.QueryRowContext(ctx, `SELECT id, owner, shopper_id, lang, last_seq, created_at
		FROM conversations WHERE `+where, args...).Scan(&c.ID, &c.Owner, &shopper, &c.Lang, &c.LastSeq, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return c, bot.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: find conversation: %w", err)
	}
	c.ShopperID = shopper.String
	c.CreatedAt, err = parseTime(created)
	return c, err
}

type messageMeta struct {
	Sources     []bot.Source `json:"sources,omitempty"`
	Cards       []bot.Card   `json:"cards,omitempty"`
	Suggestions []string     `json:"suggestions,omitempty"`
	AgentName   string       `json:"agent_name,omitempty"`
	// Personalized names the profile fields a bot reply used.
	Personalized []string `json:"personalized,omitempty"`
}

// AppendMessage stores m at the end of its conversation, giving it an id, the
// next seq and a creation time, and returns the stored message. When m has a
// ClientID already stored in that conversation, nothing is written and the
// earlier message is returned with duplicate true.
//
// The write goes through the group-commit writer and AppendMessage returns
// only once the transaction holding it has committed. When ctx ends first it
// returns ctx.Err() and the message may or may not have been stored; a resend
// with the same ClientID is then safe (it returns the stored copy).
func (s *Store) AppendMessage(ctx context.Context, m bot.Message) (stored bot.Message, duplicate bool, err error) {
	meta, err := json.Marshal(messageMeta{Sources: m.Sources, Cards: m.Cards, Suggestions: m.Suggestions, AgentName: m.AgentName,
		Personalized: m.Personalized})
	if err != nil {
		return m, false, fmt.Errorf("sqlite: append message: %w", err)
	}
	var out bot.Message
	var dup bool
	err = s.group.do(ctx, func(ctx context.Context, tx *batchTx) (err error) {
		out, dup, err = s.appendMessage(ctx, tx, m, string(meta))
		return err
	})
	if err != nil {
		if errors.Is(err, bot.ErrNotFound) {
			return m, false, err // appendMessage says which conversation
		}
		return m, false, fmt.Errorf("sqlite: append message: %w", err)
	}
	return out, dup, nil
}

// appendMessage is AppendMessage's work inside a group commit.
func (s *Store) appendMessage(ctx context.Context, tx *batchTx, m bot.Message, meta string) (bot.Message, bool, error) {
	if m.ClientID != "" {
		// An earlier batch's copy, or one earlier in this batch.
		prev, err := scanMessage(tx.findByClientID.QueryRowContext(ctx, m.ConversationID, m.ClientID))
		if err == nil {
			return prev, true, nil
		}
		if !errors.Is(err, bot.ErrNotFound) {
			return m, false, err
		}
	}
	var seq int64
	if err := tx.nextSeq.QueryRowContext(ctx, s.stamp(), m.ConversationID).Scan(&seq); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return m, false, fmt.Errorf("sqlite: append message to %s: %w", m.ConversationID, bot.ErrNotFound)
		}
		return m, false, fmt.Errorf("next seq: %w", err)
	}
	if m.ID == "" {
		m.ID = newID("m_")
	}
	m.Seq = seq
	m.CreatedAt = s.now().UTC()
	var clientID any
	if m.ClientID != "" {
		clientID = m.ClientID
	}
	if _, err := tx.insertMessage.ExecContext(ctx,
		m.ID, m.ConversationID, m.Seq, m.Role, clientID, m.Text, m.ReplyTo, m.Intent, meta, formatTime(m.CreatedAt)); err != nil {
		return m, false, fmt.Errorf("insert: %w", err)
	}
	return m, false, nil
}

const selectMessage = `SELECT id, conversation_id, seq, role, COALESCE(client_id, ''), text, reply_to, intent, meta, created_at FROM messages`

type rowScanner interface{ Scan(dest ...any) error }

func scanMessage(row rowScanner) (bot.Message, error) {
	var m bot.Message
	var meta, created string
	err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.Role, &m.ClientID, &m.Text, &m.ReplyTo, &m.Intent, &meta, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return m, bot.ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("sqlite: read message: %w", err)
	}
	var mm messageMeta
	if err := json.Unmarshal([]byte(meta), &mm); err != nil {
		return m, fmt.Errorf("sqlite: message %s meta: %w", m.ID, err)
	}
	m.Sources, m.Cards, m.Suggestions, m.AgentName = mm.Sources, mm.Cards, mm.Suggestions, mm.AgentName
	m.Personalized = mm.Personalized
	m.CreatedAt, err = parseTime(created)
	return m, err
}

// MessagesAfter returns up to limit messages of a conversation with seq > after, in order.
func (s *Store) MessagesAfter(ctx context.Context, conversationID string, after int64, limit int) ([]bot.Message, error) {
	rows, err := s.read.QueryContext(ctx, selectMessage+` WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
		conversationID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: messages of %s: %w", conversationID, err)
	}
	defer rows.Close()
	var out []bot.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: messages of %s: %w", conversationID, err)
	}
	return out, nil
}

// ReplyTo returns the first message that replies to the shopper message with
// the given client id, or bot.ErrNotFound.
func (s *Store) ReplyTo(ctx context.Context, conversationID, clientID string) (bot.Message, error) {
	return scanMessage(s.read.QueryRowContext(ctx, selectMessage+` WHERE conversation_id = ? AND reply_to = ? ORDER BY seq LIMIT 1`,
		conversationID, clientID))
}

// MessageInConversation reports whether the message id belongs to the conversation.
func (s *Store) MessageInConversation(ctx context.Context, conversationID, messageID string) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE id = ? AND conversation_id = ?`,
		messageID, conversationID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: find message: %w", err)
	}
	return n > 0, nil
}

// SaveFeedback records whether a message helped; a later vote replaces an earlier one.
// It returns bot.ErrNotFound when the message is not in the conversation.
func (s *Store) SaveFeedback(ctx context.Context, conversationID, messageID string, helpful bool) error {
	res, err := s.write.ExecContext(ctx, `INSERT INTO feedback (message_id, helpful, created_at)
		SELECT id, ?, ? FROM messages WHERE id = ? AND conversation_id = ? AND role <> 'shopper'
		ON CONFLICT (message_id) DO UPDATE SET helpful = excluded.helpful, created_at = excluded.created_at`,
		helpful, s.stamp(), messageID, conversationID)
	if err != nil {
		return fmt.Errorf("sqlite: save feedback: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bot.ErrNotFound
	}
	return nil
}

// SaveRating records the shopper's rating of a conversation; a later rating replaces an earlier one.
func (s *Store) SaveRating(ctx context.Context, conversationID string, score int, comment string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (conversation_id) DO UPDATE SET score = excluded.score, comment = excluded.comment, created_at = excluded.created_at`,
		conversationID, score, comment, s.stamp())
	if err != nil {
		return fmt.Errorf("sqlite: save rating: %w", err)
	}
	return nil
}

// QuestionFor returns the bot message messageID of the conversation and the
// shopper message it replied to, or bot.ErrNotFound.
func (s *Store) QuestionFor(ctx context.Context, conversationID, messageID string) (question, reply bot.Message, err error) {
	reply, err = scanMessage(s.read.QueryRowContext(ctx, selectMessage+` WHERE conversation_id = ? AND id = ? AND role <> 'shopper'`,
		conversationID, messageID))
	if err != nil {
		return question, reply, err
	}
	if reply.ReplyTo == "" {
		return question, reply, bot.ErrNotFound
	}
	question, err = scanMessage(s.read.QueryRowContext(ctx, selectMessage+` WHERE conversation_id = ? AND client_id = ? AND role = 'shopper'`,
		conversationID, reply.ReplyTo))
	return question, reply, err
}

// LastQuestion returns the latest shopper message of the conversation that
// the bot answered from the knowledge base or was unsure about, with that
// reply, or bot.ErrNotFound.
func (s *Store) LastQuestion(ctx context.Context, conversationID string) (question, reply bot.Message, err error) {
	reply, err = scanMessage(s.read.QueryRowContext(ctx, selectMessage+` WHERE conversation_id = ? AND role = 'bot'
		AND intent IN (?, ?) AND reply_to <> '' ORDER BY seq DESC LIMIT 1`, conversationID, bot.IntentFAQ, bot.IntentUnsure))
	if err != nil {
		return question, reply, err
	}
	question, err = scanMessage(s.read.QueryRowContext(ctx, selectMessage+` WHERE conversation_id = ? AND client_id = ? AND role = 'shopper'`,
		conversationID, reply.ReplyTo))
	return question, reply, err
}
