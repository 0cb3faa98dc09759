// Package auth is Xiaoer's staff accounts and login, shared by the ops
// admin page and the human-agent console: users with a role, bcrypt
// passwords, lockout after repeated failures, cookie sessions with idle and
// absolute timeouts, a per-session CSRF token, HTTP middleware that puts the
// signed-in user in the request context, and the login, logout, "me" and
// user-management handlers.
//
// The package declares the storage it needs (Users and Sessions);
// package bot/sqlite implements both. docs/accounts.md describes the rules
// and the API for clients.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a staff member is for. Each role grants a fixed set of
// permissions (see Can).
type Role string

// The roles. RELIABILITY.md's "kb_editor" is RoleEditor.
const (
	// RoleAdmin may do everything: users, settings, knowledge base, conversations.
	RoleAdmin Role = "admin"
	// RoleEditor edits the knowledge base and nothing else.
	RoleEditor Role = "editor"
	// RoleAgent answers conversations and nothing else.
	RoleAgent Role = "agent"
)

// Roles lists every role, most powerful first.
func Roles() []Role { return []Role{RoleAdmin, RoleEditor, RoleAgent} }

// ParseRole returns the role named s ("admin", "editor" or "agent"; case
// does not matter), or an *InvalidError.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", &InvalidError{Field: "role", Msg: fmt.Sprintf("unknown role %q: want admin, editor or agent", s)}
	}
	return r, nil
}

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleEditor, RoleAgent:
		return true
	}
	return false
}

// Permission is one kind of thing a role may do.
type Permission string

// The permissions checked by Require.
const (
	// PermKB is reading and editing the knowledge base.
	PermKB Permission = "kb"
	// PermUsers is managing staff accounts.
	PermUsers Permission = "users"
	// PermSettings is changing the server's settings.
	PermSettings Permission = "settings"
	// PermConversations is reading and answering shopper conversations.
	PermConversations Permission = "conversations"
)

// Can reports whether the role grants p. An unknown role grants nothing.
func (r Role) Can(p Permission) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleEditor:
		return p == PermKB
	case RoleAgent:
		return p == PermConversations
	}
	return false
}

// Permissions lists what the role grants, for clients that decide what to show.
func (r Role) Permissions() []Permission {
	out := []Permission{}
	for _, p := range []Permission{PermKB, PermUsers, PermSettings, PermConversations} {
		if r.Can(p) {
			out = append(out, p)
		}
	}
	return out
}

// User is a staff account.
type User struct {
	ID          int64
	Username    string // lower case, unique
	DisplayName string
	Role        Role
	Disabled    bool
	// PasswordHash is the bcrypt hash. Never send it to a client or log it.
	PasswordHash []byte
	// FailedLogins counts failed logins in a row since the last success or lockout.
	FailedLogins int
	// LockedUntil is when a lockout ends; zero when the account is not locked.
	LockedUntil       time.Time
	LastLoginAt       time.Time // zero when the user never logged in
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// LogValue keeps the password hash out of logs.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", u.ID), slog.String("username", u.Username), slog.String("role", string(u.Role)))
}

// Locked reports whether the account is locked at now.
func (u User) Locked(now time.Time) bool { return now.Before(u.LockedUntil) }

// Session is a signed-in browser. The cookie's token is never stored: the
// store keys sessions by the token's SHA-256.
type Session struct {
	ID     int64 // not secret: it cannot sign anyone in
	UserID int64
	// CSRFToken must come back in the X-CSRF-Token header of every
	// state-changing request made with this session's cookie.
	CSRFToken  string
	IP         string // where the login came from
	UserAgent  string // at login, at most 256 bytes
	CreatedAt  time.Time
	LastSeenAt time.Time // updated at most once a minute
	ExpiresAt  time.Time // the absolute end, whatever the activity
}

// LogValue keeps the CSRF token out of logs.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", s.ID), slog.Int64("user_id", s.UserID))
}

// EndReason says why a session ended.
type EndReason string

// The reasons a session ends.
const (
	EndLogout   EndReason = "logout"
	EndExpired  EndReason = "expired"  // absolute lifetime or idle timeout
	EndReplaced EndReason = "replaced" // the same browser logged in again
	EndDisabled EndReason = "disabled"
	EndRole     EndReason = "role_changed"
	EndPassword EndReason = "password_changed"
)

