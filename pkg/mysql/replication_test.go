package mysql

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

const (
	uuid1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	uuid2 = "a5f3b6e2-9c41-11ee-8c90-0242ac120002"
	uuid3 = "d1c2a3b4-9c41-11ee-8c90-0242ac120003"
)

var (
	yes        = topologyv1.ThreadState_THREAD_STATE_YES
	no         = topologyv1.ThreadState_THREAD_STATE_NO
	connecting = topologyv1.ThreadState_THREAD_STATE_CONNECTING
)

func ptr[T any](v T) *T { return &v }

func key(host string, port uint32) *topologyv1.InstanceKey {
	return &topologyv1.InstanceKey{Host: host, Port: port}
}

func coords(file string, pos uint64) *topologyv1.BinlogCoordinates {
	return &topologyv1.BinlogCoordinates{File: file, Position: pos}
}

func TestParseReplicaStatusFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []*topologyv1.ReplicationChannel // in the file's row order
	}{
		{"mysql-8.0-show-replica-status.txt", []*topologyv1.ReplicationChannel{{
			Source:              key("db1.dc1.example.com", 3306),
			IoThread:            yes,
			SqlThread:           yes,
			ReadPosition:        coords("binlog.000012", 86412),
			ExecPosition:        coords("binlog.000012", 86412),
			RelayLogPosition:    coords("relay-bin.000004", 86628),
			SecondsBehindSource: ptr[int64](0),
			AutoPosition:        true,
			RetrievedGtidSet:    uuid1 + ":1-1120",
			ExecutedGtidSet:     uuid1 + ":1-1120," + uuid2 + ":1-7",
			SourceUuid:          uuid1,
			SourceServerId:      101,
		}, {
			Name:             "source_2",
			Source:           key("db9.dc2.example.com", 3307),
			IoThread:         connecting,
			SqlThread:        yes,
			ReadPosition:     coords("", 4),
			RelayLogPosition: coords("relay-bin-source_2.000001", 4),
			AutoPosition:     true,
			ExecutedGtidSet:  uuid1 + ":1-1120," + uuid2 + ":1-7",
		}}},
		{"mysql-8.4-show-replica-status.txt", []*topologyv1.ReplicationChannel{{
			Source:           key("db1.dc1.example.com", 3306),
			IoThread:         connecting,
			SqlThread:        yes,
			LastIoErrno:      2003,
			LastIoError:      "error connecting to source 'repl@db1.dc1.example.com:3306' - retry-time: 60 retries: 3 message: Can't connect to MySQL server on 'db1.dc1.example.com:3306' (111)",
			ReadPosition:     coords("binlog.000012", 90211),
			ExecPosition:     coords("binlog.000012", 90211),
			RelayLogPosition: coords("relay-bin.000005", 3812),
			AutoPosition:     true,
			RetrievedGtidSet: uuid1 + ":1-1188",
			ExecutedGtidSet:  uuid1 + ":1-1188," + uuid2 + ":1-7",
			SourceUuid:       uuid1,
			SourceServerId:   101,
		}, {
			Name:         "archive",
			Source:       key("archive.dc3.example.com", 3306),
			IoThread:     no,
			SqlThread:    no,
			LastIoErrno:  2003,
			LastIoError:  "error connecting to source 'repl@archive.dc3.example.com:3306' - retry-time: 60 retries: 3 message: Can't connect to MySQL server on 'archive.dc3.example.com:3306' (111)",
			LastSqlErrno: 1062,
			LastSqlError: "Coordinator stopped because there were error(s) in the worker(s). The most recent failure being: " +
				"Worker 1 failed executing transaction '" + uuid3 + ":518' at source log binlog.000003, end_log_pos 9912; " +
				"Could not execute Write_rows event on table shop.orders; Duplicate entry '42' for key 'orders.PRIMARY', " +
				"Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's source log binlog.000003, " +
				"end_log_pos 9912. See error log and/or performance_schema.replication_applier_status_by_worker " +
				"table for more details about this failure or others, if any.",
			ReadPosition:     coords("binlog.000003", 12840),
			ExecPosition:     coords("binlog.000003", 9024),
			RelayLogPosition: coords("relay-bin-archive.000002", 9240),
			SqlDelay:         3600,
			RetrievedGtidSet: uuid3 + ":1-530",
			ExecutedGtidSet:  uuid1 + ":1-1188," + uuid2 + ":1-7," + uuid3 + ":1-517",
			HasFilters:       true,
			SourceUuid:       uuid3,
			SourceServerId:   301,
		}}},
		{"mysql-5.7-show-slave-status.txt", []*topologyv1.ReplicationChannel{{
			Source:              key("10.0.1.15", 3306),
			IoThread:            yes,
			SqlThread:           yes,
			ReadPosition:        coords("mysql-bin.000231", 73104588),
			ExecPosition:        coords("mysql-bin.000231", 70010234),
			RelayLogPosition:    coords("db2-relay-bin.000688", 7319021),
			SecondsBehindSource: ptr[int64](17),
			SourceUuid:          "6c27ed6d-7ee1-11e3-be39-6c626d957cff",
			SourceServerId:      15,
		}}},
		{"mariadb-10.11-show-all-slaves-status.txt", []*topologyv1.ReplicationChannel{{
			Source:              key("127.0.0.1", 3306),
			IoThread:            yes,
			SqlThread:           yes,
			ReadPosition:        coords("mysql-bin.000001", 812),
			ExecPosition:        coords("mysql-bin.000001", 812),
			RelayLogPosition:    coords("relay-bin.000002", 1111),
			SecondsBehindSource: ptr[int64](0),
			AutoPosition:        true,
			UsingGtid:           "Slave_Pos",
			RetrievedGtidSet:    "0-101-3",
			ExecutedGtidSet:     "0-101-3",
			SourceServerId:      101,
			HeartbeatPeriod:     1,
			ReceivedHeartbeats:  1,
		}, {
			Name:             "dc2",
			Source:           key("127.0.0.1", 1),
			IoThread:         connecting,
			SqlThread:        yes,
			LastIoErrno:      2003,
			LastIoError:      `error connecting to master 'repl@127.0.0.1:1' - retry-time: 1  maximum-retries: 100000  message: Can't connect to server on '127.0.0.1' (111 "Connection refused")`,
			ReadPosition:     coords("", 4),
			RelayLogPosition: coords("relay-bin-dc2.000001", 4),
			UsingGtid:        "No",
			ExecutedGtidSet:  "0-101-3",
			HasFilters:       true,
			HeartbeatPeriod:  2,
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rows := readVertical(t, filepath.Join("testdata", tt.file))
			if len(rows) != len(tt.want) {
				t.Fatalf("%d rows, want %d", len(rows), len(tt.want))
			}
			for i, r := range rows {
				got, err := parseReplicaStatus(r)
				if err != nil {
					t.Errorf("row %d: %v", i+1, err)
				}
				if diff := cmp.Diff(tt.want[i], got, protocmp.Transform()); diff != "" {
					t.Errorf("row %d (-want +got):\n%s", i+1, diff)
				}
			}
		})
	}
}

