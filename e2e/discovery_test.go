package e2e

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/sandbox"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// TestDiscoverMasterWithThreeReplicas seeds one replica and expects the whole
// tree, then watches replication stop on one replica and another replica die.
func TestDiscoverMasterWithThreeReplicas(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(3))
	master := topo.Master()
	if err := master.Exec(ctxT(t), "CREATE DATABASE app"); err != nil {
		t.Fatal(err)
	}
	if err := topo.WaitReplicating(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Instance("r2").Key} // a replica: the crawl must go up, then down
	s := startStack(t, cfg)
	resp := waitForCluster(t, s, master.Key, 4)

	root := resp.GetRoot()
	if got := keyString(root.GetInstance().GetKey()); got != master.Key {
		t.Fatalf("root = %s, want master %s", got, master.Key)
	}
	if len(root.GetReplicas()) != 3 {
		t.Fatalf("master has %d replicas in the tree, want 3", len(root.GetReplicas()))
	}
	m := root.GetInstance()
	if m.GetRole() != topologyv1.Role_ROLE_MASTER || m.GetSnapshot().GetServer().GetReadOnly() {
		t.Errorf("master role=%s read_only=%v", m.GetRole(), m.GetSnapshot().GetServer().GetReadOnly())
	}
	if m.GetSnapshot().GetServer().GetGtidBinlogPos() == "" {
		t.Error("master has no gtid_binlog_pos after a write")
	}
	for _, r := range root.GetReplicas() {
		inst := r.GetInstance()
		snap := inst.GetSnapshot()
		ch := snap.GetChannels()[0]
		if keyString(inst.GetMaster()) != master.Key || inst.GetRole() != topologyv1.Role_ROLE_REPLICA {
			t.Errorf("%s: master=%v role=%s", keyString(inst.GetKey()), inst.GetMaster(), inst.GetRole())
		}
		if !snap.GetServer().GetReadOnly() || !inst.GetReplicating() {
			t.Errorf("%s: read_only=%v replicating=%v", keyString(inst.GetKey()), snap.GetServer().GetReadOnly(), inst.GetReplicating())
		}
		if ch.GetUsingGtid() != "Slave_Pos" || !ch.GetAutoPosition() || ch.SecondsBehindSource == nil || ch.GetSecondsBehindSource() != 0 {
			t.Errorf("%s: using_gtid=%q auto_position=%v lag=%v", keyString(inst.GetKey()), ch.GetUsingGtid(), ch.GetAutoPosition(), ch.SecondsBehindSource)
		}
	}
	for _, want := range []string{master.Key, "rw", "ro", "ROW", "GTID", "+ " + topo.Instance("r1").Key} {
		if !strings.Contains(resp.GetText(), want) {
			t.Errorf("topology text lacks %q:\n%s", want, resp.GetText())
		}
	}

	t.Run("stopped replication shows within two poll intervals", func(t *testing.T) {
		r1 := topo.Instance("r1")
		if err := r1.Exec(ctxT(t), "STOP SLAVE"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*pollInterval+300*time.Millisecond, "r1 shows IO/SQL No", func() error {
			ch := getInstance(t, s, r1.Key).GetSnapshot().GetChannels()[0]
			if ch.GetIoThread() != topologyv1.ThreadState_THREAD_STATE_NO || ch.GetSqlThread() != topologyv1.ThreadState_THREAD_STATE_NO {
				return fmt.Errorf("io=%s sql=%s", ch.GetIoThread(), ch.GetSqlThread())
			}
			return nil
		})
		broken, err := s.topology.ListReplicas(ctxT(t), &topologyv1.ListReplicasRequest{Instance: key(master.Key), BrokenOnly: true})
		if err != nil || len(broken.GetReplicas()) != 1 || keyString(broken.GetReplicas()[0].GetKey()) != r1.Key {
			t.Errorf("broken replicas = %v, %v; want only %s", broken.GetReplicas(), err, r1.Key)
		}
		if err := r1.Exec(ctxT(t), "START SLAVE"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("killed replica is unreachable and keeps its place", func(t *testing.T) {
		r3 := topo.Instance("r3")
		if err := r3.Kill(); err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*pollInterval+300*time.Millisecond, "r3 unreachable", func() error {
			inst := getInstance(t, s, r3.Key)
			if inst.GetReachable() {
				return errors.New("still reachable")
			}
			if c := inst.GetSnapshot().GetErrorClass(); c != topologyv1.ErrorClass_ERROR_CLASS_REFUSED {
				return fmt.Errorf("error class %s, want REFUSED", c)
			}
			if keyString(inst.GetMaster()) != master.Key || inst.GetCluster() != master.Key {
				return fmt.Errorf("moved: master=%v cluster=%s", inst.GetMaster(), inst.GetCluster())
			}
			return nil
		})
		if !strings.Contains(waitForText(t, s, master.Key, "unreachable"), r3.Key) {
			t.Error("topology text does not show the dead replica")
		}
	})
}

// TestDiscoverChain checks an intermediate master and its replicas.
func TestDiscoverChain(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterIntermediateReplicas(2))
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	s := startStack(t, cfg)
	resp := waitForCluster(t, s, topo.Master().Key, 4)

	root := resp.GetRoot()
	if len(root.GetReplicas()) != 1 {
		t.Fatalf("master has %d direct replicas, want 1 (the intermediate master)", len(root.GetReplicas()))
	}
	im := root.GetReplicas()[0]
	if im.GetInstance().GetRole() != topologyv1.Role_ROLE_INTERMEDIATE_MASTER || len(im.GetReplicas()) != 2 {
		t.Fatalf("intermediate: role=%s replicas=%d", im.GetInstance().GetRole(), len(im.GetReplicas()))
	}
	imKey := keyString(im.GetInstance().GetKey())
	for _, r := range im.GetReplicas() {
		if got := keyString(r.GetInstance().GetMaster()); got != imKey {
			t.Errorf("%s replicates from %s, want %s", keyString(r.GetInstance().GetKey()), got, imKey)
		}
		if r.GetInstance().GetCluster() != topo.Master().Key {
			t.Errorf("%s in cluster %s", keyString(r.GetInstance().GetKey()), r.GetInstance().GetCluster())
		}
	}
	if !strings.Contains(resp.GetText(), "  + ") {
		t.Errorf("text does not indent the second level:\n%s", resp.GetText())
	}
}

