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
	r, err := Join(ctx, c, Member{ID: id, Domain: domain}, "127.0.0.1:7101", 2*time.Second)
	if err != nil {
		t.Fatalf("Join %s: %v", id, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitMembers waits until r sees exactly the members ids.
func waitMembers(t *testing.T, r *Ring, ids ...string) {
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
			waitMembers(t, a, "a", "b")
			waitMembers(t, b, "a", "b")
			if got := a.Addr("b"); got != "127.0.0.1:7101" {
				t.Errorf("address of b = %q", got)
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
			waitMembers(t, a, "a")
			for _, k := range keys(200) {
				if !a.Owns(k, 1) {
					t.Fatalf("%s: not re-owned by the last member", k)
				}
			}
		})
	}
}

// TestRingOwnsNothingOnceItsSessionIsLost revokes a member's lease behind
// its back: it owns nothing at once, and the others see it leave.
func TestRingOwnsNothingOnceItsSessionIsLost(t *testing.T) {
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c := coordinators(t)["etcd"]
	a, b := join(t, c, "a", "dc1"), join(t, c, "b", "dc2")
	waitMembers(t, a, "a", "b")
	lease := a.session.(interface{ Lease() clientv3.LeaseID }).Lease()
	if _, err := client.Revoke(context.Background(), lease); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("lost session not noticed within 10s")
	}
	waitMembers(t, a)
	if a.Owns("db1:3306", 3) {
		t.Error("a member without a session owns an instance")
	}
	waitMembers(t, b, "b")
}
