-- 0004: returns. The bot (or the model through a tool) may only propose a
-- return; a return request exists once the shopper pressed Confirm on the
-- proposal's card (docs/protocol.md, return_confirm).
--
-- No foreign key points at orders: PutOrder replaces an order by deleting
-- and inserting it again, which must not cascade into returns.

-- return_proposals are returns the bot prepared, waiting for the shopper.
CREATE TABLE return_proposals (
  id              TEXT PRIMARY KEY,          -- 'rp_…'
  conversation_id TEXT NOT NULL,
  shopper_id      TEXT NOT NULL,
  order_id        TEXT NOT NULL,
  items           TEXT NOT NULL,             -- JSON [{"sku","qty"}]
  reason          TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'confirmed', 'cancelled')),
  created_at      TEXT NOT NULL,
  decided_at      TEXT NOT NULL DEFAULT ''   -- when confirmed or cancelled
);
CREATE INDEX return_proposals_by_shopper ON return_proposals(shopper_id, created_at);

-- return_requests are the returns shoppers confirmed: at most one per
-- proposal, so confirming twice submits one return.
CREATE TABLE return_requests (
  id          TEXT PRIMARY KEY,              -- 'r_…'
  proposal_id TEXT NOT NULL UNIQUE REFERENCES return_proposals(id),
  shopper_id  TEXT NOT NULL,
  order_id    TEXT NOT NULL,
  items       TEXT NOT NULL,                 -- JSON [{"sku","qty"}]
  reason      TEXT NOT NULL DEFAULT '',
  status      TEXT NOT NULL DEFAULT 'submitted',
  created_at  TEXT NOT NULL
);
CREATE INDEX return_requests_by_shopper ON return_requests(shopper_id, created_at);
CREATE INDEX return_requests_by_order ON return_requests(order_id);
