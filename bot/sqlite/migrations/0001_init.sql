-- 0001: the first schema: shoppers and profiles, catalog, orders, conversations
-- and messages, FAQ entries.

CREATE TABLE shoppers (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL DEFAULT '',
  lang       TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- profiles holds what the bot may use to personalise replies. Contact
-- fields are personal data: never logged, masked before any LLM call.
CREATE TABLE profiles (
  shopper_id TEXT PRIMARY KEY REFERENCES shoppers(id) ON DELETE CASCADE,
  tier       TEXT NOT NULL DEFAULT '',
  points     INTEGER NOT NULL DEFAULT 0,
  age_band   TEXT NOT NULL DEFAULT '',
  occupation TEXT NOT NULL DEFAULT '',
  interests  TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
  phone      TEXT NOT NULL DEFAULT '',
  email      TEXT NOT NULL DEFAULT '',
  address    TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);

CREATE TABLE products (
  sku                 TEXT PRIMARY KEY,
  name_zh             TEXT NOT NULL DEFAULT '',
  name_en             TEXT NOT NULL DEFAULT '',
  category            TEXT NOT NULL DEFAULT '',
  price_cents         INTEGER NOT NULL DEFAULT 0,
  statutory_exclusion TEXT NOT NULL DEFAULT ''
);

CREATE TABLE orders (
  id             TEXT PRIMARY KEY,
  shopper_id     TEXT NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
  status         TEXT NOT NULL,
  currency       TEXT NOT NULL DEFAULT 'CNY',
  total_cents    INTEGER NOT NULL DEFAULT 0,
  shipping_cents INTEGER NOT NULL DEFAULT 0,
  payment        TEXT NOT NULL DEFAULT '',
  carrier        TEXT NOT NULL DEFAULT '',
  tracking_no    TEXT NOT NULL DEFAULT '',
  placed_at      TEXT NOT NULL,
  delivered_at   TEXT NOT NULL DEFAULT '',
  updated_at     TEXT NOT NULL
);
CREATE INDEX orders_by_shopper ON orders(shopper_id, placed_at);

CREATE TABLE order_items (
  order_id                 TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  line                     INTEGER NOT NULL,
  sku                      TEXT NOT NULL DEFAULT '',
  name_zh                  TEXT NOT NULL DEFAULT '',
  name_en                  TEXT NOT NULL DEFAULT '',
  qty                      INTEGER NOT NULL,
  price_cents              INTEGER NOT NULL,
  statutory_exclusion      TEXT NOT NULL DEFAULT '',
  non_returnable_confirmed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (order_id, line)
);

CREATE TABLE order_status_history (
  order_id TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  step     INTEGER NOT NULL,
  status   TEXT NOT NULL,
  at       TEXT NOT NULL,
  PRIMARY KEY (order_id, step)
);

CREATE TABLE tracking_events (
  order_id    TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  step        INTEGER NOT NULL,
  at          TEXT NOT NULL,
  location_zh TEXT NOT NULL DEFAULT '',
  location_en TEXT NOT NULL DEFAULT '',
  text_zh     TEXT NOT NULL DEFAULT '',
  text_en     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (order_id, step)
);

CREATE TABLE conversations (
  id              TEXT PRIMARY KEY,
  owner           TEXT NOT NULL, -- 's:<shopper id>' or 'v:<visitor id>'
  shopper_id      TEXT REFERENCES shoppers(id) ON DELETE SET NULL,
  lang            TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL DEFAULT 'bot', -- bot | handoff_requested
  handoff_trigger TEXT NOT NULL DEFAULT '',
  last_seq        INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX conversations_by_owner ON conversations(owner, updated_at);

-- messages: seq is dense per conversation, assigned under the single writer
-- connection from conversations.last_seq.
CREATE TABLE messages (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  role            TEXT NOT NULL,
  client_id       TEXT,
  text            TEXT NOT NULL,
  reply_to        TEXT NOT NULL DEFAULT '',
  intent          TEXT NOT NULL DEFAULT '',
  meta            TEXT NOT NULL DEFAULT '{}', -- JSON: sources, cards, suggestions
  created_at      TEXT NOT NULL,
  UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_by_client_id ON messages(conversation_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_by_reply_to ON messages(conversation_id, reply_to) WHERE reply_to <> '';

CREATE TABLE feedback (
  message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  helpful    INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE ratings (
  conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment         TEXT NOT NULL DEFAULT '',
  created_at      TEXT NOT NULL
);

CREATE TABLE faq_entries (
  id         TEXT PRIMARY KEY,
  locale     TEXT NOT NULL DEFAULT '',
  question   TEXT NOT NULL,
  alternates TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
  answer     TEXT NOT NULL DEFAULT '',
  category   TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);

-- meta holds small named values: kb_revision (bumped by every change to
-- faq_entries, so the bleve index knows when it is stale), demo_loaded_at.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