// TestDiscoverNonMySQLStoresNothing points discovery at a TCP server that is
// not MySQL and at a closed port.
func TestDiscoverNonMySQLStoresNothing(t *testing.T) {
	cfg := testConfig(t)
	s := startStack(t, cfg)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	closed := freePort(t)

	for _, addr := range []string{lis.Addr().String(), closed} {
		_, err := s.discovery.DiscoverInstance(ctxT(t), &discoveryv1.DiscoverInstanceRequest{Instance: key(addr)})
		if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), addr) {
			t.Errorf("discover %s: %v; want FailedPrecondition naming it", addr, err)
		}
	}
	list, err := s.topology.ListInstances(ctxT(t), &topologyv1.ListInstancesRequest{})
	if err != nil || len(list.GetInstances()) != 0 {
		t.Errorf("instances after failed discovery = %v, %v; want none", list.GetInstances(), err)
	}
	if got := storedInstances(t, cfg.Store); len(got) != 0 {
		t.Errorf("store holds %d instances after failed discovery, want 0", len(got))
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func keyString(k *topologyv1.InstanceKey) string {
	return net.JoinHostPort(k.GetHost(), fmt.Sprint(k.GetPort()))
}

func waitForText(t *testing.T, s *stack, cluster, want string) string {
	var text string
	eventually(t, 5*time.Second, "topology text shows "+want, func() error {
		r, err := s.topology.GetClusterTopology(ctxT(t), &topologyv1.GetClusterTopologyRequest{Cluster: cluster})
		if err != nil {
			return err
		}
		text = r.GetText()
		if !strings.Contains(text, want) {
			return fmt.Errorf("text:\n%s", text)
		}
		return nil
	})
	return text
}
