package web

import (
	"sync"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/handoff"
)

// Hub fans conversation events out to the sockets watching each
// conversation, and desk notices out to agents' consoles. It is the
// in-process implementation of bot.Publisher and handoff.Notifier; a
// NATS-backed one can join it for several nodes.
//
// Two audiences watch a conversation: the shopper's sockets, which get
// protocol-v1 frames (encodeEvent), and agent sockets, which get agent
// frames naming the conversation (encodeAgentEvent). Each event is encoded
// once per audience.
//
// The maps are guarded by a RWMutex, as Centrifuge's hub is: Publish and
// Notify only read them, and never block on a socket, because each
// socket's deliver is non-blocking (see conn.deliver for the slow-consumer
// policy). Lock order: an agentSocket's mu may be held while taking h.mu,
// never the reverse (Notify copies its targets before calling them).
type Hub struct {
	mu         sync.RWMutex
	convs      map[string]map[*conn]struct{}       // shopper sockets per conversation
	agentConvs map[string]map[*conn]struct{}       // agent sockets per conversation
	agents     map[int64]map[*agentSocket]struct{} // agent sockets per staff user id
}

var (
	_ bot.Publisher    = (*Hub)(nil)
	_ handoff.Notifier = (*Hub)(nil)
)

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{
		convs:      map[string]map[*conn]struct{}{},
		agentConvs: map[string]map[*conn]struct{}{},
		agents:     map[int64]map[*agentSocket]struct{}{},
	}
}

// Publish delivers ev to every socket of the conversation: the shopper's
// and the agents' watching it, each audience its own encoding. The
// shopper's own typing goes to agents only.
func (h *Hub) Publish(conversationID string, ev bot.Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if shoppers := h.convs[conversationID]; len(shoppers) > 0 && !(ev.Type == bot.EventTyping && ev.Role == bot.RoleShopper) {
		if f, ok := encodeEvent(ev); ok {
			for c := range shoppers {
				c.deliver(f)
			}
		}
	}
	if agents := h.agentConvs[conversationID]; len(agents) > 0 {
		if f, ok := encodeAgentEvent(conversationID, ev); ok {
			for c := range agents {
				c.deliver(f)
			}
		}
	}
}

// Notify implements handoff.Notifier: it sends n to agent agentID's
// consoles, or to every connected staff console when agentID is 0. An
// "assigned" notice also makes the agent's sockets watch that
// conversation, before the frame goes out; a "case" notice makes them
// check whether they still may.
func (h *Hub) Notify(agentID int64, n handoff.Notice) {
	f, ok := encodeNotice(n)
	if !ok {
		return
	}
	h.mu.RLock()
	var targets []*agentSocket
	if agentID == 0 {
		for _, set := range h.agents {
			for a := range set {
				targets = append(targets, a)
			}
		}
	} else {
		for a := range h.agents[agentID] {
			targets = append(targets, a)
		}
	}
	h.mu.RUnlock()
	for _, a := range targets {
		a.notice(n, f)
	}
}

// Forget is called after conversations were deleted (an erasure or the
// retention job, docs/privacy.md): agent sockets watching them stop
// receiving their events at once (the desk's "case" notices then make the
// consoles drop them from their own state too), and the shopper sockets on
// them are closed with 4410, so the widget clears its transcript and
// starts a new conversation.
func (h *Hub) Forget(conversationIDs []string) {
	var conns []*conn
	h.mu.Lock()
	for _, id := range conversationIDs {
		delete(h.agentConvs, id)
		for c := range h.convs[id] {
			conns = append(conns, c)
		}
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.close(closeErased, "conversation deleted")
	}
}

func (h *Hub) add(conversationID string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	addTo(h.convs, conversationID, c)
}

func (h *Hub) remove(conversationID string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	removeFrom(h.convs, conversationID, c)
}

// watch makes agent socket c receive the conversation's agent frames.
func (h *Hub) watch(conversationID string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	addTo(h.agentConvs, conversationID, c)
}

func (h *Hub) unwatch(conversationID string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	removeFrom(h.agentConvs, conversationID, c)
}

// addAgent registers an agent socket for its user's notices.
func (h *Hub) addAgent(a *agentSocket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	addTo(h.agents, a.me.ID, a)
}

func (h *Hub) removeAgent(a *agentSocket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	removeFrom(h.agents, a.me.ID, a)
}

func addTo[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	set := m[k]
	if set == nil {
		set = map[V]struct{}{}
		m[k] = set
	}
	set[v] = struct{}{}
}

func removeFrom[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	set := m[k]
	delete(set, v)
	if len(set) == 0 {
		delete(m, k)
	}
}

// watchers returns how many shopper sockets watch a conversation.
func (h *Hub) watchers(conversationID string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.convs[conversationID])
}

// agentWatchers returns how many agent sockets watch a conversation.
func (h *Hub) agentWatchers(conversationID string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.agentConvs[conversationID])
}
