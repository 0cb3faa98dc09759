package handoff

import "context"

// Forget drops what the desk keeps in memory about conversations that were
// deleted (a shopper's "delete my data", docs/privacy.md) and tells every
// console to refresh, so their cases vanish from the queue, the tickets and
// agents' lists at once. The cases themselves were deleted with the
// conversations; routing then never sees them again.
func (d *Desk) Forget(ctx context.Context, conversationIDs []string) error {
	if len(conversationIDs) == 0 {
		return nil
	}
	// routeMu keeps a case opened meanwhile from being forgotten.
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	open, err := d.deps.Store.Cases(ctx, StatusQueued, StatusAssigned, StatusTicket)
	if err != nil {
		return err
	}
	// The set of open cases loses the deleted conversations' (which it
	// would only have asked the store about).
	d.open.reset(open)
	live := make(map[int64]bool, len(open))
	for _, c := range open {
		live[c.ID] = true
	}
	d.mu.Lock()
	for id := range d.told {
		if !live[id] {
			delete(d.told, id)
		}
	}
	for id := range d.released {
		if !live[id] {
			delete(d.released, id)
		}
	}
	d.mu.Unlock()
	for _, id := range conversationIDs {
		d.notify(0, Notice{Kind: "case", ConversationID: id})
	}
	d.notify(0, Notice{Kind: "board"})
	d.wake()
	return nil
}
