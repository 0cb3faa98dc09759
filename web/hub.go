package web

import (
	"sync"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// Hub fans conversation events out to the sockets watching each
// conversation: a shopper's tabs now, an agent's console later. It is the
// in-process implementation of bot.Publisher; a NATS-backed one can join it
// for several nodes.
//
// The map is guarded by a RWMutex, as Centrifuge's hub is: Publish only
// reads it, and never blocks on a socket, because each socket's deliver is
// non-blocking (see conn.deliver for the slow-consumer policy).
type Hub struct {
	mu    sync.RWMutex
	convs map[string]map[*conn]struct{}
}

var _ bot.Publisher = (*Hub)(nil)

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{convs: map[string]map[*conn]struct{}{}}
}

// Publish encodes ev once and delivers it to every socket of the conversation.
func (h *Hub) Publish(conversationID string, ev bot.Event) {
	f, ok := encodeEvent(ev)
	if !ok {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.convs[conversationID] {
		c.deliver(f)
	}
}

func (h *Hub) add(conversationID string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.convs[conversationID]
	if set == nil {
		set = map[*conn]struct{}{}
		h.convs[conversationID] = set
	}
	set[c] = struct{}{}
}

func (h *Hub) remove(conversationID string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.convs[conversationID]
	delete(set, c)
	if len(set) == 0 {
		delete(h.convs, conversationID)
	}
}

// watchers returns how many sockets watch a conversation.
func (h *Hub) watchers(conversationID string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.convs[conversationID])
}
