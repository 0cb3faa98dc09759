package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL into the
// database file.
const checkpointEvery = 250 * time.Millisecond

// walBackstopPages is the write connection's own wal_autocheckpoint: it
// checkpoints in the commit path only when the checkpointer has fallen
// that far behind (16 MiB of WAL at 4 KiB pages).
const walBackstopPages = 4000

// checkpointer copies committed WAL frames into the database file on its own
// connection, so that the group-commit writer does not. SQLite's default is
// an automatic checkpoint inside the COMMIT that crosses 1,000 WAL pages,
// which put the copy and the database file's fsync on the single writer's
// critical path: under load a third of the writer's time. A PASSIVE
// checkpoint runs beside the writer without blocking it (and without
// waiting for readers), on the other core. Durability is unchanged: every
// commit still fsyncs the WAL (synchronous=FULL) before it is acknowledged.
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
}

func newCheckpointer(dsn string) *checkpointer {
	db := sql.OpenDB(connector{dsn: dsn})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			// A failure (the database busy with a schema change, say) is
			// retried on the next tick, and the writer's backstop remains.
			var busy, logged, copied int
			_ = c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logged, &copied)
		case <-c.stop:
			return
		}
	}
}

func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