// SessionEnd reports one ended session to Config.OnSessionEnd.
type SessionEnd struct {
	SessionID int64
	UserID    int64
	Reason    EndReason
}

// Errors returned by the Service and by implementations of Users and
// Sessions. Handlers map them to HTTP statuses in one place (writeServiceError).
var (
	// ErrNotFound: no such user or session.
	ErrNotFound = errors.New("auth: not found")
	// ErrUsernameTaken: another account has this username (in any case).
	ErrUsernameTaken = errors.New("auth: username taken")
	// ErrLastAdmin: the change would leave no enabled admin.
	ErrLastAdmin = errors.New("auth: the last enabled admin cannot be disabled or demoted")
	// ErrInvalidCredentials: unknown user, wrong password or disabled
	// account; the three are deliberately indistinguishable.
	ErrInvalidCredentials = errors.New("auth: invalid username or password")
	// ErrNoSession: no cookie, or a session that is unknown, expired or ended.
	ErrNoSession = errors.New("auth: no valid session")
)

// LockedError is returned by Login for an account locked after too many
// failed logins, whatever the password.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "auth: account locked until " + e.Until.UTC().Format(time.RFC3339)
}

// InvalidError is a value the caller must change: a bad username, role,
// password or display name, or a malformed request.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return "auth: " + e.Field + ": " + e.Msg }

// UserChange is an update to an account for Users.UpdateUser; nil fields
// stay as they are. The Service decides the policy fields.
type UserChange struct {
	DisplayName  *string
	Role         *Role
	Disabled     *bool
	PasswordHash []byte // nil: unchanged
	// ClearLockout resets the failed-login count and ends any lockout.
	ClearLockout bool
	// EndSessions deletes the user's sessions in the same transaction,
	// except KeepSession (0 keeps none).
	EndSessions bool
	KeepSession int64
}

// Users stores accounts. Implementations return ErrNotFound,
// ErrUsernameTaken and ErrLastAdmin (wrapped or not) as documented.
type Users interface {
	// CreateUser stores a new user (ID, CreatedAt and UpdatedAt are set by
	// the store) and returns it; ErrUsernameTaken if the name is in use.
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns a user by id, or ErrNotFound.
	User(ctx context.Context, id int64) (User, error)
	// UserByUsername returns a user by lower-case username, or ErrNotFound.
	UserByUsername(ctx context.Context, username string) (User, error)
	// ListUsers returns every user ordered by id.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser applies ch in one transaction and returns the user and the
	// sessions it ended. It returns ErrLastAdmin, changing nothing, when the
	// change would leave no enabled admin, and ErrNotFound for an unknown id.
	UpdateUser(ctx context.Context, id int64, ch UserChange) (User, []Session, error)
	// CountLoginAttempt records a login attempt before the password is
	// checked, so that parallel guesses cannot exceed the limit. It returns
	// a non-zero time when the account is locked at now: already, or
	// because this attempt is beyond limit (then it locks until lockUntil
	// and resets the count).
	CountLoginAttempt(ctx context.Context, id int64, now time.Time, limit int, lockUntil time.Time) (lockedUntil time.Time, err error)
	// LoginFailed locks the account until lockUntil (and resets the count)
	// when limit attempts have failed in a row; it returns the lock's end,
	// or zero when the account is not locked by this failure.
	LoginFailed(ctx context.Context, id int64, limit int, lockUntil time.Time) (lockedUntil time.Time, err error)
	// LoginSucceeded resets the failed-login count and records the login time.
	LoginSucceeded(ctx context.Context, id int64, at time.Time) error
}

// Sessions stores sessions, keyed by the SHA-256 of their token.
type Sessions interface {
	// CreateSession stores s (its ID is set by the store) under tokenHash.
	CreateSession(ctx context.Context, s Session, tokenHash []byte) (Session, error)
	// SessionByTokenHash returns the session and its user, or ErrNotFound.
	SessionByTokenHash(ctx context.Context, tokenHash []byte) (Session, User, error)
	// TouchSession sets the session's last activity time.
	TouchSession(ctx context.Context, id int64, at time.Time) error
	// DeleteSession deletes a session and reports whether it existed.
	DeleteSession(ctx context.Context, id int64) (bool, error)
	// DeleteExpiredSessions deletes the sessions whose absolute end is at or
	// before now, or whose last activity is at or before idleSince, and
	// returns them.
	DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) ([]Session, error)
}

