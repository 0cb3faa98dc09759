package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// The user commands manage staff accounts in the data folder's database.
//
// They open only the database, not the search index, and do not take the
// data folder's lock, so they work while a server runs: SQLite serialises
// writers across processes (WAL, BEGIN IMMEDIATE, a 5 s busy timeout), and
// the server reads accounts and sessions from the database on every
// request, so an account disabled here is refused at its next request. What
// the server cannot learn from here is the moment: auth.Config.OnSessionEnd
// does not fire in the server for sessions ended here, so long-lived
// connections (the agent console's websockets) must revalidate their session.

const userUsage = `usage:
  xiaoer user add [--data DIR] --role admin|editor|agent [--name "Display Name"] [--password-stdin]
                  [--langs zh,en] [--max-chats N] USERNAME
  xiaoer user list [--data DIR]
  xiaoer user passwd [--data DIR] [--password-stdin] USERNAME
  xiaoer user disable [--data DIR] USERNAME
  xiaoer user enable [--data DIR] USERNAME

Without --password-stdin, add and passwd generate a strong password and
print it once. With it, the first line of standard input is the password.`

// runUser runs `xiaoer user SUBCOMMAND ...`. stdin is read only with
// --password-stdin.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, userUsage)
		return usageError{"user needs a subcommand: add, list, passwd, disable or enable"}
	}
	switch args[0] {
	case "add":
		return runUserAdd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "list":
		return runUserList(ctx, args[1:], getenv, stdout, stderr)
	case "passwd":
		return runUserPasswd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "disable", "enable":
		return runUserEnable(ctx, args[0], args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, userUsage)
		return nil
	}
	fmt.Fprintln(stderr, userUsage)
	return usageError{fmt.Sprintf("unknown user subcommand %q: want add, list, passwd, disable or enable", args[0])}
}

func runUserAdd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user add", stderr)
	data := dataFlag(fs, getenv)
	role := fs.String("role", "", "admin, editor (knowledge base) or agent (conversations); required")
	name := fs.String("name", "", "display name shown to colleagues")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	langs := fs.String("langs", "", "agents and admins: the languages they answer in, zh and/or en (default both)")
	maxChats := fs.Int("max-chats", 0, "agents and admins: conversations at once (default: the server's --agent-max-chats)")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return usageError{"user add needs exactly one USERNAME"}
	}
	agentLangs := splitList(*langs)
	for _, l := range agentLangs {
		if l != "zh" && l != "en" {
			return usageError{fmt.Sprintf("--langs: unknown language %q: want zh and/or en", l)}
		}
	}
	if *maxChats < 0 || *maxChats > 50 {
		return usageError{"--max-chats must be 1 to 50"}
	}
	if *role == "" {
		return usageError{"user add needs --role admin, editor or agent"}
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return usageError{err.Error()}
	}
	if (len(agentLangs) > 0 || *maxChats > 0) && r != auth.RoleAgent && r != auth.RoleAdmin {
		return usageError{"--langs and --max-chats are for agents and admins"}
	}
	password, generated, err := newPassword(*fromStdin, stdin)
	if err != nil {
		return err
	}
	svc, store, done, err := openAccounts(ctx, *data, true, getenv, stderr)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	defer done()
	u, err := svc.CreateUser(ctx, auth.NewUser{Username: names[0], Password: password, Role: r, DisplayName: *name})
	if err != nil {
		return fmt.Errorf("user add: %w", accountError(err, names[0]))
	}
	if len(agentLangs) > 0 || *maxChats > 0 {
		if len(agentLangs) == 0 {
			agentLangs = []string{"en", "zh"}
		}
		if err := store.SetAgentSettings(ctx, u.ID, agentLangs, *maxChats); err != nil {
			return fmt.Errorf("user add: agent settings: %w", err)
		}
	}
	fmt.Fprintf(stdout, "created %s %q (id %d) in %s\n", u.Role, u.Username, u.ID, *data)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown only this once: hand it over privately)\n", password)
	}
	return nil
}

func runUserList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("user list", stderr)
	data := dataFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"user list takes no arguments"}
	}
	svc, _, done, err := openAccounts(ctx, *data, false, getenv, stderr)
	if err != nil {
		return fmt.Errorf("user list: %w", err)
	}
	defer done()
	users, err := svc.Users(ctx)
	if err != nil {
		return fmt.Errorf("user list: %w", err)
	}
	if len(users) == 0 {
		fmt.Fprintf(stderr, "no users in %s yet: add one with `xiaoer user add --data %s --role admin NAME`\n", *data, *data)
		return nil
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tROLE\tSTATUS\tLAST LOGIN\tDISPLAY NAME")
	for _, u := range users {
		status := "active"
		switch {
		case u.Disabled:
			status = "disabled"
		case u.Locked(now):
			status = "locked until " + u.LockedUntil.Local().Format("15:04")
		}
		last := "never"
		if !u.LastLoginAt.IsZero() {
			last = u.LastLoginAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.Role, status, last, u.DisplayName)
	}
	return tw.Flush()
}

