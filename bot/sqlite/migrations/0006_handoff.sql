-- 0006: human handoff (package handoff, docs/handoff.md): cases, internal
-- notes, agents' routing settings, canned replies, and the append-only
-- audit log of who saw which personal data.

-- handoff_cases: one row per request for a person, from the request to its
-- close. At most one open case (queued, assigned or ticket) per
-- conversation; assignment changes are compare-and-set on (status,
-- agent_id), so a case is never given to two agents.
CREATE TABLE handoff_cases (
  id               INTEGER PRIMARY KEY,
  conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  shopper_id       TEXT NOT NULL DEFAULT '',
  lang             TEXT NOT NULL DEFAULT '',
  tier             TEXT NOT NULL DEFAULT '',
  trigger          TEXT NOT NULL,
  status           TEXT NOT NULL,              -- queued | assigned | ticket | closed
  priority         INTEGER NOT NULL DEFAULT 0,
  agent_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
  requested_at     TEXT NOT NULL,
  assigned_at      TEXT NOT NULL DEFAULT '',
  closed_at        TEXT NOT NULL DEFAULT '',
  resolution       TEXT NOT NULL DEFAULT '',
  ticket_text      TEXT NOT NULL DEFAULT '',
  contact_via      TEXT NOT NULL DEFAULT '',
  contact          TEXT NOT NULL DEFAULT '',   -- personal data: masked in the console until revealed
  summary          TEXT NOT NULL DEFAULT '{}'  -- JSON handoff.Summary
);
CREATE UNIQUE INDEX handoff_cases_one_open ON handoff_cases(conversation_id)
  WHERE status IN ('queued', 'assigned', 'ticket');
CREATE INDEX handoff_cases_by_status ON handoff_cases(status, requested_at);
CREATE INDEX handoff_cases_by_conversation ON handoff_cases(conversation_id, id);
CREATE INDEX handoff_cases_by_agent ON handoff_cases(agent_id, status) WHERE agent_id IS NOT NULL;

CREATE TABLE handoff_notes (
  id              INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  agent_id        INTEGER NOT NULL,
  agent_name      TEXT NOT NULL,
  text            TEXT NOT NULL,
  created_at      TEXT NOT NULL
);
CREATE INDEX handoff_notes_by_conversation ON handoff_notes(conversation_id, id);

-- agent_settings: routing facts per staff member; absent means the defaults
-- (both languages, the desk's default capacity).
CREATE TABLE agent_settings (
  user_id   INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  langs     TEXT NOT NULL DEFAULT '["zh","en"]', -- JSON array
  max_chats INTEGER NOT NULL DEFAULT 0            -- 0: the desk's default
);

CREATE TABLE canned_replies (
  id         INTEGER PRIMARY KEY,
  shortcut   TEXT NOT NULL,
  lang       TEXT NOT NULL DEFAULT '',
  title      TEXT NOT NULL DEFAULT '',
  text       TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL DEFAULT '',
  UNIQUE (shortcut, lang)
);

-- audit_log is append-only: the triggers refuse every UPDATE and DELETE,
-- whoever asks.
CREATE TABLE audit_log (
  id              INTEGER PRIMARY KEY,
  at              TEXT NOT NULL,
  actor           TEXT NOT NULL,
  role            TEXT NOT NULL,
  action          TEXT NOT NULL,
  shopper_id      TEXT NOT NULL DEFAULT '',
  fields          TEXT NOT NULL DEFAULT '[]', -- JSON array
  conversation_id TEXT NOT NULL DEFAULT '',
  ip              TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
