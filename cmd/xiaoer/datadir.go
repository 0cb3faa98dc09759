package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/xiaoer-cs/xiaoer/bot/pii"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// Files in the data folder.
const (
	dbFile     = "xiaoer.db"
	indexDir   = "index"
	secretFile = "secret"
	lockFile   = "xiaoer.lock"
)

const defaultData = "./xiaoer-data"

// newFlags returns a flag set that prints its usage to stderr and returns
// errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// envOr returns the environment variable, or def when it is unset or empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return def
}

func envBool(getenv func(string) string, key string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(getenv(key)))
	return b
}

// dataFlag adds --data with its XIAOER_DATA equivalent.
func dataFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("data", envOr(getenv, "XIAOER_DATA", defaultData), "data folder: database, search index, secret (env XIAOER_DATA)")
}

// lockData takes the data folder's lock so that two processes never write
// it at once; it fails at once, naming the holder, instead of waiting.
func lockData(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("data folder %s is in use by a running xiaoer (pid %s): stop it first, or use another --data folder", dir, pid)
		}
		return nil, fmt.Errorf("lock data folder %s: %w", dir, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		f.Truncate(0)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// dataFolder is an open data folder: the store, the index kept in step
// with it, and the lock that makes this process its only writer.
type dataFolder struct {
	dir    string
	store  *sqlite.Store
	index  *knowledge.Index
	kb     *knowledge.Base
	unlock func()
}

// openData creates the folder if needed, locks it, opens the store (applying
// migrations) and the index, and brings the index in step with the store.
func openData(ctx context.Context, dir string, log *slog.Logger) (*dataFolder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	unlock, err := lockData(dir)
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		unlock()
		return nil, err
	}
	ix, err := knowledge.OpenIndex(filepath.Join(dir, indexDir), log)
	if err != nil {
		store.Close()
		unlock()
		return nil, err
	}
	d := &dataFolder{dir: dir, store: store, index: ix, kb: knowledge.NewBase(store, ix, log), unlock: unlock}
	if err := d.kb.Sync(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the index, then the store, then releases the lock.
func (d *dataFolder) Close() error {
	err := errors.Join(d.index.Close(), d.store.Close())
	d.unlock()
	return err
}

// loadSecret returns the token-signing secret: XIAOER_SECRET, else the file
// named by XIAOER_SECRET_FILE, else DATA/secret, generated on first use.
func loadSecret(getenv func(string) string, dir string, create bool) ([]byte, error) {
	if v := strings.TrimSpace(getenv("XIAOER_SECRET")); v != "" {
		return []byte(v), nil
	}
	path := strings.TrimSpace(getenv("XIAOER_SECRET_FILE"))
	if path == "" {
		path = filepath.Join(dir, secretFile)
	}
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < shoptoken.MinSecretLen {
			return nil, fmt.Errorf("secret in %s is shorter than %d characters", path, shoptoken.MinSecretLen)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create || getenv("XIAOER_SECRET_FILE") != "" {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	s := hex.EncodeToString(buf)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadSecret(getenv, dir, false) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	return []byte(s), nil
}

// newLogger returns the structured logger: text or JSON on stderr, with
// personal data masked in every record (pii.LogHandler), whatever the
// caller logged.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("bad log level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(pii.NewLogHandler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(pii.NewLogHandler(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, usageError{fmt.Sprintf("bad log format %q: want text or json", format)}
}

// loadServiceToken returns the service token from the configuration:
// XIAOER_SERVICE_TOKEN, else the file named by XIAOER_SERVICE_TOKEN_FILE,
// else "" (only tokens made with `xiaoer token --service` are accepted).
func loadServiceToken(getenv func(string) string) (string, error) {
	tok := strings.TrimSpace(getenv("XIAOER_SERVICE_TOKEN"))
	if path := strings.TrimSpace(getenv("XIAOER_SERVICE_TOKEN_FILE")); tok == "" && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read XIAOER_SERVICE_TOKEN_FILE: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok != "" && len(tok) < 32 {
		return "", fmt.Errorf("the configured service token is shorter than 32 characters: make one with `openssl rand -hex 32`")
	}
	return tok, nil
}
