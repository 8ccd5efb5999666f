package shard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/coord/etcd"
	"github.com/vigil-db/vigil/pkg/coord/local"
)

// coordinators are the two implementations the ring runs on: the test etcd
// (scripts/deps.sh starts it) and the in-process one.
func coordinators(t *testing.T) map[string]coord.Coordinator {
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return map[string]coord.Coordinator{"etcd": etcd.New(client, "shard-test-"+hex.EncodeToString(b)), "local": local.New()}
}

func join(t *testing.T, c coord.Coordinator, id, domain string) *Ring {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := Join(ctx, c, Member{ID: id, Domain: domain}, Registration{Addr: "127.0.0.1:7101", ReplicationFactor: 1}, 2*time.Second)
	if err != nil {
		t.Fatalf("Join %s: %v", id, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitMembers waits until r sees exactly the members ids.
func waitMembers(t *testing.T, r *Members, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		changed := r.Changed()
		got := r.Members()
		same := len(got) == len(ids)
		for i := 0; same && i < len(got); i++ {
			same = got[i].ID == ids[i]
		}
		if same {
			return
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("members %v, want %v", got, ids)
		}
	}
}

func TestRingFollowsMembers(t *testing.T) {
	for name, c := range coordinators(t) {
		t.Run(name, func(t *testing.T) {
			a := join(t, c, "a", "dc1")
			b := join(t, c, "b", "dc2")
			waitMembers(t, a.Members, "a", "b")
			waitMembers(t, b.Members, "a", "b")
			if got, _ := a.Get("b"); got.Addr != "127.0.0.1:7101" || got.Domain != "dc2" || got.Joined.IsZero() {
				t.Errorf("registration of b = %+v", got)
			}
			// Every instance has exactly one owner among the two views.
			for _, k := range keys(200) {
				if a.Owns(k, 1) == b.Owns(k, 1) {
					t.Fatalf("%s: owned by a=%v, b=%v", k, a.Owns(k, 1), b.Owns(k, 1))
				}
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			waitMembers(t, a.Members, "a")
			for _, k := range keys(200) {
				if !a.Owns(k, 1) {
					t.Fatalf("%s: not re-owned by the last member", k)
				}
			}
		})
	}
}

// TestRingOwnsNothingOnceItsSessionIsLost revokes a member's lease behind
// its back while etcd answers: it owns nothing at once, the others see it
// leave, and it then rejoins under a new lease.
func TestRingOwnsNothingOnceItsSessionIsLost(t *testing.T) {
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c := coordinators(t)["etcd"]
	a, b := join(t, c, "a", "dc1"), join(t, c, "b", "dc2")
	waitMembers(t, a.Members, "a", "b")
	lost := a.Lost()
	a.mu.Lock()
	lease := a.session.(interface{ Lease() clientv3.LeaseID }).Lease()
	a.mu.Unlock()
	if _, err := client.Revoke(context.Background(), lease); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("lost session not noticed within 10s")
	}
	waitOwns(t, a, false)
	waitMembers(t, b.Members, "b")
	// It rejoins under a new lease and owns its share again.
	waitMembers(t, b.Members, "a", "b")
	waitOwns(t, a, true)
}

// waitOwns waits until a's ownership of every instance is as wanted,
// for at least one instance when want is true.
func waitOwns(t *testing.T, a *Ring, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		changed := a.Changed()
		owns := a.Ownership(2)
		any := false
		for _, k := range keys(50) {
			any = any || owns(k)
		}
		if any == want {
			return
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("owns some = %v, want %v", any, want)
		}
	}
}

// TestFollowSeesRegistrationsAndOwners follows the members as an analyzer
// does: registrations, heartbeats that change no ownership, and owners by
// the registered replication factor.
func TestFollowSeesRegistrationsAndOwners(t *testing.T) {
	for name, c := range coordinators(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			view := Follow(ctx, c)
			a := join(t, c, "a", "dc1")
			join(t, c, "b", "dc2")
			waitMembers(t, view, "a", "b")

			changed := view.Changed()
			if err := a.Heartbeat(ctx, 42); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for got, _ := view.Get("a"); got.Owned != 42; got, _ = view.Get("a") {
				if time.Now().After(deadline) {
					t.Fatalf("heartbeat not seen: %+v", got)
				}
				time.Sleep(10 * time.Millisecond)
			}
			select {
			case <-changed:
				t.Error("a heartbeat was taken for a change of members")
			default:
			}
			for _, k := range keys(20) {
				owners := view.Owners(k)
				if len(owners) != 1 || owners[0].ID != map[bool]string{true: "a", false: "b"}[a.Owns(k, 1)] {
					t.Fatalf("%s: owners %+v disagree with the member's own view", k, owners)
				}
			}
		})
	}
}
