package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/sandbox"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// TestInternalRPCsActOnManagedInstancesOnly checks that ProbeNow and
// RestartReplicationIO refuse a list naming any address discovery does not
// watch, before touching any instance of the list.
func TestInternalRPCsActOnManagedInstancesOnly(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(1))
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	s := startStack(t, cfg)
	ctx := ctxT(t)
	replica := topo.Instance("r1")
	eventually(t, 15*time.Second, "replica watched", func() error {
		_, err := s.discovery.ProbeNow(ctx, &discoveryv1.ProbeNowRequest{Instances: []*topologyv1.InstanceKey{key(replica.Key)}})
		return err
	})
	stranger := listenRecording(t)
	ioThread := replicationIOThread(t, replica.AdminDB())
	if ioThread == 0 {
		t.Fatalf("%s has no replication IO thread", replica.Key)
	}

	calls := []struct {
		name string
		call func(keys []*topologyv1.InstanceKey) error
	}{
		{"ProbeNow", func(keys []*topologyv1.InstanceKey) error {
			_, err := s.discovery.ProbeNow(ctx, &discoveryv1.ProbeNowRequest{Instances: keys})
			return err
		}},
		{"RestartReplicationIO", func(keys []*topologyv1.InstanceKey) error {
			_, err := s.discovery.RestartReplicationIO(ctx, &discoveryv1.RestartReplicationIORequest{Instances: keys})
			return err
		}},
	}
	requests := []struct {
		name string
		keys []*topologyv1.InstanceKey
	}{
		{"unmanaged address", []*topologyv1.InstanceKey{key(stranger.addr)}},
		{"managed replica then unmanaged address", []*topologyv1.InstanceKey{key(replica.Key), key(stranger.addr)}},
	}
	for _, c := range calls {
		for _, r := range requests {
			t.Run(c.name+" of "+r.name, func(t *testing.T) {
				err := c.call(r.keys)
				if status.Code(err) != codes.NotFound {
					t.Fatalf("err = %v, want NotFound", err)
				}
				if msg := status.Convert(err).Message(); !strings.Contains(msg, stranger.addr) || !strings.Contains(msg, "DiscoverInstance") {
					t.Errorf("message %q does not name %s and how to add it", msg, stranger.addr)
				}
			})
		}
	}
	stranger.assertUntouched(t)
	if got := replicationIOThread(t, replica.AdminDB()); got != ioThread {
		t.Errorf("replication IO thread of %s restarted (%d, was %d) by a refused request", replica.Key, got, ioThread)
	}

	// The same replica alone is restarted, so the check above can see a restart.
	resp, err := s.discovery.RestartReplicationIO(ctx, &discoveryv1.RestartReplicationIORequest{Instances: []*topologyv1.InstanceKey{key(replica.Key)}})
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetError() != "" {
		t.Fatalf("RestartReplicationIO of a managed replica = %v, %v", resp, err)
	}
	eventually(t, 10*time.Second, "replication IO thread restarted", func() error {
		if got := replicationIOThread(t, replica.AdminDB()); got == ioThread {
			return fmt.Errorf("IO thread of %s is still %d", replica.Key, got)
		}
		return nil
	})
}

// recordingListener is a TCP address no Vigil member manages; it records the
// remote address of every connection made to it.
type recordingListener struct {
	addr     string
	ln       net.Listener
	accepted chan string
}

func listenRecording(t *testing.T) *recordingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &recordingListener{addr: ln.Addr().String(), ln: ln, accepted: make(chan string, 64)}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case l.accepted <- conn.RemoteAddr().String():
			default:
			}
			conn.Close()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return l
}

// assertUntouched fails the test if anyone but itself connected. It connects
// once as a marker: connections are accepted in the order they were made, so
// any earlier connection is accepted before the marker.
func (l *recordingListener) assertUntouched(t *testing.T) {
	t.Helper()
	marker, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	for {
		select {
		case from := <-l.accepted:
			if from == marker.LocalAddr().String() {
				return
			}
			t.Errorf("%s connected to the unmanaged address %s", from, l.addr)
		case <-time.After(10 * time.Second):
			t.Fatalf("marker connection to %s never accepted", l.addr)
		}
	}
}

// replicationIOThread returns the connection id of the replication IO thread
// of a replica, or 0 while it has none; a restart of the thread gives it a
// new id.
func replicationIOThread(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var id int64
	err := db.QueryRowContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Slave_IO'").Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("replication IO thread: %v", err)
	}
	return id
}
