// Package hub fans snapshots out to every stream subscriber and remembers the
// latest snapshot of each instance, so a new subscriber starts from the
// current state.
package hub

import (
	"errors"
	"sync"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// ErrTooSlow ends a subscription that fell a whole buffer behind. The
// subscriber reconnects and re-syncs from the current state.
var ErrTooSlow = errors.New("subscriber fell too far behind")

// Event is one change: a new snapshot, or an instance no longer watched.
type Event struct {
	Snapshot  *topologyv1.Snapshot
	Forgotten topology.InstanceKey
}

// Hub holds the latest snapshot per instance and the open subscriptions.
// Published snapshots are shared between subscribers and must not be changed.
type Hub struct {
	buffer int

	mu     sync.Mutex
	latest map[topology.InstanceKey]*topologyv1.Snapshot
	subs   map[*Subscription]struct{}
}

// New returns a hub whose subscribers may fall up to buffer events behind.
func New(buffer int) *Hub {
	return &Hub{
		buffer: buffer,
		latest: make(map[topology.InstanceKey]*topologyv1.Snapshot),
		subs:   make(map[*Subscription]struct{}),
	}
}

// Subscription receives every event published after it was opened.
type Subscription struct {
	// Initial holds the latest snapshot of every instance when the
	// subscription opened.
	Initial []*topologyv1.Snapshot

	hub    *Hub
	events chan Event
	done   chan struct{}
	err    error
}

// Events delivers the live events.
func (s *Subscription) Events() <-chan Event { return s.events }

// Done is closed when the hub ended the subscription; Err then says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is the reason the hub ended the subscription.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.endLocked(s, nil)
}

// Subscribe opens a subscription.
func (h *Hub) Subscribe() *Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &Subscription{
		hub:    h,
		events: make(chan Event, h.buffer),
		done:   make(chan struct{}),
	}
	for _, snap := range h.latest {
		s.Initial = append(s.Initial, snap)
	}
	h.subs[s] = struct{}{}
	return s
}

// Publish records snap as the latest of its instance and sends it to every
// subscriber.
func (h *Hub) Publish(snap *topologyv1.Snapshot) {
	key, err := topology.KeyFromProto(snap.GetKey())
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest[key] = snap
	h.sendLocked(Event{Snapshot: snap})
}

// Forget drops what is known of key and tells every subscriber.
func (h *Hub) Forget(key topology.InstanceKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.latest, key)
	h.sendLocked(Event{Forgotten: key})
}

// Latest returns the latest snapshot of key.
func (h *Hub) Latest(key topology.InstanceKey) (*topologyv1.Snapshot, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.latest[key]
	return s, ok
}

func (h *Hub) sendLocked(e Event) {
	for s := range h.subs {
		select {
		case s.events <- e:
		default:
			h.endLocked(s, ErrTooSlow)
		}
	}
}

func (h *Hub) endLocked(s *Subscription, err error) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	s.err = err
	close(s.done)
}
