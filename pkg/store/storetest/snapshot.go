package storetest

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// NewSnapshot returns a snapshot as discovery records it for a MariaDB
// replica that probe finished at finished: server state, GTID positions, one
// replication channel and a replica, or an error and nothing else when
// reachable is false. It marshals to about 600 bytes (200 when unreachable).
func NewSnapshot(key topology.InstanceKey, finished time.Time, reachable bool) *topologyv1.Snapshot {
	s := &topologyv1.Snapshot{
		Key:            key.Proto(),
		ObserverId:     "discovery-7f9c4d6b8-x2lqp",
		ObserverDomain: "dc1",
		ProbeStarted:   timestamppb.New(finished.Add(-3 * time.Millisecond)),
		ProbeFinished:  timestamppb.New(finished),
		ReadOrder:      uint64(finished.UnixMicro()),
		Reachable:      reachable,
		Classification: &topologyv1.Classification{
			ClusterAlias:  "orders",
			ClusterDomain: "orders.db.example.com",
			DataCenter:    "dc1",
			Region:        "eu-west",
			PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_NEUTRAL,
		},
	}
	if !reachable {
		s.ErrorClass = topologyv1.ErrorClass_ERROR_CLASS_TIMEOUT
		s.Error = fmt.Sprintf("dial tcp %s: i/o timeout", key)
		return s
	}
	gtid := fmt.Sprintf("0-101-%d,1-102-%d", finished.Unix(), finished.Unix()/7)
	master := topology.InstanceKey{Host: "db-orders-1.dc1.example.com", Port: 3306}
	s.ServerTime = timestamppb.New(finished.Add(-time.Millisecond))
	s.Server = &topologyv1.Server{
		ServerId:          uint32(key.Port) + 1000,
		ServerUuid:        "3e11fa47-71ca-11e1-9e33-c80aa9429562",
		Version:           "10.11.6-MariaDB-0+deb12u1-log",
		VersionComment:    "Debian 12",
		Flavor:            topologyv1.Flavor_FLAVOR_MARIADB,
		MajorVersion:      "10.11",
		ReadOnly:          true,
		LogBin:            true,
		LogReplicaUpdates: true,
		BinlogFormat:      "ROW",
		BinlogRowImage:    "FULL",
		BinlogPosition:    &topologyv1.BinlogCoordinates{File: "mysql-bin.000042", Position: 81234567},
		GtidBinlogPos:     gtid,
		GtidSlavePos:      gtid,
		GtidCurrentPos:    gtid,
		SemiSync:          &topologyv1.SemiSync{ReplicaEnabled: true, ReplicaStatus: true, SourceTimeoutMs: 10000},
		Uptime:            durationpb.New(36 * time.Hour),
	}
	lag := int64(0)
	s.Channels = []*topologyv1.ReplicationChannel{{
		Source:              master.Proto(),
		IoThread:            topologyv1.ThreadState_THREAD_STATE_YES,
		SqlThread:           topologyv1.ThreadState_THREAD_STATE_YES,
		ReadPosition:        &topologyv1.BinlogCoordinates{File: "mysql-bin.000118", Position: 4567890},
		ExecPosition:        &topologyv1.BinlogCoordinates{File: "mysql-bin.000118", Position: 4567890},
		RelayLogPosition:    &topologyv1.BinlogCoordinates{File: "relay-bin.000007", Position: 1234},
		SecondsBehindSource: &lag,
		AutoPosition:        true,
		UsingGtid:           "Slave_Pos",
		SourceServerId:      101,
		HeartbeatPeriod:     1,
		ReceivedHeartbeats:  uint64(finished.Unix() % 100000),
	}}
	s.Replicas = []*topologyv1.ReplicaRef{{
		Key:      topology.InstanceKey{Host: "db-orders-9.dc1.example.com", Port: 3306}.Proto(),
		ServerId: 109,
	}}
	return s
}
