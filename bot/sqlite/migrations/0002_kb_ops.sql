-- 0002: the knowledge base as ops staff keep it: tags, a disabled flag,
-- versions with who changed what when, soft deletion, the saved regression
-- set, the gaps report, and a cache of embedding vectors.

ALTER TABLE faq_entries ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'; -- JSON array of strings
ALTER TABLE faq_entries ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE faq_entries ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE faq_entries ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
ALTER TABLE faq_entries ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
ALTER TABLE faq_entries ADD COLUMN deleted_at TEXT NOT NULL DEFAULT ''; -- '' = not deleted
ALTER TABLE faq_entries ADD COLUMN flags TEXT NOT NULL DEFAULT '[]'; -- JSON: what the safe-content check found on the last save
UPDATE faq_entries SET created_at = updated_at;
CREATE INDEX faq_entries_by_updated ON faq_entries(updated_at);

-- faq_versions holds every saved state of every entry; faq_entries holds
-- the latest. Rows are only ever added.
CREATE TABLE faq_versions (
  entry_id   TEXT NOT NULL,
  version    INTEGER NOT NULL,
  action     TEXT NOT NULL, -- create | update | disable | enable | delete | restore | rollback | import
  from_version INTEGER NOT NULL DEFAULT 0, -- rollback: the version restored
  locale     TEXT NOT NULL,
  question   TEXT NOT NULL,
  alternates TEXT NOT NULL,
  answer     TEXT NOT NULL,
  category   TEXT NOT NULL,
  tags       TEXT NOT NULL,
  disabled   INTEGER NOT NULL,
  deleted    INTEGER NOT NULL,
  by         TEXT NOT NULL DEFAULT '',
  at         TEXT NOT NULL,
  PRIMARY KEY (entry_id, version)
);
INSERT INTO faq_versions (entry_id, version, action, locale, question, alternates, answer, category, tags, disabled, deleted, by, at)
  SELECT id, 1, 'create', locale, question, alternates, answer, category, tags, disabled, 0, '', updated_at FROM faq_entries;

-- kb_settings holds the knowledge base's settings as JSON documents (the
-- synonym list), with who saved them when.
CREATE TABLE kb_settings (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_by TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);

-- kb_regression is the saved regression set: questions with the entry that
-- must answer them ('' = the bot must decline).
CREATE TABLE kb_regression (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  query       TEXT NOT NULL,
  expected_id TEXT NOT NULL DEFAULT '',
  locale      TEXT NOT NULL DEFAULT '',
  note        TEXT NOT NULL DEFAULT '',
  created_by  TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL
);

-- kb_gaps counts shopper questions the bot did not answer well, by their
-- normalised text (personal data masked before it is stored).
CREATE TABLE kb_gaps (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  text            TEXT NOT NULL,
  locale          TEXT NOT NULL DEFAULT '',
  example         TEXT NOT NULL,
  count           INTEGER NOT NULL DEFAULT 0,
  unanswered      INTEGER NOT NULL DEFAULT 0,
  thumbs_down     INTEGER NOT NULL DEFAULT 0,
  handoff         INTEGER NOT NULL DEFAULT 0,
  first_seen      TEXT NOT NULL,
  last_seen       TEXT NOT NULL,
  best_id         TEXT NOT NULL DEFAULT '',
  best_confidence REAL NOT NULL DEFAULT 0,
  status          TEXT NOT NULL DEFAULT 'open', -- open | resolved | dismissed
  resolved_to     TEXT NOT NULL DEFAULT '',
  resolved_by     TEXT NOT NULL DEFAULT '',
  resolved_at     TEXT NOT NULL DEFAULT '',
  UNIQUE (text, locale)
);
CREATE INDEX kb_gaps_by_status ON kb_gaps(status, count DESC, last_seen DESC);

-- kb_vectors caches embedding vectors per entry and model: one vector per
-- phrasing (question and alternates). content_hash says which content they
-- were computed from, so only changed entries are embedded again.
CREATE TABLE kb_vectors (
  entry_id     TEXT NOT NULL,
  model        TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  dim          INTEGER NOT NULL,
  vectors      BLOB NOT NULL, -- little-endian float32s, dim per phrasing
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (entry_id, model)
);
