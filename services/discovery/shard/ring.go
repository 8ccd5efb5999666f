package shard

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-db/vigil/pkg/coord"
)

// membersPrefix is where discovery members register, each under its own
// session, so that a member whose lease is lost disappears.
const membersPrefix = "discovery/members/"

// registration is the value a member registers.
type registration struct {
	Domain string `json:"domain"`
	Addr   string `json:"addr"`
}

// Ring is this member's view of the live discovery members: it registers
// the member under a session of its own and follows every registration.
type Ring struct {
	self    Member
	session coord.Session
	stop    context.CancelFunc
	done    chan struct{}

	mu      sync.Mutex
	members map[string]Member
	addrs   map[string]string
	changed chan struct{} // closed and replaced on every change
}

// Join registers self, with the gRPC address other services reach it at,
// under a new session of ttl, and follows the members until Close or until
// the session is lost.
func Join(ctx context.Context, c coord.Coordinator, self Member, addr string, ttl time.Duration) (*Ring, error) {
	value, err := json.Marshal(registration{Domain: self.Domain, Addr: addr})
	if err != nil {
		return nil, err
	}
	s, err := c.NewSession(ctx, ttl)
	if err != nil {
		return nil, fmt.Errorf("join discovery members: %w", err)
	}
	wctx, stop := context.WithCancel(context.Background())
	events := c.Watch(wctx, membersPrefix) // before the list: nothing falls between
	if err := s.Put(ctx, membersPrefix+self.ID, value); err != nil {
		stop()
		_ = s.Close()
		return nil, fmt.Errorf("join discovery members: %w", err)
	}
	list, err := c.List(ctx, membersPrefix)
	if err != nil {
		stop()
		_ = s.Close()
		return nil, fmt.Errorf("join discovery members: %w", err)
	}
	r := &Ring{self: self, session: s, stop: stop, done: make(chan struct{}),
		members: make(map[string]Member), addrs: make(map[string]string), changed: make(chan struct{})}
	for _, e := range list {
		r.apply(e)
	}
	go r.follow(wctx, events)
	return r, nil
}

// follow applies registrations as they change, until the watch ends.
func (r *Ring) follow(ctx context.Context, events <-chan coord.Event) {
	defer close(r.done)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return
			}
			r.apply(e)
		case <-r.session.Done():
			r.stop()
			r.mu.Lock()
			r.members, r.addrs = map[string]Member{}, map[string]string{}
			r.notifyLocked()
			r.mu.Unlock()
			return
		case <-ctx.Done():
			return
		}
	}
}

// apply records one registration or its removal.
func (r *Ring) apply(e coord.Event) {
	id := strings.TrimPrefix(e.Key, membersPrefix)
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Deleted {
		delete(r.members, id)
		delete(r.addrs, id)
		r.notifyLocked()
		return
	}
	var reg registration
	if err := json.Unmarshal(e.Value, &reg); err != nil {
		return // not a member's registration
	}
	r.members[id] = Member{ID: id, Domain: reg.Domain}
	r.addrs[id] = reg.Addr
	r.notifyLocked()
}

func (r *Ring) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Members returns the live members, ordered by id; none once the session
// is lost.
func (r *Ring) Members() []Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Member, 0, len(r.members))
	for _, m := range r.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Addr returns the gRPC address a member registered.
func (r *Ring) Addr(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addrs[id]
}

// Owns reports whether this member is one of key's rf owners. A member
// whose session is lost owns nothing: it must stop probing at once.
func (r *Ring) Owns(key string, rf int) bool {
	return Owns(r.self.ID, key, r.Members(), rf)
}

// Changed returns a channel closed at the next change of the members.
func (r *Ring) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// Lost is closed when the member's session is lost.
func (r *Ring) Lost() <-chan struct{} { return r.session.Done() }

// Close leaves the ring: the registration is deleted at once.
func (r *Ring) Close() error {
	r.stop()
	<-r.done
	return r.session.Close()
}
