package shard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-db/vigil/pkg/coord"
)

// rejoinEvery is how often a member whose session ended tries to register
// again: soon after the coordinator is back, before its old lease (renewed
// by the coordinator's restart) runs out and the others see it leave.
const rejoinEvery = 250 * time.Millisecond

// Ring is one member's place among the discovery members: it registers the
// member under a session of its own, follows every member, and says which
// instances the member owns.
//
// A lost session is handled by what the coordinator says. When it answers,
// the lease is really gone and the others take over: the member owns
// nothing at once, then rejoins under a new session. When it does not
// answer, nobody can see a change of members, so the member keeps what it
// owned and rejoins once the coordinator is back: an outage of the
// coordinator moves no ownership.
type Ring struct {
	c    coord.Coordinator
	self Member
	ttl  time.Duration
	*Members
	stop context.CancelFunc
	done chan struct{}

	mu      sync.Mutex
	session coord.Session
	reg     Registration
	out     bool          // the lease is known lost and no new one is up yet
	lost    chan struct{} // closed when the current session is lost
}

// Join registers self under a new session of ttl and follows the members
// until Close. It fails when the coordinator cannot register the member.
func Join(ctx context.Context, c coord.Coordinator, self Member, reg Registration, ttl time.Duration) (*Ring, error) {
	rctx, stop := context.WithCancel(context.Background())
	r := &Ring{c: c, self: self, ttl: ttl, Members: newMembers(), stop: stop, done: make(chan struct{}), reg: reg}
	if err := r.register(ctx); err != nil {
		stop()
		return nil, fmt.Errorf("join discovery members: %w", err)
	}
	// The first list includes self: the member owns its share at once.
	list, err := c.List(ctx, membersPrefix)
	if err != nil {
		stop()
		_ = r.session.Close()
		return nil, fmt.Errorf("join discovery members: %w", err)
	}
	r.replace(list)
	go r.Members.follow(rctx, c)
	go r.keep(rctx)
	return r, nil
}

// register starts a session and writes the registration under it.
func (r *Ring) register(ctx context.Context) error {
	s, err := r.c.NewSession(ctx, r.ttl)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.reg.Joined = time.Now().UTC()
	r.reg.Heartbeat = r.reg.Joined
	reg := r.reg
	r.mu.Unlock()
	value, err := marshal(r.self, reg)
	if err == nil {
		err = s.Put(ctx, membersPrefix+r.self.ID, value)
	}
	if err != nil {
		_ = s.Close()
		return err
	}
	r.mu.Lock()
	r.session = s
	r.lost = make(chan struct{})
	r.mu.Unlock()
	return nil
}

// keep watches the session and rejoins when it is lost, until ctx ends.
func (r *Ring) keep(ctx context.Context) {
	defer close(r.done)
	for {
		r.mu.Lock()
		s, lost := r.session, r.lost
		r.mu.Unlock()
		select {
		case <-s.Done():
		case <-ctx.Done():
			return
		}
		close(lost)
		if r.coordinatorAnswers(ctx) {
			r.setOut(true)
		}
		for ctx.Err() == nil {
			select {
			case <-time.After(rejoinEvery):
			case <-ctx.Done():
				return
			}
			rctx, cancel := context.WithTimeout(ctx, retryEvery)
			err := r.register(rctx)
			cancel()
			if err == nil {
				r.setOut(false)
				break
			}
		}
	}
}

// coordinatorAnswers reports whether the coordinator answers a read now.
func (r *Ring) coordinatorAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, retryEvery)
	defer cancel()
	_, err := r.c.List(ctx, membersPrefix)
	return err == nil
}

func (r *Ring) setOut(out bool) {
	r.mu.Lock()
	changed := r.out != out
	r.out = out
	r.mu.Unlock()
	if changed {
		r.notify()
	}
}

// Heartbeat rewrites the member's registration with the number of
// instances it owns now.
func (r *Ring) Heartbeat(ctx context.Context, owned int) error {
	r.mu.Lock()
	r.reg.Heartbeat = time.Now().UTC()
	r.reg.Owned = owned
	reg, s := r.reg, r.session
	r.mu.Unlock()
	value, err := marshal(r.self, reg)
	if err != nil {
		return err
	}
	return s.Put(ctx, membersPrefix+r.self.ID, value)
}

// Self returns the member this ring registers.
func (r *Ring) Self() Member { return r.self }

// Owns reports whether this member is one of key's rf owners. A member
// whose lease is known lost owns nothing: it must stop probing at once.
func (r *Ring) Owns(key string, rf int) bool {
	return r.Ownership(rf)(key)
}

// Ownership returns, for the members as they are now, whether this member
// is one of a key's rf owners: one look at the members for many keys.
func (r *Ring) Ownership(rf int) func(key string) bool {
	r.mu.Lock()
	out := r.out
	r.mu.Unlock()
	members := r.Members.Members()
	return func(key string) bool {
		return !out && Owns(r.self.ID, key, members, rf)
	}
}

// Lost is closed when the member's current session is lost.
func (r *Ring) Lost() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost
}

// Close leaves the ring: the registration is deleted at once.
func (r *Ring) Close() error {
	r.stop()
	<-r.done
	r.mu.Lock()
	s := r.session
	r.mu.Unlock()
	return s.Close()
}
