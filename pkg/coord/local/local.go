// Package local is the coordinator of a single Vigil process: locks and
// keys live in memory, and sessions end only when closed. It gives one
// process the same locking discipline as a cluster on etcd.
package local

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/vigil-db/vigil/pkg/coord"
)

// Coordinator is an in-process coordinator. Its zero value is not usable;
// call New.
type Coordinator struct {
	mu       sync.Mutex
	revision int64             // bumped by every lock taken and key written
	holders  map[string]*lock  // lock name -> holder
	freed    *sync.Cond        // signalled when a lock is released
	keys     map[string][]byte // key -> value
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

// putLocked writes key and tells the watchers. A watcher that has fallen
// far behind blocks the writer until it catches up or its context ends.
func (c *Coordinator) putLocked(key string, value []byte) {
	c.revision++
	c.keys[key] = clone(value)
	for w := range c.watchers {
		if strings.HasPrefix(key, w.prefix) {
			select {
			case w.events <- coord.Event{Key: key, Value: clone(value)}:
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
	c.putLocked(key, value)
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
