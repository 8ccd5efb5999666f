// Package fanout sends changes of a keyed state to every subscriber. A new
// subscriber first gets the current state, then every change after it, so it
// never misses one and never needs history.
package fanout

import (
	"errors"
	"sync"
)

// ErrTooSlow ends a subscription that fell a whole buffer behind. The
// subscriber reconnects and starts again from the current state.
var ErrTooSlow = errors.New("subscriber fell too far behind")

// Event is one change: Value was set under Key, or Key was removed.
type Event[K comparable, V any] struct {
	Key     K
	Value   V
	Removed bool
}

// Hub holds the current value of every key and the open subscriptions.
// Values are shared between subscribers and must not be changed once set.
type Hub[K comparable, V any] struct {
	buffer int

	mu      sync.Mutex
	current map[K]V
	subs    map[*Subscription[K, V]]struct{}
}

// New returns a hub whose subscribers may fall up to buffer events behind.
func New[K comparable, V any](buffer int) *Hub[K, V] {
	return &Hub[K, V]{
		buffer:  buffer,
		current: make(map[K]V),
		subs:    make(map[*Subscription[K, V]]struct{}),
	}
}

// Subscription receives every event published after it was opened.
type Subscription[K comparable, V any] struct {
	// Initial holds every current value when the subscription opened.
	Initial []V

	hub    *Hub[K, V]
	events chan Event[K, V]
	done   chan struct{}
	err    error
}

// Events delivers the live events.
func (s *Subscription[K, V]) Events() <-chan Event[K, V] { return s.events }

// Done is closed when the hub ended the subscription; Err then says why.
func (s *Subscription[K, V]) Done() <-chan struct{} { return s.done }

// Err is the reason the hub ended the subscription.
func (s *Subscription[K, V]) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription; closing twice is harmless.
func (s *Subscription[K, V]) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.endLocked(s, nil)
}

// Subscribe opens a subscription.
func (h *Hub[K, V]) Subscribe() *Subscription[K, V] {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &Subscription[K, V]{
		hub:    h,
		events: make(chan Event[K, V], h.buffer),
		done:   make(chan struct{}),
	}
	for _, v := range h.current {
		s.Initial = append(s.Initial, v)
	}
	h.subs[s] = struct{}{}
	return s
}

// Set makes v the current value of k and sends it to every subscriber.
func (h *Hub[K, V]) Set(k K, v V) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.current[k] = v
	h.sendLocked(Event[K, V]{Key: k, Value: v})
}

// Remove drops k and tells every subscriber, with v as the last word on it
// (the zero value when there is nothing to say).
func (h *Hub[K, V]) Remove(k K, v V) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.current, k)
	h.sendLocked(Event[K, V]{Key: k, Value: v, Removed: true})
}

// Get returns the current value of k.
func (h *Hub[K, V]) Get(k K) (V, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.current[k]
	return v, ok
}

func (h *Hub[K, V]) sendLocked(e Event[K, V]) {
	for s := range h.subs {
		select {
		case s.events <- e:
		default:
			h.endLocked(s, ErrTooSlow)
		}
	}
}

func (h *Hub[K, V]) endLocked(s *Subscription[K, V], err error) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	s.err = err
	close(s.done)
}
