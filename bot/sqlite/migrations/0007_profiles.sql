-- 0007: richer profiles, the behavioural features computed from a shopper's
-- orders (with their segment), and the history of a shopper's consents.

ALTER TABLE profiles ADD COLUMN gender TEXT NOT NULL DEFAULT '';
-- preferred_categories: catalog categories the shopper (or the shop) said
-- they like; JSON array of strings.
ALTER TABLE profiles ADD COLUMN preferred_categories TEXT NOT NULL DEFAULT '[]';

-- shopper_features is recomputed from the shopper's orders in the same
-- transaction as every write of one of their orders (bot.ComputeFeatures),
-- and refreshed daily, since recency and so the segment move with time.
CREATE TABLE shopper_features (
  shopper_id        TEXT PRIMARY KEY REFERENCES shoppers(id) ON DELETE CASCADE,
  orders            INTEGER NOT NULL DEFAULT 0,  -- counted orders (not cancelled, not unpaid)
  first_order_at    TEXT NOT NULL DEFAULT '',
  last_order_at     TEXT NOT NULL DEFAULT '',
  frequency_365d    INTEGER NOT NULL DEFAULT 0,  -- counted orders in the last 365 days
  monetary_cents    INTEGER NOT NULL DEFAULT 0,  -- spent in the last 365 days, refunds excluded
  aov_cents         INTEGER NOT NULL DEFAULT 0,  -- average order value over counted orders
  fav_categories    TEXT NOT NULL DEFAULT '[]',  -- JSON array, most bought first
  preferred_payment TEXT NOT NULL DEFAULT '',
  preferred_carrier TEXT NOT NULL DEFAULT '',
  segment           TEXT NOT NULL DEFAULT '',    -- bot.Segment*
  computed_at       TEXT NOT NULL
);
CREATE INDEX shopper_features_by_segment ON shopper_features(segment);

-- consents is the history of a shopper's choices, newest last; the current
-- value of kind 'personalize' is also kept in profiles.personalize.
CREATE TABLE consents (
  id         INTEGER PRIMARY KEY,
  shopper_id TEXT NOT NULL,
  kind       TEXT NOT NULL,      -- bot.ConsentPersonalize
  granted    INTEGER NOT NULL,
  source     TEXT NOT NULL DEFAULT '', -- widget | api | import
  at         TEXT NOT NULL
);
CREATE INDEX consents_by_shopper ON consents(shopper_id, kind, id);
