// Package coord is the coordination Vigil's processes need from each other:
// sessions that can be lost, named locks whose fencing token grows with
// every acquisition, writes guarded by a lock, reads and watches.
//
// Implementations live in sub-packages: etcd for processes on several
// machines, local for the single-process default. Both are held to the
// same behaviour by the contract suite in coordtest.
package coord

import (
	"context"
	"errors"
	"time"
)

// ErrLockLost is returned by a lock that is no longer held: it was unlocked,
// or its session ended (lease expired or revoked, session closed). Whoever
// gets it must stop changing what the lock protects.
var ErrLockLost = errors.New("lock lost")

// ErrSessionDone is returned when a session that has ended is asked to lock.
var ErrSessionDone = errors.New("session ended")

// Coordinator is a coordination service, seen under one namespace: keys and
// lock names are relative to it. It is safe for concurrent use.
type Coordinator interface {
	// NewSession starts a session bound to a lease of ttl (rounded up to
	// whole seconds, at least one). The session keeps its lease alive until
	// it is closed or the lease is lost.
	NewSession(ctx context.Context, ttl time.Duration) (Session, error)
	// Get returns the value of key, and false when it is not set.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// List returns every key under prefix with its value, ordered by key.
	List(ctx context.Context, prefix string) ([]Event, error)
	// Watch sends every change to a key under prefix made after it returns,
	// in order, until ctx ends; then it closes the channel.
	Watch(ctx context.Context, prefix string) <-chan Event
	// Close releases the coordinator's resources, not the sessions' locks.
	Close() error
}

// Session is a lease that can be lost.
type Session interface {
	// Done is closed when the session ended: closed, or its lease lost.
	// Every lock taken through it is then released.
	Done() <-chan struct{}
	// Lock takes the lock called name, waiting until it is free or ctx
	// ends. It returns ErrSessionDone once the session has ended.
	Lock(ctx context.Context, name string) (Lock, error)
	// Put sets key to value for as long as the session lives: the key is
	// deleted when the session ends, as a member's registration must be.
	// It returns ErrSessionDone once the session has ended.
	Put(ctx context.Context, key string, value []byte) error
	// Close ends the session and releases its locks.
	Close() error
}

// Lock is a held lock.
type Lock interface {
	// Token is the lock's fencing token: greater for every later
	// acquisition of the same name, by any session.
	Token() int64
	// Check asks the coordinator whether the lock is still held: nil if
	// so, ErrLockLost if not.
	Check(ctx context.Context) error
	// Put sets key to value in the same step as checking that the lock is
	// still held: ErrLockLost, and nothing written, if it is not.
	Put(ctx context.Context, key string, value []byte) error
	// Unlock releases the lock; a lock already lost is not an error.
	Unlock(ctx context.Context) error
}

// Event is one change to a watched key, or one key listed.
type Event struct {
	Key     string
	Value   []byte // nil when Deleted
	Deleted bool
}
