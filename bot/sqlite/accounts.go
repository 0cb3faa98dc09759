package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/xiaoer-cs/xiaoer/web/auth"
)

var (
	_ auth.Users    = (*Store)(nil)
	_ auth.Sessions = (*Store)(nil)
)

const userColumns = `id, username, display_name, role, password_hash, disabled, failed_logins,
	locked_until, last_login_at, password_changed_at, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (auth.User, error) {
	var u auth.User
	var role, hash, locked, lastLogin, pwChanged, created, updated string
	if err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &role, &hash, &u.Disabled, &u.FailedLogins,
		&locked, &lastLogin, &pwChanged, &created, &updated); err != nil {
		return u, err
	}
	u.Role, u.PasswordHash = auth.Role(role), []byte(hash)
	var err error
	for _, f := range []struct {
		dst *time.Time
		v   string
	}{{&u.LockedUntil, locked}, {&u.LastLoginAt, lastLogin}, {&u.PasswordChangedAt, pwChanged}, {&u.CreatedAt, created}, {&u.UpdatedAt, updated}} {
		if *f.dst, err = parseTime(f.v); err != nil {
			return u, fmt.Errorf("user %d: %w", u.ID, err)
		}
	}
	return u, nil
}

// CreateUser stores a new user; auth.ErrUsernameTaken if the name is in
// use in any case.
func (s *Store) CreateUser(ctx context.Context, u auth.User) (auth.User, error) {
	var out auth.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.stamp()
		res, err := tx.ExecContext(ctx, `INSERT INTO users (username, display_name, role, password_hash, disabled,
			password_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.Username, u.DisplayName, string(u.Role), string(u.PasswordHash), u.Disabled,
			formatTime(u.PasswordChangedAt), now, now)
		var se sqlite3.Error
		if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
			return auth.ErrUsernameTaken
		}
		if err != nil {
			return fmt.Errorf("sqlite: create user %s: %w", u.Username, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("sqlite: create user %s: %w", u.Username, err)
		}
		out, err = userByID(ctx, tx, id)
		return err
	})
	return out, err
}

// User returns a user by id, or auth.ErrNotFound.
func (s *Store) User(ctx context.Context, id int64) (auth.User, error) {
	return userByID(ctx, s.read, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func userByID(ctx context.Context, q queryer, id int64) (auth.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, auth.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("sqlite: user %d: %w", id, err)
	}
	return u, nil
}

// UserByUsername returns a user by username (compared without case), or
// auth.ErrNotFound.
func (s *Store) UserByUsername(ctx context.Context, username string) (auth.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return u, auth.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("sqlite: user %s: %w", username, err)
	}
	return u, nil
}

// ListUsers returns every user ordered by id.
func (s *Store) ListUsers(ctx context.Context) ([]auth.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return out, nil
}

// UpdateUser applies ch in one transaction: the user's fields, ending their
// sessions (but ch.KeepSession) when ch.EndSessions is set, and the rule
// that at least one enabled admin remains, checked after the change so
// that two admins demoting each other at once cannot both succeed (writes
// are serialised). It returns the user and the sessions it deleted.
func (s *Store) UpdateUser(ctx context.Context, id int64, ch auth.UserChange) (auth.User, []auth.Session, error) {
	var u auth.User
	var ended []auth.Session
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		before, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.stamp()
		set := func(col string, v any) error {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET `+col+` = ?, updated_at = ? WHERE id = ?`, v, now, id); err != nil {
				return fmt.Errorf("sqlite: update user %d %s: %w", id, col, err)
			}
			return nil
		}
		if ch.DisplayName != nil {
			if err := set("display_name", *ch.DisplayName); err != nil {
				return err
			}
		}
		if ch.Role != nil {
			if err := set("role", string(*ch.Role)); err != nil {
				return err
			}
		}
		if ch.Disabled != nil {
			if err := set("disabled", *ch.Disabled); err != nil {
				return err
			}
		}
		if ch.PasswordHash != nil {
			if err := set("password_hash", string(ch.PasswordHash)); err != nil {
				return err
			}
			if err := set("password_changed_at", now); err != nil {
				return err
			}
		}
		if ch.ClearLockout {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = '' WHERE id = ?`, id); err != nil {
				return fmt.Errorf("sqlite: update user %d: clear lockout: %w", id, err)
			}
		}
		if u, err = userByID(ctx, tx, id); err != nil {
			return err
		}
		wasAdmin := before.Role == auth.RoleAdmin && !before.Disabled
		isAdmin := u.Role == auth.RoleAdmin && !u.Disabled
		if wasAdmin && !isAdmin {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = ? AND disabled = 0`, string(auth.RoleAdmin)).Scan(&n); err != nil {
				return fmt.Errorf("sqlite: update user %d: count admins: %w", id, err)
			}
			if n == 0 {
				return auth.ErrLastAdmin
			}
		}
		if ch.EndSessions {
			ended, err = deleteSessions(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND id != ?`, id, ch.KeepSession)
			if err != nil {
				return fmt.Errorf("sqlite: update user %d: end sessions: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return auth.User{}, nil, err
	}
	return u, ended, nil
}

