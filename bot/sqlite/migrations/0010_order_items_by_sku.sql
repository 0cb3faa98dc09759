-- 0010: a product written by the ingestion API recomputes the features of
-- the shoppers who bought it; this index finds them without reading every
-- order item.
CREATE INDEX order_items_by_sku ON order_items(sku);
