package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// result is what one vigilctl run printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

func vigilctl(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] })
	code := report(err, &stderr)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func assertRequests(t *testing.T, got, want []proto.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("services got %d requests %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("request %d: got %T {%v}, want %T {%v}", i,
				got[i], prototext.Format(got[i]), want[i], prototext.Format(want[i]))
		}
	}
}

func TestCommands(t *testing.T) {
	f := startFakes(t)
	db := func(host string) *topologyv1.InstanceKey { return key(host, 3306) }
	tests := []struct {
		name      string
		spellings [][]string
		want      string
		reqs      []proto.Message
	}{
		{
			name:      "clusters",
			spellings: [][]string{{"clusters"}, {"-c", "clusters"}, {"--command", "clusters"}, {"clusters", "--timeout", "5s"}},
			want:      "db1:3306\ndb9:3306\n",
			reqs:      []proto.Message{&topologyv1.ListClustersRequest{}, &topologyv1.ListClustersRequest{PageToken: "p2"}},
		},
		{
			name:      "clusters-alias",
			spellings: [][]string{{"clusters-alias"}, {"-c", "clusters-alias"}},
			want:      "db1:3306\tmain\ndb9:3306\tother\n",
			reqs:      []proto.Message{&topologyv1.ListClustersRequest{}, &topologyv1.ListClustersRequest{PageToken: "p2"}},
		},
		{
			name:      "cluster-info by cluster",
			spellings: [][]string{{"cluster-info", "--cluster", "main"}, {"cluster-info", "main"}, {"-c", "cluster-info", "-alias", "main"}},
			want: "name:      db1:3306\nalias:     main\ndomain:    main.example.com\n" +
				"master:    db1:3306\ninstances: 3\n",
			reqs: []proto.Message{&topologyv1.GetClusterRequest{Cluster: "main"}},
		},
		{
			name:      "cluster-info by instance",
			spellings: [][]string{{"cluster-info", "-i", "db2:3306"}, {"-c", "cluster-info", "-i", "db2:3306"}},
			want: "name:      db1:3306\nalias:     main\ndomain:    main.example.com\n" +
				"master:    db1:3306\ninstances: 3\n",
			reqs: []proto.Message{&topologyv1.GetInstanceClusterRequest{Instance: db("db2")}},
		},
		{
			name: "topology by cluster",
			spellings: [][]string{
				{"topology", "--cluster", "main"}, {"topology", "-alias", "main"}, {"topology", "--alias", "main"},
				{"topology", "-a", "main"}, {"topology", "main"}, {"-c", "topology", "-alias", "main"},
				{"--alias", "main", "topology"},
			},
			want: topologyText,
			reqs: []proto.Message{&topologyv1.GetClusterTopologyRequest{Cluster: "main"}},
		},
		{
			name:      "topology by instance",
			spellings: [][]string{{"topology", "-i", "db2:3306"}, {"-c", "topology", "-i", "db2:3306"}},
			want:      topologyText,
			reqs: []proto.Message{
				&topologyv1.GetInstanceClusterRequest{Instance: db("db2")},
				&topologyv1.GetClusterTopologyRequest{Cluster: "db1:3306"},
			},
		},
		{
			name:      "topology-tabulated",
			spellings: [][]string{{"topology-tabulated", "--cluster", "main"}, {"-c", "topology-tabulated", "-alias", "main"}},
			want: "db1:3306\t0s\tok\t8.0.36\trw\tROW\t>>,GTID\n" +
				"+ db2:3306\t0s\tok\t8.0.36\tro\tROW\t>>,GTID\n" +
				"+ db3:3306\tnull\tnonreplicating\t8.0.36\tro\tROW\tfile:pos\n",
			reqs: []proto.Message{&topologyv1.GetClusterTopologyRequest{Cluster: "main"}},
		},
		{
			name: "instance",
			spellings: [][]string{
				{"instance", "-i", "db2:3306"}, {"instance", "--instance", "db2:3306"}, {"instance", "db2:3306"},
				{"which-instance", "-i", "db2:3306"}, {"-c", "instance", "-i", "db2:3306"}, {"-i", "db2:3306", "-c", "instance"},
			},
			want: "db2:3306\n",
			reqs: []proto.Message{&topologyv1.GetInstanceRequest{Instance: db("db2")}},
		},
		{
			name: "which-master of an instance",
			spellings: [][]string{
				{"which-master", "-i", "db2:3306"}, {"which-master", "db2:3306"},
				{"-c", "which-master", "-i", "db2:3306"}, {"-c", "which-master", "-i", "db2:3306", "-d", "db9:3306"},
			},
			want: "db1:3306\n",
			reqs: []proto.Message{&topologyv1.GetMasterRequest{Instance: db("db2")}},
		},
		{
			name:      "which-master of a cluster",
			spellings: [][]string{{"which-master", "--cluster", "main"}, {"-c", "which-master", "-alias", "main"}},
			want:      "db1:3306\n",
			reqs:      []proto.Message{&topologyv1.GetMasterRequest{Cluster: "main"}},
		},
		{
			name: "which-replicas",
			spellings: [][]string{
				{"which-replicas", "-i", "db1:3306"}, {"-c", "which-replicas", "-i", "db1:3306"}, {"-c", "which-slaves", "-i", "db1:3306"},
			},
			want: "db2:3306\ndb3:3306\n",
			reqs: []proto.Message{&topologyv1.ListReplicasRequest{Instance: db("db1")}},
		},
		{
			name: "which-broken-replicas",
			spellings: [][]string{
				{"which-replicas", "-i", "db1:3306", "--broken"}, {"which-broken-replicas", "-i", "db1:3306"},
				{"-c", "which-broken-replicas", "-i", "db1:3306"},
			},
			want: "db3:3306\n",
			reqs: []proto.Message{&topologyv1.ListReplicasRequest{Instance: db("db1"), BrokenOnly: true}},
		},
		{
			name:      "which-cluster of an instance",
			spellings: [][]string{{"which-cluster", "-i", "db2:3306"}, {"which-cluster", "db2:3306"}, {"-c", "which-cluster", "-i", "db2:3306"}},
			want:      "db1:3306\n",
			reqs:      []proto.Message{&topologyv1.GetInstanceClusterRequest{Instance: db("db2")}},
		},
		{
			name:      "which-cluster of an alias",
			spellings: [][]string{{"which-cluster", "--cluster", "main"}, {"-c", "which-cluster", "-alias", "main"}},
			want:      "db1:3306\n",
			reqs:      []proto.Message{&topologyv1.GetClusterRequest{Cluster: "main"}},
		},
		{
			name:      "which-cluster-alias",
			spellings: [][]string{{"which-cluster-alias", "-i", "db2:3306"}, {"-c", "which-cluster-alias", "-i", "db2:3306"}},
			want:      "main\n",
			reqs:      []proto.Message{&topologyv1.GetInstanceClusterRequest{Instance: db("db2")}},
		},
		{
			name:      "which-cluster-master by cluster",
			spellings: [][]string{{"which-cluster-master", "--cluster", "main"}, {"which-cluster-master", "main"}, {"-c", "which-cluster-master", "-alias", "main"}},
			want:      "db1:3306\n",
			reqs:      []proto.Message{&topologyv1.GetMasterRequest{Cluster: "main"}},
		},
		{
			name:      "which-cluster-master by instance",
			spellings: [][]string{{"which-cluster-master", "-i", "db2:3306"}, {"-c", "which-cluster-master", "-i", "db2:3306"}},
			want:      "db1:3306\n",
			reqs: []proto.Message{
				&topologyv1.GetInstanceClusterRequest{Instance: db("db2")},
				&topologyv1.GetMasterRequest{Cluster: "db1:3306"},
			},
		},
		{
			name:      "which-cluster-instances",
			spellings: [][]string{{"which-cluster-instances", "--cluster", "main"}, {"-c", "which-cluster-instances", "-alias", "main"}},
			want:      "db1:3306\ndb2:3306\ndb3:3306\n",
			reqs: []proto.Message{
				&topologyv1.ListInstancesRequest{Cluster: "main"},
				&topologyv1.ListInstancesRequest{Cluster: "main", PageToken: "i2"},
			},
		},
		{
			name:      "all-instances",
			spellings: [][]string{{"all-instances"}, {"-c", "all-instances"}},
			want:      "db1:3306\ndb2:3306\ndb3:3306\n",
			reqs:      []proto.Message{&topologyv1.ListInstancesRequest{}, &topologyv1.ListInstancesRequest{PageToken: "i2"}},
		},
		{
			name: "all-instances filtered",
			spellings: [][]string{
				{"all-instances", "--cluster", "main", "--pattern", "db"}, {"all-instances", "--cluster", "main", "db"},
				{"-c", "all-instances", "-alias", "main", "--pattern", "db"},
			},
			want: "db1:3306\ndb2:3306\ndb3:3306\n",
			reqs: []proto.Message{
				&topologyv1.ListInstancesRequest{Cluster: "main", Pattern: "db"},
				&topologyv1.ListInstancesRequest{Cluster: "main", Pattern: "db", PageToken: "i2"},
			},
		},
		{
			name:      "search",
			spellings: [][]string{{"search", "db"}, {"search", "--pattern", "db"}, {"-c", "search", "-i", "db"}},
			want:      "db1:3306\ndb2:3306\ndb3:3306\n",
			reqs: []proto.Message{
				&topologyv1.ListInstancesRequest{Pattern: "db"},
				&topologyv1.ListInstancesRequest{Pattern: "db", PageToken: "i2"},
			},
		},
		{
			name:      "discover",
			spellings: [][]string{{"discover", "-i", "db4:3307"}, {"discover", "db4:3307"}, {"-c", "discover", "-i", "db4:3307"}},
			want:      "db4:3307\n",
			reqs:      []proto.Message{&discoveryv1.DiscoverInstanceRequest{Instance: key("db4", 3307)}},
		},
		{
			name:      "discover IPv6",
			spellings: [][]string{{"discover", "-i", "[2001:db8::1]:3306"}},
			want:      "[2001:db8::1]:3306\n",
			reqs:      []proto.Message{&discoveryv1.DiscoverInstanceRequest{Instance: key("2001:db8::1", 3306)}},
		},
		{
			name:      "forget",
			spellings: [][]string{{"forget", "-i", "db4:3307"}, {"-c", "forget", "-i", "db4:3307"}},
			want:      "db4:3307\n",
			reqs:      []proto.Message{&discoveryv1.ForgetInstanceRequest{Instance: key("db4", 3307)}},
		},
		{
			name:      "forget-cluster",
			spellings: [][]string{{"forget-cluster", "--cluster", "main"}, {"forget-cluster", "main"}, {"-c", "forget-cluster", "-alias", "main"}},
			want:      "db1:3306\ndb2:3306\n",
			reqs:      []proto.Message{&discoveryv1.ForgetClusterRequest{Cluster: "main"}},
		},
		{
			name:      "members",
			spellings: [][]string{{"members"}, {"discovery-members"}, {"-c", "members"}},
			want: "MEMBER  DOMAIN  ADDRESS        OWNED  R  LEASE TTL  LAST HEARTBEAT\n" +
				"d1      dc1     10.0.0.1:7101  12     2  5s         2026-01-02T03:04:05Z\n" +
				"d2      -       10.0.0.2:7101  11     2  5s         -\n",
			reqs: []proto.Message{&discoveryv1.ListMembersRequest{}},
		},
		{
			name:      "observers",
			spellings: [][]string{{"observers", "-i", "db4:3307"}, {"observers", "db4:3307"}},
			want: "MEMBER  DOMAIN  PROBED                SAW\n" +
				"d1      dc1     2026-01-02T03:04:05Z  reachable\n" +
				"d2      -       2026-01-02T03:04:06Z  unreachable: connection refused\n",
			reqs: []proto.Message{&topologyv1.GetInstanceRequest{Instance: key("db4", 3307)}},
		},
		{
			name:      "audit-recovery",
			spellings: [][]string{{"audit-recovery", "--cluster", "db1:3306"}, {"-c", "audit-recovery", "-alias", "db1:3306"}},
			want:      "2026-01-02T03:04:05Z rec-1 DeadMaster db1:3306 -> db2:3306 SUCCEEDED: db1:3306 replaced by db2:3306\n",
			reqs:      []proto.Message{&recoveryv1.ListRecoveriesRequest{Cluster: "db1:3306", PageSize: defaultLimit}},
		},
		{
			name:      "recovery-steps",
			spellings: [][]string{{"recovery-steps", "--id", "rec-1"}, {"-c", "recovery-steps", "-id", "rec-1"}},
			want: "2026-01-02T03:04:05Z rec-1 DeadMaster db1:3306 -> db2:3306 SUCCEEDED: db1:3306 replaced by db2:3306\n" +
				"  step 2026-01-02T03:04:05Z promote db2:3306 ok: \n",
			reqs: []proto.Message{&recoveryv1.GetRecoveryRequest{Id: "rec-1"}},
		},
		{
			name:      "blocked-recoveries",
			spellings: [][]string{{"blocked-recoveries"}, {"-c", "blocked-recoveries"}},
			want:      "db2:3306 blocked until 2026-01-02T04:04:05Z by recovery rec-1\n",
			reqs:      []proto.Message{&recoveryv1.ListBlockedRecoveriesRequest{}},
		},
		{
			name: "ack-cluster-recoveries",
			spellings: [][]string{{"ack-cluster-recoveries", "--cluster", "db2:3306", "--reason", "checked"},
				{"-c", "ack-cluster-recoveries", "-alias", "db2:3306", "-reason", "checked"}},
			want: "2 acknowledged\n",
			reqs: []proto.Message{&recoveryv1.AcknowledgeRecoveriesRequest{Cluster: "db2:3306", Comment: "checked", RequestedBy: "alice"}},
		},
		{
			name:      "ack-all-recoveries",
			spellings: [][]string{{"ack-all-recoveries", "--reason", "checked"}, {"-c", "ack-all-recoveries", "-reason", "checked"}},
			want:      "2 acknowledged\n",
			reqs:      []proto.Message{&recoveryv1.AcknowledgeRecoveriesRequest{All: true, Comment: "checked", RequestedBy: "alice"}},
		},
		{
			name: "graceful-master-takeover",
			spellings: [][]string{{"graceful-master-takeover", "--cluster", "main", "-d", "db3:3306"},
				{"-c", "graceful-master-takeover", "-alias", "main", "-d", "db3:3306"}},
			want: "db3:3306\n",
			reqs: []proto.Message{&recoveryv1.GracefulMasterTakeoverRequest{Cluster: "main", Designated: key("db3", 3306), RequestedBy: "alice"}},
		},
		{
			name:      "graceful-master-takeover of the cluster of an instance",
			spellings: [][]string{{"graceful-master-takeover", "-i", "db2:3306", "-d", "db3:3306"}},
			want:      "db3:3306\n",
			reqs: []proto.Message{&topologyv1.GetInstanceClusterRequest{Instance: key("db2", 3306)},
				&recoveryv1.GracefulMasterTakeoverRequest{Cluster: "db1:3306", Designated: key("db3", 3306), RequestedBy: "alice"}},
		},
		{
			name:      "graceful-master-takeover-auto",
			spellings: [][]string{{"graceful-master-takeover-auto", "main"}, {"-c", "graceful-master-takeover-auto", "-alias", "main"}},
			want:      "db2:3306\n",
			reqs:      []proto.Message{&recoveryv1.GracefulMasterTakeoverRequest{Cluster: "main", RequestedBy: "alice"}},
		},
		{
			name:      "graceful-master-takeover-auto of the cluster of an instance, to a designated replica",
			spellings: [][]string{{"graceful-master-takeover-auto", "-i", "db2:3306", "-d", "db3:3306"}},
			want:      "db3:3306\n",
			reqs: []proto.Message{&topologyv1.GetInstanceClusterRequest{Instance: key("db2", 3306)},
				&recoveryv1.GracefulMasterTakeoverRequest{Cluster: "db1:3306", Designated: key("db3", 3306), RequestedBy: "alice"}},
		},
		{
			name:      "force-master-failover",
			spellings: [][]string{{"force-master-failover", "--cluster", "main"}, {"-c", "force-master-failover", "-alias", "main"}},
			want:      "db2:3306\n",
			reqs:      []proto.Message{&recoveryv1.ForceMasterFailoverRequest{Cluster: "main", RequestedBy: "alice"}},
		},
		{
			name:      "force-master-failover of the cluster of an instance",
			spellings: [][]string{{"force-master-failover", "-i", "db2:3306"}, {"-c", "force-master-failover", "-i", "db2:3306"}},
			want:      "db2:3306\n",
			reqs: []proto.Message{&topologyv1.GetInstanceClusterRequest{Instance: key("db2", 3306)},
				&recoveryv1.ForceMasterFailoverRequest{Cluster: "db1:3306", RequestedBy: "alice"}},
		},
		{
			name: "force-master-takeover",
			spellings: [][]string{{"force-master-takeover", "--cluster", "main", "-d", "db3:3306"},
				{"-c", "force-master-takeover", "-alias", "main", "-d", "db3:3306"}},
			want: "db3:3306\n",
			reqs: []proto.Message{&recoveryv1.ForceMasterTakeoverRequest{Cluster: "main", Designated: key("db3", 3306), RequestedBy: "alice"}},
		},
		{
			name:      "recover",
			spellings: [][]string{{"recover", "-i", "db1:3306", "-d", "db3:3306"}, {"-c", "recover", "-i", "db1:3306", "-d", "db3:3306"}},
			want:      "db3:3306\n",
			reqs:      []proto.Message{&recoveryv1.RecoverInstanceRequest{Instance: key("db1", 3306), Candidate: key("db3", 3306), RequestedBy: "alice"}},
		},
		{
			name:      "recover to the replica Vigil picks",
			spellings: [][]string{{"recover", "db1:3306"}, {"-c", "recover", "-i", "db1:3306"}},
			want:      "db2:3306\n",
			reqs:      []proto.Message{&recoveryv1.RecoverInstanceRequest{Instance: key("db1", 3306), RequestedBy: "alice"}},
		},
		{
			name: "register-candidate",
			spellings: [][]string{{"register-candidate", "-i", "db3:3306", "--promotion-rule", "prefer"},
				{"-c", "register-candidate", "-i", "db3:3306", "--promotion-rule", "prefer"}},
			want: "db3:3306\n",
			reqs: []proto.Message{&recoveryv1.RegisterCandidateRequest{Instance: key("db3", 3306),
				PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_PREFER, RequestedBy: "alice"}},
		},
		{
			name:      "register-candidate for a day",
			spellings: [][]string{{"register-candidate", "db3:3306", "--promotion-rule", "must-not", "--duration", "24h"}},
			want:      "db3:3306\n",
			reqs: []proto.Message{&recoveryv1.RegisterCandidateRequest{Instance: key("db3", 3306),
				PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT, Duration: durationpb.New(24 * time.Hour), RequestedBy: "alice"}},
		},
		{
			name: "register-candidate spellings of prefer_not",
			spellings: [][]string{{"register-candidate", "-i", "db3:3306", "--promotion-rule", "prefer_not"},
				{"register-candidate", "-i", "db3:3306", "--promotion-rule", "prefer-not"},
				{"-c", "register-candidate", "-i", "db3:3306", "-promotion-rule", "PREFER_NOT"}},
			want: "db3:3306\n",
			reqs: []proto.Message{&recoveryv1.RegisterCandidateRequest{Instance: key("db3", 3306),
				PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT, RequestedBy: "alice"}},
		},
		{
			name: "register-candidate must for 90 minutes",
			spellings: [][]string{{"register-candidate", "-i", "db3:3306", "--promotion-rule", "must", "--duration", "90m"},
				{"-c", "register-candidate", "-i", "db3:3306", "-promotion-rule", "must", "-duration", "1h30m"}},
			want: "db3:3306\n",
			reqs: []proto.Message{&recoveryv1.RegisterCandidateRequest{Instance: key("db3", 3306),
				PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_MUST, Duration: durationpb.New(90 * time.Minute), RequestedBy: "alice"}},
		},
		{
			name:      "candidates",
			spellings: [][]string{{"candidates"}, {"-c", "list-candidates"}},
			want:      "db3:3306\tprefer_not\t2026-01-02T04:04:05Z\talice\n",
			reqs:      []proto.Message{&recoveryv1.ListCandidatesRequest{}},
		},
		{
			name:      "failover-readiness",
			spellings: [][]string{{"failover-readiness", "--cluster", "main"}, {"-c", "readiness", "-alias", "main"}},
			want: "cluster db1:3306, master db1:3306\n" +
				"if the master died now: promote db2:3306\n" +
				"  refused db3:3306: delayed (it applies transactions 3600s late on purpose)\n" +
				"  would lose db4:3306: unreachable\n" +
				"gate: global-disabled: automated recoveries are disabled\n" +
				"ready: no\n",
			reqs: []proto.Message{&recoveryv1.GetFailoverReadinessRequest{Cluster: "main"}},
		},
		{
			name:      "explain",
			spellings: [][]string{{"explain", "--cluster", "main", "--detection", "d1"}, {"-c", "explain", "-alias", "main", "-detection", "d1"}},
			want: "cluster db1:3306, master db1:3306\n" +
				"if the master died now: promote db2:3306\n" +
				"  refused db3:3306: delayed (it applies transactions 3600s late on purpose)\n" +
				"  would lose db4:3306: unreachable\n" +
				"gate: global-disabled: automated recoveries are disabled\n" +
				"ready: no\n" +
				"\ndetection d1 DeadMaster db1:3306 at 2026-01-02T03:04:05Z (active): vetoed\n" +
				"  gate: hook-veto\n  hook: /usr/local/bin/allowed\n  vetoed by a pre-failover hook\n  recoveries: rec-1\n",
			reqs: []proto.Message{&recoveryv1.ExplainClusterRequest{Cluster: "main", DetectionId: "d1"}},
		},
		{
			name:      "check-global-recoveries",
			spellings: [][]string{{"check-global-recoveries"}, {"-c", "check-global-recoveries"}},
			want:      "enabled\n",
			reqs:      []proto.Message{&recoveryv1.GetGlobalRecoveriesRequest{}},
		},
		{
			name:      "disable-global-recoveries",
			spellings: [][]string{{"disable-global-recoveries"}, {"-c", "disable-global-recoveries"}},
			want:      "disabled\n",
			reqs:      []proto.Message{&recoveryv1.SetGlobalRecoveriesRequest{Enabled: false, RequestedBy: "alice"}},
		},
		{
			name:      "enable-global-recoveries",
			spellings: [][]string{{"enable-global-recoveries"}, {"-c", "enable-global-recoveries"}},
			want:      "enabled\n",
			reqs:      []proto.Message{&recoveryv1.SetGlobalRecoveriesRequest{Enabled: true, RequestedBy: "alice"}},
		},
		{
			name:      "replication-analysis of everything",
			spellings: [][]string{{"replication-analysis"}, {"-c", "replication-analysis"}},
			want:      analysisText,
			reqs:      []proto.Message{&analyzerv1.GetReplicationAnalysisRequest{}},
		},
		{
			name: "replication-analysis of a cluster",
			spellings: [][]string{
				{"replication-analysis", "--cluster", "main"}, {"replication-analysis", "main"},
				{"-c", "replication-analysis", "-alias", "main"},
			},
			want: analysisText,
			reqs: []proto.Message{&analyzerv1.GetReplicationAnalysisRequest{Cluster: "main"}},
		},
		{
			name:      "replication-analysis of an instance",
			spellings: [][]string{{"replication-analysis", "-i", "db1:3306"}, {"-c", "replication-analysis", "-i", "db1:3306"}},
			want:      analysisText,
			reqs:      []proto.Message{&analyzerv1.GetReplicationAnalysisRequest{Instance: db("db1")}},
		},
		{
			name:      "audit-failure-detection",
			spellings: [][]string{{"audit-failure-detection"}, {"-c", "audit-failure-detection"}},
			want:      auditText,
			reqs: []proto.Message{
				&analyzerv1.ListDetectionsRequest{PageSize: 50},
				&analyzerv1.ListDetectionsRequest{PageSize: 48, PageToken: "h2"},
			},
		},
		{
			name:      "audit-failure-detection up to a page",
			spellings: [][]string{{"audit-failure-detection", "--limit", "2"}, {"-c", "audit-failure-detection", "-limit", "2"}},
			want:      firstLines(auditText, 2),
			reqs:      []proto.Message{&analyzerv1.ListDetectionsRequest{PageSize: 2}},
		},
		{
			name: "audit-failure-detection of a cluster, less than a page",
			spellings: [][]string{
				{"audit-failure-detection", "--cluster", "main", "--limit", "1"}, {"audit-failure-detection", "main", "--limit=1"},
				{"-c", "audit-failure-detection", "-alias", "main", "-limit", "1"},
			},
			want: firstLines(auditText, 1),
			reqs: []proto.Message{&analyzerv1.ListDetectionsRequest{Cluster: "main", PageSize: 1}},
		},
		{
			name: "audit-failure-detection of an instance",
			spellings: [][]string{
				{"audit-failure-detection", "-i", "db1:3306", "--limit", "3"},
				{"-c", "audit-failure-detection", "-i", "db1:3306", "-limit", "3"},
			},
			want: auditText,
			reqs: []proto.Message{
				&analyzerv1.ListDetectionsRequest{Instance: db("db1"), PageSize: 3},
				&analyzerv1.ListDetectionsRequest{Instance: db("db1"), PageSize: 1, PageToken: "h2"},
			},
		},
		{
			// The fake closes the stream after two events, which ends the
			// command; --timeout does not bound it.
			name: "detection-events",
			spellings: [][]string{
				{"detection-events"}, {"watch-detections"}, {"-c", "detection-events"}, {"-c", "watch-detections"},
				{"detection-events", "--timeout", "1ns"},
			},
			want: eventsText,
			reqs: []proto.Message{&analyzerv1.StreamFailureEventsRequest{Subscriber: "vigilctl:alice"}},
		},
		{
			name: "begin-downtime",
			spellings: [][]string{
				{"begin-downtime", "-i", "db2:3306", "--duration", "1h", "--owner", "bob", "--reason", "kernel upgrade"},
				{"begin-downtime", "db2:3306", "--duration=60m", "--reason", "kernel upgrade", "--owner", "bob"},
				{"-c", "begin-downtime", "-i", "db2:3306", "-duration", "1h", "-owner", "bob", "-reason", "kernel upgrade"},
			},
			want: "db2:3306\n",
			reqs: []proto.Message{&recoveryv1.BeginDowntimeRequest{
				Instance: db("db2"), Duration: durationpb.New(time.Hour), Owner: "bob", Reason: "kernel upgrade",
			}},
		},
		{
			name: "begin-downtime owned by the user",
			spellings: [][]string{
				{"begin-downtime", "-i", "db2:3306", "--duration", "1h30m"}, {"-c", "begin-downtime", "-i", "db2:3306", "-duration", "90m"},
			},
			want: "db2:3306\n",
			reqs: []proto.Message{&recoveryv1.BeginDowntimeRequest{Instance: db("db2"), Duration: durationpb.New(90 * time.Minute), Owner: "alice"}},
		},
		{
			name:      "end-downtime",
			spellings: [][]string{{"end-downtime", "-i", "db2:3306"}, {"end-downtime", "db2:3306"}, {"-c", "end-downtime", "-i", "db2:3306"}},
			want:      "db2:3306\n",
			reqs:      []proto.Message{&recoveryv1.EndDowntimeRequest{Instance: db("db2")}},
		},
		{
			name:      "downtimed",
			spellings: [][]string{{"downtimed"}, {"-c", "downtimed"}},
			want: "db2:3306 until 2026-01-02T04:04:05Z by alice: kernel upgrade\n" +
				"db3:3306 until 2026-01-03T00:00:00Z by bob\n",
			reqs: []proto.Message{&recoveryv1.ListDowntimesRequest{}},
		},
	}
	for _, tt := range tests {
		for _, args := range tt.spellings {
			t.Run(tt.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				f.log.reset()
				r := vigilctl(t, f.env(), args...)
				if r.code != 0 {
					t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
				}
				if r.stdout != tt.want {
					t.Errorf("stdout:\n%q\nwant:\n%q", r.stdout, tt.want)
				}
				if r.stderr != "" {
					t.Errorf("stderr %q, want nothing", r.stderr)
				}
				assertRequests(t, f.log.requests(), tt.reqs)
			})
		}
	}
}

