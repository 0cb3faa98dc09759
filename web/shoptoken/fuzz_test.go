package shoptoken

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzVerify checks tokens a client may send: a token signed for a shopper
// verifies to that shopper; the same token with one byte changed never
// verifies (a token has one spelling, so it cannot be altered and still
// pass, e.g. to dodge a list of used tokens); and an arbitrary string is
// refused with one of the package's errors or accepted only with sound
// claims and a signature spelt as the signer spells it.
func FuzzVerify(f *testing.F) {
	f.Add("demo-cn", int64(3600), uint16(0), byte('x'), "")
	f.Add("王芳", int64(60), uint16(70), byte('A'), "eyJzdWIiOiJ4IiwiZXhwIjoxLCJpYXQiOjB9.AAAA")
	f.Add("u-42", int64(86400), uint16(65535), byte('.'), "a.b.c")
	f.Add("x", int64(1), uint16(3), byte(0xff), "\xff.\xfe")
	f.Add("a\"b\\c\x00", int64(100), uint16(1), byte('-'), ".")
	f.Add("\xffbad", int64(100), uint16(0), byte(0), "")
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s, err := NewSigner([]byte("a-secret-of-enough-length"), func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, shopper string, ttlSeconds int64, at uint16, b byte, token string) {
		// Any token.
		c, err := s.Verify(token)
		switch {
		case err == nil && (c.Shopper == "" || c.Expires <= now.Unix() || c.Expires-c.IssuedAt > int64(MaxTTL/time.Second)):
			t.Errorf("Verify(%q) accepted claims %+v", token, c)
		case err == nil && token[strings.IndexByte(token, '.')+1:] != base64.RawURLEncoding.EncodeToString(s.mac(token[:strings.IndexByte(token, '.')])):
			t.Errorf("Verify(%q) accepted a signature spelt otherwise than the signer does", token)
		case err == nil:
		case !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrExpired):
			t.Errorf("Verify(%q): unexpected error %v", token, err)
		}

		// A token the signer made.
		tok, err := s.Sign(shopper, time.Duration(ttlSeconds)*time.Second)
		if err != nil {
			if shopper != "" && utf8.ValidString(shopper) && len(shopper) < 200 && ttlSeconds > 0 && ttlSeconds <= int64(MaxTTL/time.Second) {
				t.Fatalf("Sign(%q, %ds): %v", shopper, ttlSeconds, err)
			}
			return
		}
		c, err = s.Verify(tok)
		if err != nil || c.Shopper != shopper || c.Expires != now.Unix()+ttlSeconds || c.IssuedAt != now.Unix() {
			t.Fatalf("Verify(Sign(%q, %ds)) = %+v, %v", shopper, ttlSeconds, c, err)
		}
		i := int(at) % len(tok)
		if tok[i] == b {
			return
		}
		altered := tok[:i] + string([]byte{b}) + tok[i+1:]
		if c, err := s.Verify(altered); err == nil {
			t.Fatalf("token %q with byte %d changed to %q verifies: %+v", tok, i, b, c)
		}
	})
}
