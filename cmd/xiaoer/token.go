package main

import (
	"fmt"
	"io"
	"time"

	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// runToken prints a shopper token signed with the data folder's secret, as
// the shop's backend would make one, for testing an integration.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("token", stderr)
	data := dataFlag(fs, getenv)
	shopper := fs.String("shopper", "", "shopper id the token vouches for (required)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid (at most 24h)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *shopper == "" {
		return usageError{"token needs --shopper ID"}
	}
	if *ttl <= 0 || *ttl > shoptoken.MaxTTL {
		return usageError{fmt.Sprintf("--ttl must be positive and at most %v", shoptoken.MaxTTL)}
	}
	// Never create a secret here: a token signed with a secret no server
	// holds (a mistyped --data) would only be refused later, puzzlingly.
	secret, err := loadSecret(getenv, *data, false)
	if err != nil {
		return fmt.Errorf("%w (start `xiaoer serve --data %s` once to generate the secret, or set XIAOER_SECRET)", err, *data)
	}
	s, err := shoptoken.NewSigner(secret, nil)
	if err != nil {
		return err
	}
	tok, err := s.Sign(*shopper, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
