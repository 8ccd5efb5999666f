package etcd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/coord/coordtest"
)

// endpoint is the etcd the tests use: scripts/deps.sh starts one on
// 127.0.0.1:2379; VIGIL_TEST_ETCD names another.
func endpoint() string {
	if e := os.Getenv("VIGIL_TEST_ETCD"); e != "" {
		return e
	}
	return "127.0.0.1:2379"
}

func newClient(t *testing.T) *clientv3.Client {
	t.Helper()
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint()}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := client.Status(ctx, endpoint()); err != nil {
		t.Fatalf("etcd at %s does not answer (run scripts/deps.sh): %v", endpoint(), err)
	}
	return client
}

func TestContract(t *testing.T) {
	client := newClient(t)
	coordtest.Run(t, coordtest.Backend{
		New: func(t *testing.T) coord.Coordinator {
			var b [6]byte
			_, _ = rand.Read(b[:])
			ns := "test-" + hex.EncodeToString(b[:])
			c := New(client, ns)
			t.Cleanup(func() {
				_, _ = client.Delete(context.Background(), "/vigil/"+ns+"/", clientv3.WithPrefix())
				c.Close()
			})
			return c
		},
		// A crash or a partition ends a session when its lease goes:
		// revoke it behind the session's back.
		Lose: func(t *testing.T, s coord.Session) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := client.Revoke(ctx, s.(*session).Lease()); err != nil {
				t.Fatalf("revoke lease: %v", err)
			}
		},
	})
}
