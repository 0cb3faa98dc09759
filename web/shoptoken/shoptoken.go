// Package shoptoken signs and verifies the short-lived tokens by which a
// shop's backend vouches for a logged-in shopper.
//
// A token is base64url(payload) "." base64url(HMAC-SHA256(secret, payload)),
// where payload is the JSON object {"sub": shopper id, "exp": unix seconds,
// "iat": unix seconds}. The shop's backend holds the same secret and makes
// tokens with a few lines of code in any language (docs/protocol.md).
package shoptoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MinSecretLen is the shortest secret accepted, in bytes.
const MinSecretLen = 16

// MaxTokenLen is the longest token Verify accepts, and Sign makes, in bytes.
const MaxTokenLen = 2048

// MaxTTL is the longest lifetime a token may have: Sign refuses longer ones
// and Verify refuses tokens whose exp is further than this after their iat.
const MaxTTL = 24 * time.Hour

// Errors returned by Verify. Callers show none of them to the client beyond
// "invalid token".
var (
	ErrMalformed = errors.New("shoptoken: malformed token")
	ErrSignature = errors.New("shoptoken: bad signature")
	ErrExpired   = errors.New("shoptoken: expired")
)

// Claims is what a token asserts.
type Claims struct {
	Shopper  string `json:"sub"`
	Expires  int64  `json:"exp"`
	IssuedAt int64  `json:"iat"`
}

// Signer signs and verifies tokens with one secret.
type Signer struct {
	secret []byte
	now    func() time.Time
}

// NewSigner returns a Signer for secret. now may be nil (time.Now).
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("shoptoken: secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: append([]byte(nil), secret...), now: now}, nil
}

// String keeps the secret out of logs and %v.
func (s *Signer) String() string { return "shoptoken.Signer{secret: redacted}" }

// Sign returns a token for shopper valid for ttl. The shopper id must be
// valid UTF-8: JSON would carry another id.
func (s *Signer) Sign(shopper string, ttl time.Duration) (string, error) {
	if shopper == "" {
		return "", errors.New("shoptoken: empty shopper id")
	}
	if !utf8.ValidString(shopper) {
		return "", errors.New("shoptoken: shopper id is not valid UTF-8")
	}
	if ttl <= 0 || ttl > MaxTTL {
		return "", fmt.Errorf("shoptoken: ttl must be positive and at most %v", MaxTTL)
	}
	now := s.now()
	payload, err := json.Marshal(Claims{Shopper: shopper, Expires: now.Add(ttl).Unix(), IssuedAt: now.Unix()})
	if err != nil {
		return "", fmt.Errorf("shoptoken: %w", err)
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	tok := p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
	if len(tok) > MaxTokenLen {
		return "", fmt.Errorf("shoptoken: shopper id is too long: the token would be over %d bytes", MaxTokenLen)
	}
	return tok, nil
}

// Verify checks a token's signature and expiry and returns its claims.
func (s *Signer) Verify(token string) (Claims, error) {
	var c Claims
	p, sig, ok := strings.Cut(token, ".")
	if !ok || p == "" || sig == "" || len(token) > MaxTokenLen {
		return c, ErrMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || base64.RawURLEncoding.EncodeToString(got) != sig {
		// The decoder ignores line breaks and the last character's unused
		// bits; a token has one spelling, so it cannot be altered and
		// still verify.
		return c, ErrMalformed
	}
	if !hmac.Equal(got, s.mac(p)) {
		return c, ErrSignature
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return c, ErrMalformed
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Shopper == "" || c.Expires == 0 {
		return Claims{}, ErrMalformed
	}
	if c.Expires-c.IssuedAt > int64(MaxTTL/time.Second) {
		return Claims{}, ErrMalformed
	}
	if !s.now().Before(time.Unix(c.Expires, 0)) {
		return Claims{}, ErrExpired
	}
	return c, nil
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}
