-- 0005: the model's token use per conversation and day (budgets, figures
-- per conversation), and the shopper's consent to personalised replies.

CREATE TABLE llm_usage (
  conversation_id   TEXT NOT NULL,
  day               TEXT NOT NULL, -- YYYY-MM-DD in the shop's zone
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cost              REAL NOT NULL DEFAULT 0, -- estimated, in the configured currency
  turns             INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, day)
);
CREATE INDEX llm_usage_by_day ON llm_usage(day);

ALTER TABLE profiles ADD COLUMN personalize INTEGER NOT NULL DEFAULT 0;
