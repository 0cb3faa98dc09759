package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/ingest"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// runToken prints a shopper token signed with the data folder's secret, as
// the shop's backend would make one, for testing an integration; with
// --service it manages the service tokens of the ingestion API.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("token", stderr)
	data := dataFlag(fs, getenv)
	shopper := fs.String("shopper", "", "shopper id the token vouches for")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid (at most 24h)")
	service := fs.Bool("service", false, "manage service tokens for the shop backend's ingestion API: with --name, --revoke or --list")
	name := fs.String("name", "", "with --service: create a service token with this name and print it once")
	revoke := fs.String("revoke", "", "with --service: revoke the named service token at once")
	list := fs.Bool("list", false, "with --service: list the service tokens (never the tokens themselves)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *service {
		if *shopper != "" {
			return usageError{"--shopper and --service are different tokens: give one"}
		}
		return runServiceToken(ctx, *data, *name, *revoke, *list, stdout, stderr)
	}
	if *name != "" || *revoke != "" || *list {
		return usageError{"--name, --revoke and --list need --service"}
	}
	if *shopper == "" {
		return usageError{"token needs --shopper ID (or --service)"}
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

// runServiceToken creates, revokes or lists service tokens. Like the user
// commands it opens only the database, so it works while a server runs,
// which checks every request's token against the database: a token
// created here works at once, a revoked one stops at once.
func runServiceToken(ctx context.Context, data, name, revoke string, list bool, stdout, stderr io.Writer) error {
	n := 0
	for _, set := range []bool{name != "", revoke != "", list} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usageError{"token --service needs exactly one of --name NAME, --revoke NAME or --list"}
	}
	if name != "" && (len(name) > 64 || strings.ContainsAny(name, " \t\n")) {
		return usageError{"--name: at most 64 characters, no spaces"}
	}
	path := filepath.Join(data, dbFile)
	if name != "" {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return fmt.Errorf("create data folder: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database in %s (is --data right?): %w", data, err)
	}
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	switch {
	case name != "":
		tok, hash := ingest.NewToken()
		if err := store.CreateServiceToken(ctx, name, hash); errors.Is(err, bot.ErrConflict) {
			return fmt.Errorf("a service token named %q exists already (revoked ones too): choose another name", name)
		} else if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		fmt.Fprintf(stderr, "service token %q created: it is shown only this once; keep it in the shop backend's secret store\n", name)
		return nil
	case revoke != "":
		if err := store.RevokeServiceToken(ctx, revoke); errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("no service token named %q", revoke)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "service token %q revoked\n", revoke)
		return nil
	}
	tokens, err := store.ServiceTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tLAST USED\tSTATUS")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format("2006-01-02 15:04")
	}
	for _, t := range tokens {
		status := "live"
		if !t.RevokedAt.IsZero() {
			status = "revoked " + day(t.RevokedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, day(t.CreatedAt), day(t.LastUsedAt), status)
	}
	return tw.Flush()
}