const (
	analysisText = "db1:3306 (cluster db1:3306): DeadMaster\n" +
		"db3:3306 (cluster db1:3306): ReplicationStopped [downtimed]\n" +
		"warning NoPromotableReplica on db1:3306: no replica can be promoted\n"
	auditText = "2026-01-02T03:04:05Z DeadMaster db1:3306 db1:3306 active\n" +
		"2026-01-02T03:00:00Z ReplicationStopped db3:3306 db1:3306 cleared at 2026-01-02T03:10:00Z\n" +
		"2026-01-01T00:00:00Z DeadIntermediateMaster db2:3306 db1:3306 cleared at 2026-01-01T00:05:00Z\n"
	eventsText = "2026-01-02T03:04:05Z STARTED DeadMaster db1:3306 db1:3306 id=d1\n" +
		"2026-01-02T03:10:00Z CLEARED ReplicationStopped db3:3306 db1:3306 id=d2\n"
)

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[:n], "")
}

func TestEveryCommandIsTested(t *testing.T) {
	// Keep TestCommands honest: a new command needs a row there.
	tested := []string{
		"clusters", "clusters-alias", "cluster-info", "topology", "topology-tabulated", "instance",
		"which-master", "which-replicas", "which-broken-replicas", "which-cluster", "which-cluster-alias",
		"which-cluster-master", "which-cluster-instances", "all-instances", "search", "discover", "forget", "forget-cluster", "members", "observers",
		"check-global-recoveries", "disable-global-recoveries", "enable-global-recoveries",
		"replication-analysis", "audit-failure-detection", "detection-events", "begin-downtime", "end-downtime",
		"downtimed", "audit-recovery", "recovery-steps", "blocked-recoveries", "ack-cluster-recoveries", "ack-all-recoveries",
		"graceful-master-takeover", "graceful-master-takeover-auto", "force-master-failover", "force-master-takeover",
		"recover", "register-candidate", "candidates", "failover-readiness", "explain",
	}
	if len(tested) != len(commands) {
		t.Errorf("%d commands, %d tested", len(commands), len(tested))
	}
	for _, name := range tested {
		if _, ok := lookupCommand(name); !ok {
			t.Errorf("command %q is gone", name)
		}
	}
}

