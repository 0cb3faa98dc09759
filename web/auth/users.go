package auth

import (
	"context"
	"fmt"
	"log/slog"
)

// NewUser is an account to create.
type NewUser struct {
	Username    string
	Password    string
	Role        Role
	DisplayName string
}

// UserUpdate changes an account; nil fields stay as they are.
type UserUpdate struct {
	DisplayName *string
	Role        *Role
	Disabled    *bool
	Password    *string
}

// CreateUser checks and stores a new account. It returns an *InvalidError
// for a bad username, role, password or display name, and ErrUsernameTaken
// when the name is in use in any case.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	name, err := NormalizeUsername(nu.Username)
	if err != nil {
		return User{}, err
	}
	if !nu.Role.Valid() {
		return User{}, &InvalidError{Field: "role", Msg: fmt.Sprintf("unknown role %q: want admin, editor or agent", nu.Role)}
	}
	display, err := normalizeDisplayName(nu.DisplayName)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(nu.Password, name); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(ctx, nu.Password)
	if err != nil {
		return User{}, err
	}
	u, err := s.users.CreateUser(ctx, User{
		Username: name, DisplayName: display, Role: nu.Role, PasswordHash: hash,
		PasswordChangedAt: s.cfg.Now(),
	})
	if err != nil {
		return User{}, fmt.Errorf("auth: create user %s: %w", name, err)
	}
	s.log.Info("user created", "user", u, actor(ctx))
	return u, nil
}

// UpdateUser changes an account. Disabling the user, changing their role
// or setting their password ends their sessions, except that users setting
// their own password keep the session they did it from. Setting a password
// or enabling an account also ends any lockout. It returns ErrLastAdmin,
// changing nothing, when the change would leave no enabled admin,
// ErrNotFound for an unknown id, and an *InvalidError for a bad value.
func (s *Service) UpdateUser(ctx context.Context, id int64, up UserUpdate) (User, error) {
	cur, err := s.users.User(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("auth: update user %d: %w", id, err)
	}
	var ch UserChange
	if up.DisplayName != nil {
		d, err := normalizeDisplayName(*up.DisplayName)
		if err != nil {
			return User{}, err
		}
		ch.DisplayName = &d
	}
	if up.Role != nil {
		if !up.Role.Valid() {
			return User{}, &InvalidError{Field: "role", Msg: fmt.Sprintf("unknown role %q: want admin, editor or agent", *up.Role)}
		}
		ch.Role = up.Role
	}
	ch.Disabled = up.Disabled
	if up.Password != nil {
		if err := CheckPassword(*up.Password, cur.Username); err != nil {
			return User{}, err
		}
		if ch.PasswordHash, err = s.hashPassword(ctx, *up.Password); err != nil {
			return User{}, err
		}
	}

	// Why sessions end, most serious first.
	var reason EndReason
	switch {
	case up.Disabled != nil && *up.Disabled && !cur.Disabled:
		reason = EndDisabled
	case up.Role != nil && *up.Role != cur.Role:
		reason = EndRole
	case up.Password != nil:
		reason = EndPassword
	}
	ch.EndSessions = reason != ""
	if own, ok := SessionFrom(ctx); ok && own.UserID == id && reason == EndPassword {
		ch.KeepSession = own.ID
	}
	ch.ClearLockout = up.Password != nil || (up.Disabled != nil && !*up.Disabled)

	u, ended, err := s.users.UpdateUser(ctx, id, ch)
	if err != nil {
		return User{}, fmt.Errorf("auth: update user %s: %w", cur.Username, err)
	}
	s.endSessions(ended, reason)
	attrs := []any{"user", u, actor(ctx), "sessions_ended", len(ended)}
	if up.Role != nil {
		attrs = append(attrs, "role_from", cur.Role)
	}
	if up.Disabled != nil {
		attrs = append(attrs, "disabled", u.Disabled)
	}
	if up.Password != nil {
		attrs = append(attrs, "password_changed", true)
	}
	s.log.Info("user updated", attrs...)
	return u, nil
}

// Users returns every account ordered by id.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	us, err := s.users.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	return us, nil
}

// UserByUsername returns an account by username (in any case), or ErrNotFound.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	name, err := NormalizeUsername(username)
	if err != nil {
		return User{}, fmt.Errorf("auth: user %q: %w", username, ErrNotFound)
	}
	u, err := s.users.UserByUsername(ctx, name)
	if err != nil {
		return User{}, fmt.Errorf("auth: user %s: %w", name, err)
	}
	return u, nil
}

// actor is the log attribute naming who made a change: the signed-in user
// of the request, or the command line.
func actor(ctx context.Context) slog.Attr {
	if u, ok := UserFrom(ctx); ok {
		return slog.String("by", u.Username)
	}
	return slog.String("by", "command line")
}
