package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// tokenBytes is the size of session tokens and CSRF tokens.
const tokenBytes = 32

// touchEvery is how stale a session's last activity may get before a
// request records it: one write a minute per session at most, not one per
// request.
const touchEvery = time.Minute

// maxUserAgent bounds the user agent stored with a session.
const maxUserAgent = 256

// Client describes where a login comes from, for the session record and logs.
type Client struct {
	IP        string
	UserAgent string
}

// LoginResult is a successful login: the user, the new session and the
// session token for the cookie. The token is secret and exists only here and
// in the cookie.
type LoginResult struct {
	User    User
	Session Session
	Token   string
}

// Login checks a username and password and starts a session. It returns
// ErrInvalidCredentials for an unknown user, a wrong password and a
// disabled account alike, spending the same bcrypt time on each, and a
// *LockedError for a locked account whatever the password. The failure of
// the limit-th attempt in a row locks the account.
func (s *Service) Login(ctx context.Context, username, password string, c Client) (LoginResult, error) {
	var res LoginResult
	name, nameErr := NormalizeUsername(username)
	var u User
	var err error
	if nameErr == nil {
		u, err = s.users.UserByUsername(ctx, name)
	}
	if nameErr != nil || errors.Is(err, ErrNotFound) {
		if _, err := s.passwordMatches(ctx, nil, password); err != nil {
			return res, err
		}
		// The attempted name is not logged: people type passwords into it.
		s.log.Warn("login failed", "reason", "unknown user", "ip", c.IP)
		return res, ErrInvalidCredentials
	}
	if err != nil {
		return res, fmt.Errorf("auth: login: %w", err)
	}
	if u.Disabled {
		if _, err := s.passwordMatches(ctx, u.PasswordHash, password); err != nil {
			return res, err
		}
		s.log.Warn("login failed", "reason", "disabled", "username", u.Username, "ip", c.IP)
		return res, ErrInvalidCredentials
	}

	now := s.cfg.Now()
	lockUntil := now.Add(s.cfg.LockoutDuration)
	locked, err := s.users.CountLoginAttempt(ctx, u.ID, now, s.cfg.MaxFailedLogins, lockUntil)
	if err != nil {
		return res, fmt.Errorf("auth: login %s: %w", u.Username, err)
	}
	if !locked.IsZero() {
		s.log.Warn("login refused: account locked", "username", u.Username, "ip", c.IP, "locked_until", locked)
		return res, &LockedError{Until: locked}
	}
	ok, err := s.passwordMatches(ctx, u.PasswordHash, password)
	if err != nil {
		return res, err
	}
	if !ok {
		locked, err := s.users.LoginFailed(ctx, u.ID, s.cfg.MaxFailedLogins, lockUntil)
		if err != nil {
			return res, fmt.Errorf("auth: login %s: %w", u.Username, err)
		}
		if !locked.IsZero() {
			s.log.Warn("account locked after failed logins", "username", u.Username, "ip", c.IP,
				"failures", s.cfg.MaxFailedLogins, "locked_until", locked)
		} else {
			s.log.Warn("login failed", "reason", "wrong password", "username", u.Username, "ip", c.IP)
		}
		return res, ErrInvalidCredentials
	}

	now = s.cfg.Now()
	if err := s.users.LoginSucceeded(ctx, u.ID, now); err != nil {
		return res, fmt.Errorf("auth: login %s: %w", u.Username, err)
	}
	if _, err := s.EndExpired(ctx); err != nil {
		s.log.Error("sweep expired sessions", "err", err)
	}
	token, hash := newToken()
	csrf, _ := newToken()
	ua := c.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	sess, err := s.sessions.CreateSession(ctx, Session{
		UserID: u.ID, CSRFToken: csrf, IP: c.IP, UserAgent: ua,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionLifetime),
	}, hash)
	if err != nil {
		return res, fmt.Errorf("auth: login %s: create session: %w", u.Username, err)
	}
	u.FailedLogins, u.LockedUntil, u.LastLoginAt = 0, time.Time{}, now
	s.log.Info("login", "username", u.Username, "role", u.Role, "ip", c.IP, "session", sess.ID)
	return LoginResult{User: u, Session: sess, Token: token}, nil
}

// Authenticate returns the session whose token is given and its user, or
// ErrNoSession when the token is unknown, the session has passed its
// absolute lifetime or idle timeout (it is then deleted), or the user is
// disabled. It records the activity at most once a minute.
func (s *Service) Authenticate(ctx context.Context, token string) (User, Session, error) {
	hash, ok := tokenHash(token)
	if !ok {
		return User{}, Session{}, ErrNoSession
	}
	sess, u, err := s.sessions.SessionByTokenHash(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return User{}, Session{}, ErrNoSession
	}
	if err != nil {
		return User{}, Session{}, fmt.Errorf("auth: authenticate: %w", err)
	}
	now := s.cfg.Now()
	expired := !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(s.cfg.IdleTimeout))
	if expired || u.Disabled {
		reason := EndExpired
		if !expired {
			reason = EndDisabled
		}
		if err := s.endSession(ctx, sess, reason); err != nil {
			return User{}, Session{}, err
		}
		return User{}, Session{}, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.sessions.TouchSession(ctx, sess.ID, now); err != nil {
			return User{}, Session{}, fmt.Errorf("auth: authenticate: %w", err)
		}
		sess.LastSeenAt = now
	}
	return u, sess, nil
}

// Logout ends a session. Ending one that has already ended is not an error.
func (s *Service) Logout(ctx context.Context, sess Session) error {
	return s.endSession(ctx, sess, EndLogout)
}

func (s *Service) endSession(ctx context.Context, sess Session, reason EndReason) error {
	deleted, err := s.sessions.DeleteSession(ctx, sess.ID)
	if err != nil {
		return fmt.Errorf("auth: end session: %w", err)
	}
	if deleted {
		s.endSessions([]Session{sess}, reason)
	}
	return nil
}

// EndExpired deletes every session past its absolute lifetime or idle
// timeout and reports each to OnSessionEnd. Login calls it; a server may
// also call it periodically so that the console learns of idle sessions.
func (s *Service) EndExpired(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	ended, err := s.sessions.DeleteExpiredSessions(ctx, now, now.Add(-s.cfg.IdleTimeout))
	if err != nil {
		return 0, fmt.Errorf("auth: end expired sessions: %w", err)
	}
	s.endSessions(ended, EndExpired)
	return len(ended), nil
}

// newToken returns a random token (base64url, no padding) and its SHA-256.
func newToken() (string, []byte) {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(b), sum[:]
}

// tokenHash decodes a session token and returns its SHA-256; ok is false
// for anything that is not a token we could have made.
func tokenHash(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return nil, false
	}
	sum := sha256.Sum256(b)
	return sum[:], true
}
