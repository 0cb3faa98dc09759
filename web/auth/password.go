package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password rules.
const (
	// MinPasswordChars is the shortest password, in characters.
	MinPasswordChars = 10
	// MaxPasswordBytes is bcrypt's limit; a longer password is refused
	// rather than silently truncated.
	MaxPasswordBytes = 72
)

// Username rules: 3 to 64 of letters, digits, '.', '_', '-' and '@',
// compared and stored in lower case.
const (
	MinUsernameLen = 3
	MaxUsernameLen = 64
)

// MaxDisplayNameChars is the longest display name, in characters.
const MaxDisplayNameChars = 100

// NormalizeUsername returns the stored form of a username (lower case), or
// an *InvalidError when it breaks the rules.
func NormalizeUsername(name string) (string, error) {
	if len(name) < MinUsernameLen || len(name) > MaxUsernameLen {
		return "", &InvalidError{Field: "username", Msg: fmt.Sprintf("must be %d to %d characters", MinUsernameLen, MaxUsernameLen)}
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c)
		if !ok {
			return "", &InvalidError{Field: "username", Msg: "may contain only letters a-z, digits and . _ - @"}
		}
	}
	return strings.ToLower(name), nil
}

// CheckPassword returns an *InvalidError when password breaks the rules:
// at least MinPasswordChars characters, at most MaxPasswordBytes bytes,
// valid UTF-8, and not the username.
func CheckPassword(password, username string) error {
	if !utf8.ValidString(password) {
		return &InvalidError{Field: "password", Msg: "must be valid UTF-8 text"}
	}
	if utf8.RuneCountInString(password) < MinPasswordChars {
		return &InvalidError{Field: "password", Msg: fmt.Sprintf("must be at least %d characters", MinPasswordChars)}
	}
	if len(password) > MaxPasswordBytes {
		return &InvalidError{Field: "password", Msg: fmt.Sprintf("must be at most %d bytes (bcrypt's limit)", MaxPasswordBytes)}
	}
	if username != "" && strings.EqualFold(password, username) {
		return &InvalidError{Field: "password", Msg: "must not be the username"}
	}
	return nil
}

// normalizeDisplayName trims a display name and checks its length and
// characters (no control characters).
func normalizeDisplayName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxDisplayNameChars {
		return "", &InvalidError{Field: "display_name", Msg: fmt.Sprintf("must be text of at most %d characters", MaxDisplayNameChars)}
	}
	for _, c := range name {
		if unicode.IsControl(c) {
			return "", &InvalidError{Field: "display_name", Msg: "must not contain control characters"}
		}
	}
	return name, nil
}

// GeneratePassword returns a random password of 26 characters from A-Z
// and 2-7 (128 bits, crypto/rand.Text), for accounts made from the command line.
func GeneratePassword() string { return rand.Text() }

// hashPassword hashes a checked password at the configured cost.
func (s *Service) hashPassword(ctx context.Context, password string) ([]byte, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return nil, err
	}
	defer s.releaseHashing()
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("auth: hash password: %w", err)
	}
	return h, nil
}

// passwordMatches compares in constant time (bcrypt does); a nil hash is
// compared with the dummy hash so that the time spent is the same.
func (s *Service) passwordMatches(ctx context.Context, hash []byte, password string) (bool, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return false, err
	}
	defer s.releaseHashing()
	// bcrypt reads only the first 72 bytes; no stored password is longer,
	// so a longer one is wrong, not a match on its prefix.
	if hash == nil || len(password) > MaxPasswordBytes {
		bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return false, nil
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil, nil
}

func (s *Service) acquireHashing(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to hash a password: %w", ctx.Err())
	}
}

func (s *Service) releaseHashing() { <-s.hashing }

// dummyHash returns a valid bcrypt hash at the given cost that no password
// matches: a hash of a random password made at the minimum cost (fast),
// with its cost field rewritten. Checking a password against it takes as
// long as against a real hash of that cost, so a login for an unknown user
// takes as long as one with a wrong password.
func dummyHash(cost int) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), bcrypt.MinCost)
	if err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	// "$2a$04$" + 53 characters of salt and hash.
	out := fmt.Appendf(nil, "%s%02d%s", h[:4], cost, h[6:])
	if c, err := bcrypt.Cost(out); err != nil || c != cost {
		return nil, fmt.Errorf("auth: dummy hash: cost %d, %v", c, err)
	}
	return out, nil
}
