package shoptoken

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := NewSigner([]byte("a-secret-of-enough-length"), clock)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("another-secret-entirely"), clock)
	tok, err := s.Sign("demo-cn", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(tok)
	if err != nil || c.Shopper != "demo-cn" || c.Expires != now.Add(time.Hour).Unix() {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	payload, sig, _ := strings.Cut(tok, ".")
	forged, _ := other.Sign("demo-en", time.Hour)
	forgedPayload, _, _ := strings.Cut(forged, ".")
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"no signature", payload, ErrMalformed},
		{"bad base64", payload + ".!!!", ErrMalformed},
		{"another secret", forged, ErrSignature},
		{"payload swapped", forgedPayload + "." + sig, ErrSignature},
		{"truncated signature", tok[:len(tok)-3], ErrSignature},
	}
	for _, tt := range tests {
		if _, err := s.Verify(tt.token); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := s.Sign("demo-cn", MaxTTL+time.Second); err == nil {
		t.Error("signed a token longer than MaxTTL")
	}
	now = now.Add(time.Hour)
	if _, err := s.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: err = %v, want ErrExpired", err)
	}
}

func TestNewSignerRefusesShortSecrets(t *testing.T) {
	if _, err := NewSigner([]byte("short"), nil); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	s, _ := NewSigner([]byte("0123456789abcdef"), nil)
	if strings.Contains(s.String(), "0123") {
		t.Error("String() shows the secret")
	}
}