func TestParseReplicaStatusRowsDefaultFirst(t *testing.T) {
	rows := []row{
		{"channel_name": "b", "replica_io_running": "Yes"},
		{"channel_name": "", "replica_io_running": "No"},
		{"channel_name": "a", "replica_io_running": "Connecting"},
	}
	channels, err := parseReplicaStatusRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range channels {
		names = append(names, c.GetName())
	}
	if diff := cmp.Diff([]string{"", "b", "a"}, names); diff != "" {
		t.Errorf("channel order (-want +got):\n%s", diff)
	}
}

func TestParseReplicaStatusErrors(t *testing.T) {
	tests := []struct {
		name string
		row  row
	}{
		{"bad errno", row{"last_io_errno": "x"}},
		{"bad lag", row{"seconds_behind_master": "soon"}},
		{"bad port", row{"master_port": "70000"}},
		{"bad heartbeat", row{"slave_heartbeat_period": "1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseReplicaStatus(tt.row)
			if err == nil {
				t.Error("no error")
			}
			if c == nil {
				t.Error("no partial result")
			}
		})
	}
}

func TestThreadState(t *testing.T) {
	tests := map[string]topologyv1.ThreadState{
		"Yes": yes, "No": no, "Connecting": connecting, "Preparing": connecting,
		"": topologyv1.ThreadState_THREAD_STATE_UNSPECIFIED, "Maybe": topologyv1.ThreadState_THREAD_STATE_UNSPECIFIED,
	}
	for in, want := range tests {
		if got := threadState(in); got != want {
			t.Errorf("threadState(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseReplicaHosts(t *testing.T) {
	tests := []struct {
		name    string
		rows    []row
		ownPort uint32
		want    []*topologyv1.ReplicaRef
	}{
		{"mysql 8.4 SHOW REPLICAS", readVertical(t, "testdata/mysql-8.4-show-replicas.txt"), 3306, []*topologyv1.ReplicaRef{
			{Key: key("db2.dc1.example.com", 3306), ServerId: 102},
			{Key: key("db3.dc2.example.com", 3307), ServerId: 103},
		}},
		{"mariadb SHOW SLAVE HOSTS", []row{
			{"server_id": "42253", "host": "127.0.0.1", "port": "42253", "master_id": "46075"},
			{"server_id": "7", "host": "db7", "port": "0", "master_id": "46075"},
		}, 46075, []*topologyv1.ReplicaRef{
			{Key: key("127.0.0.1", 42253), ServerId: 42253},
			{Key: key("db7", 46075), ServerId: 7},
		}},
		{"no host reported", []row{{"server_id": "9", "host": "", "port": "3306"}}, 3306, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseReplicaHosts(tt.rows, tt.ownPort)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseProcesslistReplicas(t *testing.T) {
	var rows []row
	for _, h := range []string{"127.0.0.1:57014", "127.0.0.1:57010", "10.0.0.8:40000", "db9.example.com:3999", "localhost", ""} {
		rows = append(rows, row{"host": h, "command": "Binlog Dump"})
	}
	rows = append(rows,
		row{"host": "10.0.0.9:41000", "command": "Binlog Dump GTID"},
		row{"host": "10.0.0.10:42000", "command": "Query"},
		row{"host": "localhost", "command": "Sleep"},
	)
	want := []*topologyv1.ReplicaRef{
		{Key: key("127.0.0.1", 3306)},
		{Key: key("10.0.0.8", 3306)},
		{Key: key("db9.example.com", 3306)},
		{Key: key("localhost", 3306)},
		{Key: key("10.0.0.9", 3306)},
	}
	got := parseProcesslistReplicas(rows, 3306)
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
