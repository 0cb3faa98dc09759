package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by a write handed to a Store that is closing or closed.
var ErrClosed = errors.New("sqlite: store closed")

// maxBatch bounds how many writes one group commit holds, so the write
// connection is never held for long and one batch's work stays small.
const maxBatch = 256

// hotStmts are the statements of the group-commit writer, prepared once on
// the write pool (the CPU profile had sqlite3_prepare_v2 at 9% when every
// call prepared its SQL) and bound to each batch's transaction with
// Tx.StmtContext, which reuses the prepared statement of the pool's single
// connection.
type hotStmts struct {
	savepoint, release, rollbackTo *sql.Stmt
	findByClientID, nextSeq        *sql.Stmt
	insertMessage                  *sql.Stmt
	insertShopper, insertConv      *sql.Stmt
}

// each lists the statements with their SQL.
func (h *hotStmts) each() []struct {
	st  **sql.Stmt
	sql string
} {
	return []struct {
		st  **sql.Stmt
		sql string
	}{
		{&h.savepoint, `SAVEPOINT w`},
		{&h.release, `RELEASE w`},
		{&h.rollbackTo, `ROLLBACK TO w`},
		{&h.findByClientID, selectMessage + ` WHERE conversation_id = ? AND client_id = ?`},
		{&h.nextSeq, `UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq`},
		{&h.insertMessage, `INSERT INTO messages
			(id, conversation_id, seq, role, client_id, text, reply_to, intent, meta, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&h.insertShopper, `INSERT INTO shoppers (id, created_at, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO NOTHING`},
		{&h.insertConv, `INSERT INTO conversations (id, owner, shopper_id, lang, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`},
	}
}

// batchTx is one group commit's transaction, with the hot statements bound to it.
type batchTx struct {
	hotStmts
	tx *sql.Tx
}

// A write is one caller's part of a group commit. run does the caller's
// work inside the batch transaction and must store its results in
// variables the caller reads only after done delivers nil.
type write struct {
	ctx  context.Context // the caller's: checked before run, never given to SQLite
	run  func(ctx context.Context, tx *batchTx) error
	done chan error // buffered: the committer never waits on a caller
}

// committer is the Store's group-commit writer. Callers hand it writes; its
// one goroutine takes everything pending (up to maxBatch), runs each write
// inside its own SAVEPOINT of one transaction, so a failing write rolls back
// only itself, commits once (one fsync for the whole batch) and only then
// tells each caller its result. When the commit fails every caller of the
// batch gets the error.
//
// Writes that are not handed to the committer (profiles, handoff and so on)
// still use the write pool directly; the pool's single connection serialises
// them with the batches. A caller must not hold a transaction of the write
// pool while it calls a committer write: the batch would wait for the
// connection the caller holds. Such a caller is freed when its ctx ends
// (and the batch then runs), but no code in this package does that.
type committer struct {
	db    *sql.DB
	stmts hotStmts
	ops   chan *write // unbuffered: a write is either taken or never seen
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// newCommitter prepares the hot statements on db and starts the writer goroutine.
func newCommitter(ctx context.Context, db *sql.DB) (*committer, error) {
	c := &committer{db: db, ops: make(chan *write), stop: make(chan struct{}), done: make(chan struct{})}
	for _, h := range c.stmts.each() {
		st, err := db.PrepareContext(ctx, h.sql)
		if err != nil {
			c.closeStmts()
			return nil, fmt.Errorf("sqlite: prepare %q: %w", h.sql, err)
		}
		*h.st = st
	}
	go c.loop()
	return c, nil
}

func (c *committer) closeStmts() {
	for _, h := range c.stmts.each() {
		if *h.st != nil {
			(*h.st).Close()
		}
	}
}

// close stops taking writes, lets the batch in progress finish (its callers
// get their real results), and returns when the writer goroutine has ended.
// Writes not yet taken get ErrClosed. It is safe to call more than once.
func (c *committer) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	c.closeStmts()
}

// do hands w's work to the writer and waits for the commit that holds it.
//
// When ctx ends first, do returns ctx.Err(). If the writer had not taken the
// write yet nothing was written; if it had, the write may or may not be
// committed (a write whose ctx has ended by the time its turn comes is
// skipped). Writes keyed by a client_id are safe to resend: the resend finds
// the first copy if it was committed.
func (c *committer) do(ctx context.Context, run func(ctx context.Context, tx *batchTx) error) error {
	w := &write{ctx: ctx, run: run, done: make(chan error, 1)}
	select {
	case c.ops <- w:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stop:
		return ErrClosed
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) loop() {
	defer close(c.done)
	// The batch context is the writer's own: a caller that goes away must
	// not interrupt SQLite in the middle of other callers' transaction.
	ctx := context.Background()
	batch := make([]*write, 0, maxBatch)
	for {
		select {
		case w := <-c.ops:
			batch = append(batch[:0], w)
		case <-c.stop:
			return
		}
	take:
		for len(batch) < maxBatch {
			select {
			case w := <-c.ops:
				batch = append(batch, w)
			default:
				break take
			}
		}
		c.commit(ctx, batch)
		clear(batch) // let finished writes be collected
	}
}

// commit runs one batch in one transaction and answers every write in it.
func (c *committer) commit(ctx context.Context, batch []*write) {
	results := make([]error, len(batch))
	err := c.runBatch(ctx, batch, results)
	for i, w := range batch {
		if err != nil {
			w.done <- err
		} else {
			w.done <- results[i]
		}
	}
}

// runBatch returns an error that fails the whole batch; results holds each
// write's own outcome when it returns nil.
func (c *committer) runBatch(ctx context.Context, batch []*write, results []error) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("group commit: begin: %w", err)
	}
	defer tx.Rollback()
	btx := batchTx{tx: tx}
	bound := btx.each()
	for i, h := range c.stmts.each() {
		*bound[i].st = tx.StmtContext(ctx, *h.st)
	}
	written := 0
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			results[i] = err // nobody waits for it: skip the work
			continue
		}
		if _, err := btx.savepoint.ExecContext(ctx); err != nil {
			return fmt.Errorf("group commit: savepoint: %w", err)
		}
		results[i] = w.run(ctx, &btx)
		if results[i] != nil {
			// ROLLBACK TO fails when SQLite has already rolled the whole
			// transaction back (disk full, I/O error): then nothing of the
			// batch may be reported as done.
			if _, err := btx.rollbackTo.ExecContext(ctx); err != nil {
				return fmt.Errorf("group commit: rollback to savepoint after %w: %w", results[i], err)
			}
		} else {
			written++
		}
		if _, err := btx.release.ExecContext(ctx); err != nil {
			return fmt.Errorf("group commit: release savepoint: %w", err)
		}
	}
	if written == 0 {
		return nil // nothing to make durable; the deferred rollback ends the transaction
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("group commit: commit: %w", err)
	}
	return nil
}