func runUserPasswd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user passwd", stderr)
	data := dataFlag(fs, getenv)
	fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input instead of generating one")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return usageError{"user passwd needs exactly one USERNAME"}
	}
	password, generated, err := newPassword(*fromStdin, stdin)
	if err != nil {
		return err
	}
	svc, _, done, err := openAccounts(ctx, *data, false, getenv, stderr)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	defer done()
	u, err := svc.UserByUsername(ctx, names[0])
	if err != nil {
		return fmt.Errorf("user passwd: %w", accountError(err, names[0]))
	}
	if _, err := svc.UpdateUser(ctx, u.ID, auth.UserUpdate{Password: &password}); err != nil {
		return fmt.Errorf("user passwd: %w", accountError(err, u.Username))
	}
	fmt.Fprintf(stdout, "password of %q changed; their sessions are ended and any lockout lifted\n", u.Username)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown only this once: hand it over privately)\n", password)
	}
	return nil
}

// runUserEnable runs `user disable` and `user enable`.
func runUserEnable(ctx context.Context, verb string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("user "+verb, stderr)
	data := dataFlag(fs, getenv)
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return usageError{fmt.Sprintf("user %s needs exactly one USERNAME", verb)}
	}
	svc, _, done, err := openAccounts(ctx, *data, false, getenv, stderr)
	if err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	defer done()
	u, err := svc.UserByUsername(ctx, names[0])
	if err != nil {
		return fmt.Errorf("user %s: %w", verb, accountError(err, names[0]))
	}
	disabled := verb == "disable"
	if _, err := svc.UpdateUser(ctx, u.ID, auth.UserUpdate{Disabled: &disabled}); err != nil {
		return fmt.Errorf("user %s: %w", verb, accountError(err, u.Username))
	}
	if disabled {
		fmt.Fprintf(stdout, "disabled %q: they cannot log in, and their sessions are ended\n", u.Username)
	} else {
		fmt.Fprintf(stdout, "enabled %q: they can log in again (any lockout is lifted)\n", u.Username)
	}
	return nil
}

// openAccounts opens the data folder's database (creating the folder and
// the database when create is set) and the account service over it.
func openAccounts(ctx context.Context, dir string, create bool, getenv func(string) string, stderr io.Writer) (*auth.Service, *sqlite.Store, func(), error) {
	cost, err := bcryptCost(getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	path := filepath.Join(dir, dbFile)
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, nil, fmt.Errorf("create data folder: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, nil, nil, fmt.Errorf("no database in %s (is --data right?): %w", dir, err)
	}
	log, err := newLogger(stderr, "text", "warn")
	if err != nil {
		return nil, nil, nil, err
	}
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	svc, err := auth.New(auth.Config{BcryptCost: cost}, store, store, log)
	if err != nil {
		store.Close()
		return nil, nil, nil, err
	}
	return svc, store, func() { store.Close() }, nil
}

// bcryptCost reads XIAOER_BCRYPT_COST; 0 (unset) means the default.
func bcryptCost(getenv func(string) string) (int, error) {
	v := strings.TrimSpace(getenv("XIAOER_BCRYPT_COST"))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, usageError{fmt.Sprintf("XIAOER_BCRYPT_COST=%q is not a number", v)}
	}
	return n, nil
}

// newPassword reads the password from the first line of stdin, or
// generates one (generated is then true).
func newPassword(fromStdin bool, stdin io.Reader) (password string, generated bool, err error) {
	if !fromStdin {
		return auth.GeneratePassword(), true, nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", false, usageError{"--password-stdin: standard input holds no password"}
	}
	return line, false, nil
}

// accountError words the account service's errors for the command line.
func accountError(err error, username string) error {
	var invalid *auth.InvalidError
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("%s %s", invalid.Field, invalid.Msg)
	case errors.Is(err, auth.ErrNotFound):
		return fmt.Errorf("no user %q", username)
	case errors.Is(err, auth.ErrUsernameTaken):
		return fmt.Errorf("the username %q is taken", username)
	case errors.Is(err, auth.ErrLastAdmin):
		return fmt.Errorf("%q is the last enabled admin: add another admin first", username)
	}
	return err
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (`user add alice --role admin`), which package flag
// alone stops at; everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
