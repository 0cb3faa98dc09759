-- 0005: the model's token use per conversation and day (budgets, figures
-- per conversation), running totals per owner and day and per day (the
-- budgets read them on every turn), and the shopper's consent to
-- personalised replies.

CREATE TABLE llm_usage (
  conversation_id   TEXT NOT NULL,
  day               TEXT NOT NULL, -- YYYY-MM-DD in the shop's zone
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cost              REAL NOT NULL DEFAULT 0, -- estimated, in the configured currency
  turns             INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, day)
);

CREATE TABLE llm_usage_owner_day (
  owner  TEXT NOT NULL, -- the conversation's owner: 's:<shopper id>' or 'v:<visitor id>'
  day    TEXT NOT NULL,
  tokens INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (owner, day)
);

CREATE TABLE llm_usage_day (
  day    TEXT PRIMARY KEY,
  tokens INTEGER NOT NULL DEFAULT 0,
  cost   REAL NOT NULL DEFAULT 0
);

ALTER TABLE profiles ADD COLUMN personalize INTEGER NOT NULL DEFAULT 0;