// Config configures the Service. The zero value is usable: every zero
// field means the documented default.
type Config struct {
	// BcryptCost is the work factor of new password hashes; zero means 12
	// (about 0.3 s on one core of a 2020s server). Logins check a password
	// at the cost it was hashed with. Tests use bcrypt.MinCost (4).
	BcryptCost int
	// MaxFailedLogins is how many failed logins in a row lock an account;
	// zero means 5.
	MaxFailedLogins int
	// LockoutDuration is how long a locked account stays locked; zero
	// means 15 minutes.
	LockoutDuration time.Duration
	// SessionLifetime is a session's absolute lifetime, however active;
	// zero means 12 hours.
	SessionLifetime time.Duration
	// IdleTimeout ends a session with no request for this long; zero means
	// 2 hours. Activity is recorded at most once a minute, so a session
	// may end up to a minute early.
	IdleTimeout time.Duration
	// MaxConcurrentHashes bounds the bcrypt computations (logins, password
	// changes) running at once, so a flood of logins cannot take every
	// CPU from the chat; zero means half the CPUs, at least 1. Others wait
	// their turn (or for their request to be cancelled).
	MaxConcurrentHashes int
	// BehindTLS says a TLS-terminating proxy forwards plain HTTP to this
	// server: session cookies get the Secure flag and the expected Origin
	// scheme is https, as for requests that arrive over TLS.
	BehindTLS bool
	// TrustedOrigins are extra exact origins ("https://admin.example.com")
	// that may send state-changing requests, for a proxy that changes the
	// Host header. The server's own origin (scheme and Host) always may.
	TrustedOrigins []string
	// OnSessionEnd, when set, is called after the change is committed, once
	// for each session that ends: logout, expiry found at a request or a
	// sweep, a new login from the same browser, and the user being
	// disabled or changing role or password. The agent console closes the
	// session's websockets here. It must not block. Sessions ended by
	// another process (the CLI) are not reported: revalidate with
	// Authenticate.
	OnSessionEnd func(SessionEnd)
	// Now returns the current time; zero means time.Now. Tests inject a clock.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.BcryptCost == 0 {
		c.BcryptCost = 12
	}
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		return fmt.Errorf("auth: bcrypt cost %d outside %d..%d", c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if c.MaxFailedLogins <= 0 {
		c.MaxFailedLogins = 5
	}
	if c.LockoutDuration <= 0 {
		c.LockoutDuration = 15 * time.Minute
	}
	if c.SessionLifetime <= 0 {
		c.SessionLifetime = 12 * time.Hour
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Hour
	}
	if c.MaxConcurrentHashes <= 0 {
		c.MaxConcurrentHashes = max(1, runtime.GOMAXPROCS(0)/2)
	}
	for _, o := range c.TrustedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			return fmt.Errorf("auth: trusted origin %q must be scheme://host[:port]", o)
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Service signs staff in and out and manages their accounts.
type Service struct {
	cfg      Config
	users    Users
	sessions Sessions
	log      *slog.Logger
	hashing  chan struct{} // semaphore: one slot per running bcrypt computation
	dummy    []byte        // a bcrypt hash at cfg.BcryptCost that no password matches
	trusted  map[string]bool
}

// New returns the Service. It fails only for an invalid Config.
func New(cfg Config, users Users, sessions Sessions, log *slog.Logger) (*Service, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	dummy, err := dummyHash(cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, users: users, sessions: sessions, log: log,
		hashing: make(chan struct{}, cfg.MaxConcurrentHashes),
		dummy:   dummy,
		trusted: map[string]bool{},
	}
	for _, o := range cfg.TrustedOrigins {
		s.trusted[strings.ToLower(o)] = true
	}
	return s, nil
}

// endSessions reports ended sessions to the hook; call it after the commit.
func (s *Service) endSessions(ended []Session, reason EndReason) {
	if s.cfg.OnSessionEnd == nil {
		return
	}
	for _, e := range ended {
		s.cfg.OnSessionEnd(SessionEnd{SessionID: e.ID, UserID: e.UserID, Reason: reason})
	}
}
