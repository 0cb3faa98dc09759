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
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *shopper == "" {
		return usageError{"token needs --shopper ID"}
	}
	if *ttl <= 0 {
		return usageError{"--ttl must be positive"}
	}
	secret, err := loadSecret(getenv, *data, true)
	if err != nil {
		return err
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
