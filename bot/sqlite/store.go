// Package sqlite is Xiaoer's storage on SQLite (github.com/mattn/go-sqlite3):
// shoppers, orders, conversations, messages and FAQ entries in one database
// file. It implements the storage interfaces that package bot and package
// knowledge declare.
//
// Writes go through one connection (SQLite allows one writer at a time; a
// single connection turns lock contention into queueing inside database/sql
// instead of SQLITE_BUSY errors), reads through a small pool of read-only
// connections that WAL lets run beside the writer. Chat messages and new
// conversations, the writes of every exchange and every connect, go through
// a group-commit writer (groupcommit.go) that commits many callers' writes
// in one transaction, one fsync for all of them.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configures a Store. The zero value is usable.
type Options struct {
	// Now returns the current time; zero means time.Now. Tests inject a clock.
	Now func() time.Time
	// Readers is the size of the read-only connection pool; zero means 4.
	Readers int
}

// Store is the SQLite database of one data folder.
type Store struct {
	write *sql.DB // exactly one connection
	read  *sql.DB // read-only pool
	now   func() time.Time
	group *committer // group commit of messages and new conversations
	ckpt  *checkpointer

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database at path, sets WAL mode,
// foreign keys, a 5 s busy timeout and synchronous=FULL, and applies the
// embedded migrations that have not run yet.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	params := url.Values{}
	params.Set("_journal_mode", "WAL")
	params.Set("_foreign_keys", "on")
	params.Set("_busy_timeout", "5000")
	params.Set("_synchronous", "FULL")
	params.Set("_txlock", "immediate")
	// Keep the last 64 statements prepared per connection (mattn/go-sqlite3
	// re-prepares a statement on every call without it).
	params.Set("_stmt_cache_size", "64")
	dsn := "file:" + path + "?" + params.Encode()

	write := sql.OpenDB(connector{dsn: dsn})
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	s := &Store{write: write, now: opts.Now}
	if err := s.migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}

	group, err := newCommitter(ctx, write)
	if err != nil {
		write.Close()
		return nil, err
	}
	s.group = group

	params.Del("_txlock")
	s.ckpt = newCheckpointer("file:" + path + "?" + params.Encode())

	params.Set("_query_only", "1")
	read := sql.OpenDB(connector{dsn: "file:" + path + "?" + params.Encode()})
	read.SetMaxOpenConns(opts.Readers)
	read.SetMaxIdleConns(opts.Readers)
	s.read = read
	if err := read.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: ping readers: %w", err)
	}
	return s, nil
}

// connector opens connections with the settings the DSN cannot carry.
// (sql.OpenDB with it, rather than sql.Register of a driver with a hook,
// keeps the settings out of package-level state.)
type connector struct{ dsn string }

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.Driver().Open(c.dsn) }

func (c connector) Driver() driver.Driver {
	return &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		// Statement journals (kept while a statement or SAVEPOINT of a
		// transaction may need undoing, so never needed after a crash)
		// stay in memory: in a file they cost an UPDATE of a
		// conversation ~100 us of temp-file writes, and a group commit
		// several such statements per message.
		if _, err := conn.Exec("PRAGMA temp_store = MEMORY", nil); err != nil {
			return err
		}
		// Checkpoints belong to the checkpointer (checkpoint.go); this is
		// the backstop for when it falls behind.
		_, err := conn.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walBackstopPages), nil)
		return err
	}}
}

// Close closes the database. It is safe to call more than once. Writes the
// group-commit writer has taken finish first, with their real results; writes
// it has not taken yet get ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.group != nil {
			s.group.close()
		}
		var errs []error
		if s.ckpt != nil {
			errs = append(errs, s.ckpt.close())
		}
		if s.read != nil {
			errs = append(errs, s.read.Close())
		}
		errs = append(errs, s.write.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Pragmas returns the settings in force on the writer connection, for
// start-up logs and tests: journal_mode, synchronous, foreign_keys, busy_timeout, temp_store.
func (s *Store) Pragmas(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout", "temp_store"} {
		var v string
		if err := s.write.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite: pragma %s: %w", p, err)
		}
		out[p] = v
	}
	return out, nil
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("sqlite: migrate: %s: name must start with a version number", base)
		}
		if err := s.applyMigration(ctx, version, name); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, version int, name string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate %s: begin: %w", name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := migrationFiles.ReadFile(name)
	if err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		version, name, s.stamp()); err != nil {
		return fmt.Errorf("sqlite: migrate %s: record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate %s: commit: %w", name, err)
	}
	return nil
}

// Meta returns a named value from the meta table, "" when unset.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a named value in the meta table.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("sqlite: set meta %s: %w", key, err)
	}
	return nil
}

// stamp formats the current time for storage.
func (s *Store) stamp() string { return formatTime(s.now()) }

const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: bad time %q: %w", v, err)
	}
	return t, nil
}
