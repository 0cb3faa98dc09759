package ingest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// Service tokens authenticate the shop's backend on the ingestion API.
// A token is "xst_" and 43 characters of base64url (256 random bits); the
// store keeps only its SHA-256, so a copy of the database does not reveal
// a usable token.

// TokenPrefix starts every generated service token, so one found in a log
// or a repository is recognisable.
const TokenPrefix = "xst_"

// NewToken returns a new random service token and the hash to store.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the hex SHA-256 of a token, as stored.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// ErrBadToken is returned for a missing, unknown or revoked token.
var ErrBadToken = errors.New("ingest: bad service token")

// TokenStore finds a live (not revoked) service token by its hash, records
// its use and returns its name, or returns an error that errors.Is
// bot.ErrNotFound.
type TokenStore interface {
	UseServiceToken(ctx context.Context, hash string) (name string, err error)
}

// ConfiguredTokenName is the name a request authenticated with the token
// from the configuration (XIAOER_SERVICE_TOKEN) is logged under.
const ConfiguredTokenName = "config"

// Tokens verifies service tokens: the one from the configuration, if any,
// then those created with `xiaoer token --service`.
type Tokens struct {
	store      TokenStore
	configured []byte // SHA-256 of the configured token; nil when none
}

// NewTokens returns a verifier. configured is a token from the
// configuration ("" for none); it is kept only as a hash.
func NewTokens(store TokenStore, configured string) *Tokens {
	t := &Tokens{store: store}
	if configured = strings.TrimSpace(configured); configured != "" {
		h := sha256.Sum256([]byte(configured))
		t.configured = h[:]
	}
	return t
}

// Verify returns the name of the token, or ErrBadToken. The configured
// token is compared in constant time (over hashes, so the length does not
// leak either); stored tokens are found by their hash, which a timing
// difference cannot help guess.
func (t *Tokens) Verify(ctx context.Context, token string) (name string, err error) {
	if token == "" {
		return "", ErrBadToken
	}
	if t.configured != nil {
		h := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(h[:], t.configured) == 1 {
			return ConfiguredTokenName, nil
		}
	}
	if t.store == nil {
		return "", ErrBadToken
	}
	name, err = t.store.UseServiceToken(ctx, HashToken(token))
	if err != nil {
		if errors.Is(err, bot.ErrNotFound) {
			return "", ErrBadToken
		}
		return "", err
	}
	return name, nil
}