func TestAddressFlagsOverrideEnvironment(t *testing.T) {
	f := startFakes(t)
	dead := deadAddr(t)
	env := map[string]string{"VIGIL_ANALYZER_ADDR": dead, "VIGIL_DISCOVERY_ADDR": dead, "VIGIL_RECOVERY_ADDR": dead}
	for _, args := range [][]string{
		{"--analyzer", f.analyzerAddr, "clusters"},
		{"clusters", "-analyzer", f.analyzerAddr},
		{"--discovery", f.discoveryAddr, "discover", "-i", "db1:3306"},
		{"--recovery=" + f.recoveryAddr, "check-global-recoveries"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if r := vigilctl(t, env, args...); r.code != 0 {
				t.Errorf("exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	f := startFakes(t)
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{"no command given"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{[]string{"-c", "frobnicate", "-i", "db1:3306"}, []string{`unknown command "frobnicate"`}},
		{[]string{"--no-such-flag", "clusters"}, []string{"no-such-flag"}},
		{[]string{"clusters", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"instance"}, []string{"instance", "-i host:port is required"}},
		{[]string{"which-replicas"}, []string{"-i host:port is required"}},
		{[]string{"which-master"}, []string{"--cluster or -i host:port is required"}},
		{[]string{"topology"}, []string{"--cluster or -i host:port is required"}},
		{[]string{"which-master", "-i", "db1:3306", "--cluster", "main"}, []string{"not both"}},
		{[]string{"instance", "-i", "db1"}, []string{"-i:", `"db1" is not host:port`}},
		{[]string{"-c", "which-master", "-i", "db1"}, []string{"-i:", "not host:port"}},
		{[]string{"discover", "-i", "db1:"}, []string{"-i:", "port"}},
		{[]string{"discover", "-i", "db1:0"}, []string{"-i:", "port is 0"}},
		{[]string{"discover", "-i", "db1:65536"}, []string{"-i:", "65536"}},
		{[]string{"forget", "-i", "db1:-1"}, []string{"-i:"}},
		{[]string{"instance", "db1"}, []string{"-i:", "not host:port"}},
		{[]string{"-c", "which-master", "-i", "db1:3306", "-d", "db2"}, []string{"-d:", "not host:port"}},
		{[]string{"instance", "-i", "db1:3306", "db2:3306"}, []string{"both as an argument and as a flag"}},
		{[]string{"search"}, []string{"pattern is required"}},
		{[]string{"clusters", "--timeout", "0s"}, []string{"--timeout"}},
		{[]string{"help", "frobnicate"}, []string{`unknown command "frobnicate"`}},
		{[]string{"begin-downtime", "-i", "db1:3306"}, []string{"begin-downtime", "--duration is required"}},
		{[]string{"begin-downtime", "-i", "db1:3306", "--duration", "soon"}, []string{"--duration", `"soon"`}},
		{[]string{"begin-downtime", "-i", "db1:3306", "--duration", "3600"}, []string{"--duration", `"3600"`}},
		{[]string{"begin-downtime", "-i", "db1:3306", "--duration", "1d"}, []string{"--duration", `"1d"`}},
		{[]string{"-c", "begin-downtime", "-i", "db1:3306", "-duration", "0s"}, []string{"--duration", "must be positive"}},
		{[]string{"begin-downtime", "-i", "db1:3306", "--duration", "-1h"}, []string{"--duration", "must be positive"}},
		{[]string{"begin-downtime", "--duration", "1h"}, []string{"begin-downtime", "-i host:port is required"}},
		{[]string{"begin-downtime", "-i", "db1", "--duration", "1h"}, []string{"-i:", "not host:port"}},
		{[]string{"end-downtime"}, []string{"end-downtime", "-i host:port is required"}},
		{[]string{"-c", "end-downtime", "-i", "db1:0"}, []string{"-i:", "port is 0"}},
		{[]string{"downtimed", "db1:3306"}, []string{`unexpected argument "db1:3306"`}},
		{[]string{"replication-analysis", "-i", "db1:3306", "--cluster", "main"}, []string{"not both"}},
		{[]string{"replication-analysis", "-i", "db1"}, []string{"-i:", "not host:port"}},
		{[]string{"audit-failure-detection", "--limit", "0"}, []string{"--limit 0", "must be positive"}},
		{[]string{"-c", "audit-failure-detection", "-limit", "-5"}, []string{"--limit -5", "must be positive"}},
		{[]string{"audit-failure-detection", "--limit", "many"}, []string{"limit"}},
		{[]string{"audit-failure-detection", "-i", "db1:3306", "-a", "main"}, []string{"not both"}},
		{[]string{"detection-events", "main"}, []string{`unexpected argument "main"`}},
		{[]string{"ack-cluster-recoveries", "--cluster", "main"}, []string{"--reason is required"}},
		{[]string{"ack-cluster-recoveries", "--reason", "checked"}, []string{"--cluster is required"}},
		{[]string{"-c", "ack-all-recoveries"}, []string{"--reason is required"}},
		{[]string{"recovery-steps"}, []string{"--id is required"}},
		{[]string{"forget-cluster"}, []string{"--cluster is required"}},
		{[]string{"audit-recovery", "--limit", "0"}, []string{"--limit 0", "must be positive"}},
		{[]string{"graceful-master-takeover", "--cluster", "main"}, []string{"-d host:port is required"}},
		{[]string{"-c", "force-master-takeover", "-alias", "main"}, []string{"-d host:port is required"}},
		{[]string{"graceful-master-takeover-auto"}, []string{"--cluster or -i host:port is required"}},
		{[]string{"recover"}, []string{"-i host:port is required"}},
		{[]string{"register-candidate", "-i", "db3:3306"}, []string{"--promotion-rule", "want must, prefer"}},
		{[]string{"register-candidate", "-i", "db3:3306", "--promotion-rule", "maybe"}, []string{`"maybe"`}},
		{[]string{"register-candidate", "-i", "db3:3306", "--promotion-rule", "prefer", "--duration", "soon"}, []string{"--duration", `"soon"`}},
		{[]string{"graceful-master-takeover", "-i", "db2:3306"}, []string{"graceful-master-takeover", "-d host:port is required"}},
		{[]string{"force-master-takeover", "-i", "db2:3306", "-d", "db3"}, []string{"-d:", "not host:port"}},
		{[]string{"graceful-master-takeover", "-i", "db2:3306", "--cluster", "main", "-d", "db3:3306"}, []string{"not both"}},
		{[]string{"force-master-failover"}, []string{"--cluster or -i host:port is required"}},
		{[]string{"recover", "-i", "db1:3306", "-d", "db3"}, []string{"-d:", "not host:port"}},
		{[]string{"register-candidate", "--promotion-rule", "prefer"}, []string{"-i host:port is required"}},
		{[]string{"-c", "register-candidate", "-i", "db3:3306", "-promotion-rule", "prefer", "-duration", "0s"}, []string{"--duration", `"0s"`, "positive"}},
		{[]string{"register-candidate", "-i", "db3:3306", "--promotion-rule", "prefer", "--duration", "-1h"}, []string{"--duration", `"-1h"`, "positive"}},
		{[]string{"candidates", "main"}, []string{`unexpected argument "main"`}},
		{[]string{"failover-readiness"}, []string{"--cluster or -i host:port is required"}},
		{[]string{"explain", "-i", "db1"}, []string{"-i:", "not host:port"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f.log.reset()
			r := vigilctl(t, f.env(), tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.HasPrefix(r.stderr, "vigilctl: ") {
				t.Errorf("stderr %q does not start with vigilctl: ", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if reqs := f.log.requests(); len(reqs) != 0 {
				t.Errorf("a usage error made %d requests", len(reqs))
			}
		})
	}
}

func TestServiceErrors(t *testing.T) {
	f := startFakes(t)
	tests := []struct {
		name       string
		err        error
		args       []string
		wantStderr string
	}{
		{
			name: "not found", err: status.Error(codes.NotFound, "instance 10.0.0.1:3306 is not known"),
			args:       []string{"-c", "instance", "-i", "10.0.0.1:3306"},
			wantStderr: "vigilctl: NotFound: instance 10.0.0.1:3306 is not known\n",
		},
		{
			name: "invalid argument", err: status.Error(codes.InvalidArgument, "cluster: empty"),
			args:       []string{"topology", "--cluster", "x"},
			wantStderr: "vigilctl: InvalidArgument: cluster: empty\n",
		},
		{
			name: "failed precondition", err: status.Error(codes.FailedPrecondition, "global read-only mode"),
			args:       []string{"disable-global-recoveries"},
			wantStderr: "vigilctl: FailedPrecondition: global read-only mode\n",
		},
		{
			name: "internal", err: status.Error(codes.Internal, "boom"),
			args:       []string{"clusters"},
			wantStderr: "vigilctl: Internal: boom\n",
		},
		{
			name: "analysis of an unknown cluster", err: status.Error(codes.NotFound, "cluster nope is not known"),
			args:       []string{"replication-analysis", "--cluster", "nope"},
			wantStderr: "vigilctl: NotFound: cluster nope is not known\n",
		},
		{
			name: "detections with a bad page token", err: status.Error(codes.InvalidArgument, "page_token: not a page token"),
			args:       []string{"-c", "audit-failure-detection"},
			wantStderr: "vigilctl: InvalidArgument: page_token: not a page token\n",
		},
		{
			name: "downtime too long", err: status.Error(codes.InvalidArgument, "duration: 1000 days is above 30 days"),
			args:       []string{"begin-downtime", "-i", "db1:3306", "--duration", "24000h"},
			wantStderr: "vigilctl: InvalidArgument: duration: 1000 days is above 30 days\n",
		},
		{
			name: "no downtime to end", err: status.Error(codes.NotFound, "db1:3306 is not downtimed"),
			args:       []string{"-c", "end-downtime", "-i", "db1:3306"},
			wantStderr: "vigilctl: NotFound: db1:3306 is not downtimed\n",
		},
		{
			name: "takeover refused", err: status.Error(codes.FailedPrecondition, "refused (delayed): db3:3306 cannot take over"),
			args:       []string{"graceful-master-takeover", "--cluster", "main", "-d", "db3:3306"},
			wantStderr: "vigilctl: FailedPrecondition: refused (delayed): db3:3306 cannot take over\n",
		},
		{
			name: "force takeover refused", err: status.Error(codes.FailedPrecondition, "refused (must_not): db3:3306 is registered must_not"),
			args:       []string{"-c", "force-master-takeover", "-alias", "main", "-d", "db3:3306"},
			wantStderr: "vigilctl: FailedPrecondition: refused (must_not): db3:3306 is registered must_not\n",
		},
		{
			name: "takeover of the cluster of an unknown instance", err: status.Error(codes.NotFound, "instance db7:3306 is not known"),
			args:       []string{"graceful-master-takeover", "-i", "db7:3306", "-d", "db3:3306"},
			wantStderr: "vigilctl: NotFound: instance db7:3306 is not known\n",
		},
		{
			name: "nothing to recover", err: status.Error(codes.FailedPrecondition, "db1:3306: no failure detected"),
			args:       []string{"recover", "-i", "db1:3306"},
			wantStderr: "vigilctl: FailedPrecondition: db1:3306: no failure detected\n",
		},
		{
			name: "candidate not known", err: status.Error(codes.NotFound, "instance db3:3306 is not known"),
			args:       []string{"-c", "register-candidate", "-i", "db3:3306", "--promotion-rule", "prefer"},
			wantStderr: "vigilctl: NotFound: instance db3:3306 is not known\n",
		},
		{
			name: "explain an unknown detection", err: status.Error(codes.NotFound, "detection d9 is not known"),
			args:       []string{"explain", "--cluster", "main", "--detection", "d9"},
			wantStderr: "vigilctl: NotFound: detection d9 is not known\n",
		},
		{
			name: "downtimes unavailable", err: status.Error(codes.Unavailable, "store not ready"),
			args:       []string{"downtimed"},
			wantStderr: "vigilctl: Unavailable: store not ready\n",
		},
		{
			name: "event stream refused", err: status.Error(codes.Unavailable, "analyzer is shutting down"),
			args:       []string{"detection-events"},
			wantStderr: "vigilctl: Unavailable: analyzer is shutting down\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.log.reset()
			f.log.failWith(tt.err)
			r := vigilctl(t, f.env(), tt.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if r.stderr != tt.wantStderr {
				t.Errorf("stderr %q, want %q", r.stderr, tt.wantStderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestUnreachableService(t *testing.T) {
	dead := deadAddr(t)
	r := vigilctl(t, map[string]string{"VIGIL_ANALYZER_ADDR": dead}, "clusters")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "vigilctl: Unavailable: ") {
		t.Errorf("exit %d, stderr %q; want 1 and vigilctl: Unavailable: ...", r.code, r.stderr)
	}
}

func TestTimeout(t *testing.T) {
	f := startFakes(t)
	f.log.hang()
	r := vigilctl(t, f.env(), "--timeout", "200ms", "clusters")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "vigilctl: DeadlineExceeded: ") {
		t.Errorf("exit %d, stderr %q; want 1 and vigilctl: DeadlineExceeded: ...", r.code, r.stderr)
	}
}

func TestJSONOutput(t *testing.T) {
	f := startFakes(t)
	tests := []struct {
		args []string
		path []string
		want any
	}{
		{[]string{"--json", "clusters"}, []string{"clusters", "1", "name"}, "db9:3306"},
		{[]string{"clusters", "--json"}, []string{"clusters", "0", "instance_count"}, 3.0},
		{[]string{"-c", "which-master", "-i", "db2:3306", "--json"}, []string{"master", "key", "host"}, "db1"},
		{[]string{"all-instances", "--json"}, []string{"instances", "2", "cluster_alias"}, "main"},
		{[]string{"topology", "main", "--json"}, []string{"text"}, topologyText},
		{[]string{"--json", "disable-global-recoveries"}, []string{"global_recoveries", "updated_by"}, "alice"},
		{[]string{"--json", "replication-analysis"}, []string{"detections", "1", "downtimed"}, true},
		{[]string{"-c", "replication-analysis", "--json"}, []string{"warnings", "0", "code"}, "NoPromotableReplica"},
		{[]string{"audit-failure-detection", "--json", "--limit", "3"}, []string{"detections", "2", "code"}, "DeadIntermediateMaster"},
		{[]string{"audit-failure-detection", "--json"}, []string{"detections", "1", "cleared_at"}, "2026-01-02T03:10:00Z"},
		{[]string{"downtimed", "--json"}, []string{"downtimes", "0", "ends_at"}, "2026-01-02T04:04:05Z"},
		{[]string{"begin-downtime", "-i", "db2:3306", "--duration", "1h", "--json"}, []string{"downtime", "ends_at"}, "2026-01-02T04:04:05Z"},
		{[]string{"-c", "begin-downtime", "-i", "db2:3306", "-duration", "1h", "--json"}, []string{"downtime", "owner"}, "alice"},
		{[]string{"graceful-master-takeover", "--cluster", "main", "-d", "db3:3306", "--json"}, []string{"recovery", "successor", "host"}, "db3"},
		{[]string{"-c", "recover", "-i", "db1:3306", "--json"}, []string{"recovery", "id"}, "rec-2"},
		{[]string{"register-candidate", "-i", "db3:3306", "--promotion-rule", "prefer", "--json"}, []string{"registration", "promotion_rule"}, "PROMOTION_RULE_PREFER"},
		{[]string{"candidates", "--json"}, []string{"registrations", "0", "expires_at"}, "2026-01-02T04:04:05Z"},
		{[]string{"readiness", "main", "--json"}, []string{"readiness", "would_promote", "host"}, "db2"},
		{[]string{"explain", "main", "--json"}, []string{"explanations", "0", "verdict"}, "VERDICT_VETOED"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := vigilctl(t, f.env(), tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var v any
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
			}
			for _, p := range tt.path {
				switch x := v.(type) {
				case map[string]any:
					v = x[p]
				case []any:
					i := int(p[0] - '0')
					if i >= len(x) {
						t.Fatalf("no element %d in %s", i, r.stdout)
					}
					v = x[i]
				}
			}
			if v != tt.want {
				t.Errorf("%s = %#v, want %#v in\n%s", strings.Join(tt.path, "."), v, tt.want, r.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}, {"-c", "help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := vigilctl(t, nil, args...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			for _, c := range commands {
				if !strings.Contains(r.stdout, "  "+c.name+" ") {
					t.Errorf("help does not list %s", c.name)
				}
				if !strings.Contains(r.stdout, c.summary) {
					t.Errorf("help lacks the summary of %s", c.name)
				}
			}
		})
	}
	r := vigilctl(t, nil, "help", "which-replicas")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage: vigilctl which-replicas -i host:port [--broken]") {
		t.Errorf("help which-replicas: exit %d, stdout %q", r.code, r.stdout)
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}
