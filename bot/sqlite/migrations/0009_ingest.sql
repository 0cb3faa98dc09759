-- 0009: the shop's systems talk to Xiaoer: service tokens for the
-- ingestion API, and the outbox of webhook events sent to the shop.

-- service_tokens authenticate the shop's backend on /api/v1/ingest/*. Only
-- the SHA-256 of each token is stored (the token itself is shown once, when
-- it is created); tokens are 256-bit random, so a fast hash is enough.
CREATE TABLE service_tokens (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  hash         TEXT NOT NULL UNIQUE, -- hex SHA-256 of the token
  created_at   TEXT NOT NULL,
  last_used_at TEXT NOT NULL DEFAULT '',
  revoked_at   TEXT NOT NULL DEFAULT ''
);

-- webhook_outbox holds every event for the shop until it is delivered
-- (or given up on); the dispatcher sends those whose next_at has come.
CREATE TABLE webhook_outbox (
  id           TEXT PRIMARY KEY,   -- "evt_…", sent to the receiver for idempotency
  type         TEXT NOT NULL,      -- bot.Webhook*
  data         TEXT NOT NULL,      -- JSON
  created_at   TEXT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_at      TEXT NOT NULL,      -- when to try next
  last_error   TEXT NOT NULL DEFAULT '',
  delivered_at TEXT NOT NULL DEFAULT '',
  failed_at    TEXT NOT NULL DEFAULT '' -- given up after too many attempts
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_at) WHERE delivered_at = '' AND failed_at = '';
