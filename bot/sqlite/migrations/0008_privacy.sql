-- 0008: shoppers' data requests (download and delete, docs/privacy.md),
-- erasure markers, and the storage-only flag on the records the law makes
-- the shop keep after an erasure.

-- data_requests records every "download my data" (export) and "delete my
-- data" (erase) request with its legal due date (GDPR Art. 12(3): one
-- month from the request). Both are answered at once, so completed_at is
-- normally requested_at; the row is the proof. llm_vendor_deletion says
-- whether the model vendor must also be asked to delete what it received:
-- 'needed' when the shopper's conversations were sent to a model, 'not_needed'
-- otherwise, '' for exports.
CREATE TABLE data_requests (
  id                  INTEGER PRIMARY KEY,
  shopper_id          TEXT NOT NULL,
  kind                TEXT NOT NULL CHECK (kind IN ('export', 'erase')),
  requested_at        TEXT NOT NULL,
  due_at              TEXT NOT NULL,
  completed_at        TEXT NOT NULL DEFAULT '',
  llm_vendor_deletion TEXT NOT NULL DEFAULT '' CHECK (llm_vendor_deletion IN ('', 'needed', 'not_needed', 'requested')),
  note                TEXT NOT NULL DEFAULT ''
);
CREATE INDEX data_requests_by_shopper ON data_requests(shopper_id, id);

-- erased_at is set when the shopper's data was erased: their name and
-- language are blanked and the row stays only because the storage-only
-- orders still point at it.
ALTER TABLE shoppers ADD COLUMN erased_at TEXT NOT NULL DEFAULT '';

-- storage_only marks a record kept only because the law requires it
-- (e-commerce transaction records): no read path of the UI or the APIs
-- returns it.
ALTER TABLE orders ADD COLUMN storage_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE return_proposals ADD COLUMN storage_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE return_requests ADD COLUMN storage_only INTEGER NOT NULL DEFAULT 0;

-- An order the shop sends again after the erasure (PutOrder deletes and
-- inserts it) stays storage-only when it was placed before the erasure.
CREATE TRIGGER orders_of_erased_shoppers AFTER INSERT ON orders
WHEN NEW.storage_only = 0 AND EXISTS (SELECT 1 FROM shoppers s
  WHERE s.id = NEW.shopper_id AND s.erased_at <> '' AND NEW.placed_at <= s.erased_at)
BEGIN UPDATE orders SET storage_only = 1 WHERE id = NEW.id; END;

-- Retention (bot/retention) deletes conversations by last activity.
CREATE INDEX conversations_by_updated ON conversations(updated_at);
