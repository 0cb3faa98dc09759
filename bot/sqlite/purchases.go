package sqlite

import (
	"context"
	"fmt"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// BoughtSKUs returns each once the SKUs of the items in the shopper's
// orders that are not cancelled, however many orders there are, in one
// query (orders_by_shopper, then each order's items by primary key).
// Storage-only orders (kept after an erasure) are left out, as everywhere
// the bot reads orders.
func (s *Store) BoughtSKUs(ctx context.Context, shopperID string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT i.sku FROM orders o JOIN order_items i ON i.order_id = o.id
		WHERE o.shopper_id = ? AND o.status <> ? AND o.storage_only = 0 AND i.sku <> ''`, shopperID, bot.StatusCancelled)
	if err != nil {
		return nil, fmt.Errorf("sqlite: bought skus: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sku string
		if err := rows.Scan(&sku); err != nil {
			return nil, fmt.Errorf("sqlite: bought skus: %w", err)
		}
		out = append(out, sku)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: bought skus: %w", err)
	}
	return out, nil
}
