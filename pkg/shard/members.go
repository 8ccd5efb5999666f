package shard

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-db/vigil/pkg/coord"
)

// membersPrefix is where discovery members register, each under its own
// session, so that a member whose lease is lost disappears.
const membersPrefix = "discovery/members/"

// retryEvery is how often a broken watch or a lost session is retried
// while the coordinator does not answer.
const retryEvery = time.Second

// Registration is what a member says about itself, besides its identity.
type Registration struct {
	// Addr is the gRPC address other services reach the member at.
	Addr string `json:"addr"`
	// ReplicationFactor is how many members the member wants probing each
	// instance; analyzers use it to find an instance's owners.
	ReplicationFactor int `json:"replication_factor"`
	// PollInterval is how often the member probes what it owns.
	PollInterval time.Duration `json:"poll_interval"`
	// LeaseTTL is the time to live of the member's session.
	LeaseTTL time.Duration `json:"lease_ttl"`
	// Joined is when the member's current session registered it.
	Joined time.Time `json:"joined"`
	// Heartbeat is when the member last rewrote its registration, and
	// Owned how many instances it owned then.
	Heartbeat time.Time `json:"heartbeat"`
	Owned     int       `json:"owned"`
}

// Registered is one live member with its registration.
type Registered struct {
	Member
	Registration
}

// Members is a followed view of the live discovery members. While the
// coordinator does not answer, the view stays as it was last seen: no
// member is taken for gone because the coordinator is down.
type Members struct {
	mu      sync.Mutex
	members map[string]Registered
	changed chan struct{} // closed and replaced when the set of members changes
}

func newMembers() *Members {
	return &Members{members: make(map[string]Registered), changed: make(chan struct{})}
}

// Follow follows the members registered on c until ctx ends.
func Follow(ctx context.Context, c coord.Coordinator) *Members {
	m := newMembers()
	go m.follow(ctx, c)
	return m
}

// follow lists the members, then applies every change the watch sends. A
// broken watch is re-opened and the list read again.
func (m *Members) follow(ctx context.Context, c coord.Coordinator) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(ctx)
		events := c.Watch(wctx, membersPrefix) // before the list: nothing falls between
		lctx, lcancel := context.WithTimeout(ctx, retryEvery)
		list, err := c.List(lctx, membersPrefix)
		lcancel()
		if err == nil {
			m.replace(list)
			for e := range events {
				m.apply(e)
			}
		}
		cancel()
		select {
		case <-time.After(retryEvery):
		case <-ctx.Done():
		}
	}
}

// replace makes the listed registrations the whole view.
func (m *Members) replace(list []coord.Event) {
	next := make(map[string]Registered, len(list))
	for _, e := range list {
		if r, ok := parse(e); ok {
			next[r.ID] = r
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLocked(next)
}

// apply records one registration or its removal.
func (m *Members) apply(e coord.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := maps.Clone(m.members)
	if e.Deleted {
		delete(next, strings.TrimPrefix(e.Key, membersPrefix))
	} else if r, ok := parse(e); ok {
		next[r.ID] = r
	}
	m.setLocked(next)
}

// setLocked installs next and tells the followers when the members, not
// merely their heartbeats, changed.
func (m *Members) setLocked(next map[string]Registered) {
	same := len(next) == len(m.members)
	for id, r := range next {
		if old, ok := m.members[id]; !ok || old.Member != r.Member {
			same = false
		}
	}
	m.members = next
	if !same {
		m.notifyLocked()
	}
}

func (m *Members) notify() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notifyLocked()
}

func (m *Members) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func parse(e coord.Event) (Registered, bool) {
	var v value
	if err := json.Unmarshal(e.Value, &v); err != nil {
		return Registered{}, false // not a member's registration
	}
	id := strings.TrimPrefix(e.Key, membersPrefix)
	return Registered{Member: Member{ID: id, Domain: v.Domain}, Registration: v.Registration}, true
}

// List returns the live members with their registrations, ordered by id.
func (m *Members) List() []Registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.members))
	slices.SortFunc(out, func(a, b Registered) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Members returns the live members, ordered by id.
func (m *Members) Members() []Member {
	list := m.List()
	out := make([]Member, len(list))
	for i, r := range list {
		out[i] = r.Member
	}
	return out
}

// Get returns the registration of the member id.
func (m *Members) Get(id string) (Registered, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.members[id]
	return r, ok
}

// Changed returns a channel closed at the next change of the members.
func (m *Members) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Owners returns the members that own key, by the replication factor the
// members registered (the largest, should they disagree).
func (m *Members) Owners(key string) []Registered {
	list := m.List()
	rf := 1
	members := make([]Member, len(list))
	byID := make(map[string]Registered, len(list))
	for i, r := range list {
		members[i] = r.Member
		byID[r.ID] = r
		rf = max(rf, r.ReplicationFactor)
	}
	var out []Registered
	for _, o := range Owners(key, members, rf) {
		out = append(out, byID[o.ID])
	}
	return out
}

// value is what a member registers under its key: its domain and its
// registration.
type value struct {
	Domain string `json:"domain"`
	Registration
}

// marshal is the value a member registers.
func marshal(self Member, reg Registration) ([]byte, error) {
	return json.Marshal(value{Domain: self.Domain, Registration: reg})
}