// CountLoginAttempt records a login attempt before the password is checked;
// see auth.Users. Attempts beyond limit lock the account until lockUntil.
func (s *Store) CountLoginAttempt(ctx context.Context, id int64, now time.Time, limit int, lockUntil time.Time) (time.Time, error) {
	var locked time.Time
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			locked = u.LockedUntil
			return nil
		}
		n := u.FailedLogins + 1
		if n > limit {
			locked = lockUntil
			_, err = tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?`, formatTime(lockUntil), id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE users SET failed_logins = ? WHERE id = ?`, n, id)
		}
		if err != nil {
			return fmt.Errorf("sqlite: count login attempt for user %d: %w", id, err)
		}
		return nil
	})
	return locked, err
}

// LoginFailed locks the account until lockUntil when limit attempts in a
// row have failed, and returns lockUntil then; zero otherwise.
func (s *Store) LoginFailed(ctx context.Context, id int64, limit int, lockUntil time.Time) (time.Time, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ? AND failed_logins >= ?`,
		formatTime(lockUntil), id, limit)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: login failed for user %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return lockUntil, nil
	}
	return time.Time{}, nil
}

// LoginSucceeded resets the failed-login count and records the login time.
func (s *Store) LoginSucceeded(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = '', last_login_at = ? WHERE id = ?`,
		formatTime(at), id); err != nil {
		return fmt.Errorf("sqlite: login succeeded for user %d: %w", id, err)
	}
	return nil
}

const sessionColumns = `id, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at`

func scanSession(row scanner) (auth.Session, error) {
	var ss auth.Session
	var created, seen, expires string
	if err := row.Scan(&ss.ID, &ss.UserID, &ss.CSRFToken, &ss.IP, &ss.UserAgent, &created, &seen, &expires); err != nil {
		return ss, err
	}
	var err error
	if ss.CreatedAt, err = parseTime(created); err != nil {
		return ss, err
	}
	if ss.LastSeenAt, err = parseTime(seen); err != nil {
		return ss, err
	}
	ss.ExpiresAt, err = parseTime(expires)
	return ss, err
}

// CreateSession stores a session under the SHA-256 of its token.
func (s *Store) CreateSession(ctx context.Context, ss auth.Session, tokenHash []byte) (auth.Session, error) {
	res, err := s.write.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, ip, user_agent,
		created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		tokenHash, ss.UserID, ss.CSRFToken, ss.IP, ss.UserAgent,
		formatTime(ss.CreatedAt), formatTime(ss.LastSeenAt), formatTime(ss.ExpiresAt))
	if err != nil {
		return ss, fmt.Errorf("sqlite: create session for user %d: %w", ss.UserID, err)
	}
	if ss.ID, err = res.LastInsertId(); err != nil {
		return ss, fmt.Errorf("sqlite: create session for user %d: %w", ss.UserID, err)
	}
	return ss, nil
}

// SessionByTokenHash returns a session and its user, or auth.ErrNotFound.
func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash []byte) (auth.Session, auth.User, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return auth.Session{}, auth.User{}, fmt.Errorf("sqlite: session: %w", err)
	}
	defer tx.Rollback()
	ss, err := scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return ss, auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return ss, auth.User{}, fmt.Errorf("sqlite: session: %w", err)
	}
	u, err := userByID(ctx, tx, ss.UserID)
	if err != nil {
		return ss, u, fmt.Errorf("sqlite: session %d: %w", ss.ID, err)
	}
	return ss, u, nil
}

// TouchSession sets a session's last activity time.
func (s *Store) TouchSession(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, formatTime(at), id); err != nil {
		return fmt.Errorf("sqlite: touch session %d: %w", id, err)
	}
	return nil
}

// DeleteSession deletes a session and reports whether it existed.
func (s *Store) DeleteSession(ctx context.Context, id int64) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("sqlite: delete session %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteExpiredSessions deletes the sessions whose absolute end is at or
// before now, or whose last activity is at or before idleSince, and
// returns them. Times are stored in one fixed-width UTC layout, so they
// compare as text.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) ([]auth.Session, error) {
	var ended []auth.Session
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		ended, err = deleteSessions(ctx, tx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`,
			formatTime(now), formatTime(idleSince))
		if err != nil {
			return fmt.Errorf("sqlite: delete expired sessions: %w", err)
		}
		return nil
	})
	return ended, err
}

// deleteSessions runs a DELETE on sessions and returns the deleted rows.
func deleteSessions(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]auth.Session, error) {
	rows, err := tx.QueryContext(ctx, query+` RETURNING `+sessionColumns, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.Session
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ss)
	}
	return out, rows.Err()
}
