// Package local is the coordinator of a single Vigil process: locks and
// keys live in memory, and sessions end only when closed. It gives one
// process the same locking discipline as a cluster on etcd.
package local

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-db/vigil/pkg/coord"
)

// Coordinator is an in-process coordinator. Its zero value is not usable;
// call New.
type Coordinator struct {
	mu       sync.Mutex
	revision int64               // bumped by every lock taken and key written
	holders  map[string]*lock    // lock name -> holder
	freed    *sync.Cond          // signalled when a lock is released
	keys     map[string][]byte   // key -> value
	leased   map[string]*session // key -> the session it lives with
	watchers map[*watcher]bool
}

type watcher struct {
	prefix string
	events chan coord.Event
	done   <-chan struct{}
}

// New returns an empty coordinator.
func New() *Coordinator {
	c := &Coordinator{
		holders:  make(map[string]*lock),
		keys:     make(map[string][]byte),
		leased:   make(map[string]*session),
		watchers: make(map[*watcher]bool),
	}
	c.freed = sync.NewCond(&c.mu)
	return c
}

// NewSession implements coord.Coordinator. A local session has no lease to
// lose: it ends when closed.
func (c *Coordinator) NewSession(ctx context.Context, _ time.Duration) (coord.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &session{c: c, done: make(chan struct{})}, nil
}

// Get implements coord.Coordinator.
func (c *Coordinator) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.keys[key]
	return clone(v), ok, nil
}

// List implements coord.Coordinator.
func (c *Coordinator) List(ctx context.Context, prefix string) ([]coord.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []coord.Event
	for k, v := range c.keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, coord.Event{Key: k, Value: clone(v)})
		}
	}
	slices.SortFunc(out, func(a, b coord.Event) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Watch implements coord.Coordinator.
func (c *Coordinator) Watch(ctx context.Context, prefix string) <-chan coord.Event {
	w := &watcher{prefix: prefix, events: make(chan coord.Event, 64), done: ctx.Done()}
	c.mu.Lock()
	c.watchers[w] = true
	c.mu.Unlock()
	out := make(chan coord.Event)
	go func() {
		defer close(out)
		defer func() {
			c.mu.Lock()
			delete(c.watchers, w)
			c.mu.Unlock()
		}()
		for {
			select {
			case e := <-w.events:
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Close implements coord.Coordinator.
func (c *Coordinator) Close() error { return nil }

// putLocked writes key, living with the session owner (nil: for ever),
// and tells the watchers.
func (c *Coordinator) putLocked(key string, value []byte, owner *session) {
	c.revision++
	c.keys[key] = clone(value)
	delete(c.leased, key)
	if owner != nil {
		c.leased[key] = owner
	}
	c.tellLocked(coord.Event{Key: key, Value: clone(value)})
}

// deleteLocked deletes key and tells the watchers.
func (c *Coordinator) deleteLocked(key string) {
	c.revision++
	delete(c.keys, key)
	delete(c.leased, key)
	c.tellLocked(coord.Event{Key: key, Deleted: true})
}

// tellLocked sends e to the watchers of its key. A watcher that has fallen
// far behind blocks the writer until it catches up or its context ends.
func (c *Coordinator) tellLocked(e coord.Event) {
	for w := range c.watchers {
		if strings.HasPrefix(e.Key, w.prefix) {
			select {
			case w.events <- e:
			case <-w.done:
			}
		}
	}
}

type session struct {
	c    *Coordinator
	once sync.Once
	done chan struct{}
}

func (s *session) Done() <-chan struct{} { return s.done }

func (s *session) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Lock implements coord.Session: it waits on the coordinator's condition
// variable, woken by every release, by the session's end and by ctx.
func (s *session) Lock(ctx context.Context, name string) (coord.Lock, error) {
	c := s.c
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.freed.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case s.ended():
			return nil, coord.ErrSessionDone
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case c.holders[name] == nil:
			c.revision++
			l := &lock{s: s, name: name, token: c.revision}
			c.holders[name] = l
			return l, nil
		}
		c.freed.Wait()
	}
}

// Put implements coord.Session.
func (s *session) Put(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.ended() {
		return coord.ErrSessionDone
	}
	c.putLocked(key, value, s)
	return nil
}

// Close implements coord.Session.
func (s *session) Close() error {
	s.once.Do(func() {
		c := s.c
		c.mu.Lock()
		close(s.done)
		for name, l := range c.holders {
			if l.s == s {
				delete(c.holders, name)
			}
		}
		for key, owner := range c.leased {
			if owner == s {
				c.deleteLocked(key)
			}
		}
		c.freed.Broadcast()
		c.mu.Unlock()
	})
	return nil
}

type lock struct {
	s     *session
	name  string
	token int64
}

func (l *lock) Token() int64 { return l.token }

func (l *lock) heldLocked() bool { return l.s.c.holders[l.name] == l }

func (l *lock) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.s.c.mu.Lock()
	defer l.s.c.mu.Unlock()
	if !l.heldLocked() {
		return coord.ErrLockLost
	}
	return nil
}

func (l *lock) Put(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := l.s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !l.heldLocked() {
		return coord.ErrLockLost
	}
	c.putLocked(key, value, nil)
	return nil
}

func (l *lock) Unlock(context.Context) error {
	c := l.s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.heldLocked() {
		delete(c.holders, l.name)
		c.freed.Broadcast()
	}
	return nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
