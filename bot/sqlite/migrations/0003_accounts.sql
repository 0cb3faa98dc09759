-- 0003: staff accounts and their sessions (package web/auth, docs/accounts.md).

-- users are the staff who sign in to the admin page and the agent console.
-- username is stored in lower case; NOCASE makes uniqueness case-insensitive
-- even for a row written without the auth package. role is checked by the
-- auth package (admin, editor, agent), not here, so a new role needs no
-- table rebuild.
CREATE TABLE users (
  id                  INTEGER PRIMARY KEY,
  username            TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name        TEXT NOT NULL DEFAULT '',
  role                TEXT NOT NULL,
  password_hash       TEXT NOT NULL,            -- bcrypt; never logged or sent
  disabled            INTEGER NOT NULL DEFAULT 0,
  failed_logins       INTEGER NOT NULL DEFAULT 0, -- in a row, since the last success or lockout
  locked_until        TEXT NOT NULL DEFAULT '',
  last_login_at       TEXT NOT NULL DEFAULT '',
  password_changed_at TEXT NOT NULL,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);

-- sessions are signed-in browsers. The cookie's token is never stored, only
-- its SHA-256. csrf_token is returned to the signed-in client and must come
-- back on state-changing requests.
CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY,
  token_hash   BLOB NOT NULL UNIQUE,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token   TEXT NOT NULL,
  ip           TEXT NOT NULL DEFAULT '',
  user_agent   TEXT NOT NULL DEFAULT '',
  created_at   TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX sessions_by_last_seen ON sessions(last_seen_at);
