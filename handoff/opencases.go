package handoff

import (
	"context"
	"fmt"
	"sync"
)

// openCases is the set of conversations that have an open case (queued,
// assigned or ticket), kept in memory so that Status, asked on every
// shopper message, needs no query for a conversation with the bot: the
// common case.
//
// It may hold more than the store (a conversation whose case write failed,
// or whose cases were deleted with it), never less: "not in the set" means
// "no open case", so Status never gives a stale answer; "in the set" means
// "ask the store". That holds because
//   - every write of a case goes through the desk, under routeMu (grep the
//     store's OpenCase and UpdateCase: no caller outside this package), and
//     the desk adds the conversation before the write and removes it only
//     after a write that left it without an open case committed;
//   - the only other change to cases is their deletion with their
//     conversations (privacy erasure, retention), which can only shrink the
//     store's open cases;
//   - the set is loaded from the store under routeMu before it answers
//     (at Run, or at the first Status), and Forget reloads it.
//
// This is only true while this desk is the only writer of the store's
// cases. With several nodes on one store (a later move to PostgreSQL), a
// case opened by another node would be missed: set Config.SharedStore, and
// the desk keeps no set and Status asks the store every time (or replace
// this type by one fed by the store's change notifications).
type openCases struct {
	mu     sync.RWMutex
	loaded bool
	convs  map[string]struct{}
}

// lookup reports whether conversationID may have an open case; known is
// false until the set is loaded (and always on a nil set), when only the
// store can tell.
func (o *openCases) lookup(conversationID string) (mayHave, known bool) {
	if o == nil {
		return true, false
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if !o.loaded {
		return true, false
	}
	_, ok := o.convs[conversationID]
	return ok, true
}

func (o *openCases) isLoaded() bool {
	if o == nil {
		return true // nothing to load
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.loaded
}

// add records that conversationID has, or is about to have, an open case.
// Called with routeMu held, before the write.
func (o *openCases) add(conversationID string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.convs[conversationID] = struct{}{}
	o.mu.Unlock()
}

// remove records that conversationID has no open case. Called with routeMu
// held, after the write that closed it committed.
func (o *openCases) remove(conversationID string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	delete(o.convs, conversationID)
	o.mu.Unlock()
}

// reset replaces the set by the store's open cases. Called with routeMu
// held, so that no case changes meanwhile.
func (o *openCases) reset(open []Case) {
	if o == nil {
		return
	}
	convs := make(map[string]struct{}, len(open))
	for _, c := range open {
		convs[c.ConversationID] = struct{}{}
	}
	o.mu.Lock()
	o.convs, o.loaded = convs, true
	o.mu.Unlock()
}

// isOpen reports whether a case in status s is open.
func isOpen(s string) bool {
	return s == StatusQueued || s == StatusAssigned || s == StatusTicket
}

// loadOpenLocked loads the set of open cases from the store. Called with
// routeMu held.
func (d *Desk) loadOpenLocked(ctx context.Context) error {
	if d.open == nil {
		return nil
	}
	open, err := d.deps.Store.Cases(ctx, StatusQueued, StatusAssigned, StatusTicket)
	if err != nil {
		return fmt.Errorf("handoff: load open cases: %w", err)
	}
	d.open.reset(open)
	return nil
}

// tryLoadOpen loads the set of open cases unless a change of cases is
// under way (it then stays unloaded, and the caller asks the store).
// Status calls it before Run has: it must never wait on routeMu, which the
// desk holds while it tells shoppers things.
func (d *Desk) tryLoadOpen(ctx context.Context) {
	if !d.routeMu.TryLock() {
		return
	}
	defer d.routeMu.Unlock()
	if d.open.isLoaded() {
		return
	}
	if err := d.loadOpenLocked(ctx); err != nil {
		d.log.Warn("open cases not loaded; status asks the store", "err", err)
	}
}

// openCase stores a new case (Store.OpenCase) and keeps the set of open
// cases true. Called with routeMu held.
func (d *Desk) openCase(ctx context.Context, c Case) (Case, bool, error) {
	d.open.add(c.ConversationID)
	stored, created, err := d.deps.Store.OpenCase(ctx, c)
	if err == nil && !isOpen(stored.Status) {
		d.open.remove(c.ConversationID) // a missed request, stored closed
	}
	return stored, created, err
}

// updateCase changes a case (Store.UpdateCase) and keeps the set of open
// cases true: after a failed write the conversation stays in it, and the
// store is asked. Called with routeMu held.
func (d *Desk) updateCase(ctx context.Context, id int64, from string, fromAgent int64, to Case) error {
	d.open.add(to.ConversationID)
	err := d.deps.Store.UpdateCase(ctx, id, from, fromAgent, to)
	if err == nil && !isOpen(to.Status) {
		d.open.remove(to.ConversationID)
	}
	return err
}
