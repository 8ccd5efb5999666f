package mysql

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// variablesQuery reads every server variable a snapshot records, under the
// names of every flavour and version; names a server does not have are
// simply absent from the result.
var variablesQuery = showWhereIn("SHOW GLOBAL VARIABLES", []string{
	"version", "version_comment", "server_id", "server_uuid",
	"read_only", "super_read_only", "log_bin", "log_slave_updates", "log_replica_updates",
	"binlog_format", "binlog_row_image",
	"gtid_mode", "gtid_executed", "gtid_purged",
	"gtid_binlog_pos", "gtid_slave_pos", "gtid_current_pos",
	"rpl_semi_sync_master_enabled", "rpl_semi_sync_source_enabled",
	"rpl_semi_sync_slave_enabled", "rpl_semi_sync_replica_enabled",
	"rpl_semi_sync_master_timeout", "rpl_semi_sync_source_timeout",
	"rpl_semi_sync_master_wait_for_slave_count", "rpl_semi_sync_source_wait_for_replica_count",
})

// statusQuery reads the status counters a snapshot records.
var statusQuery = showWhereIn("SHOW GLOBAL STATUS", []string{
	"Uptime",
	"Rpl_semi_sync_master_status", "Rpl_semi_sync_source_status",
	"Rpl_semi_sync_slave_status", "Rpl_semi_sync_replica_status",
	"Rpl_semi_sync_master_clients", "Rpl_semi_sync_source_clients",
	"Slaves_connected", // MariaDB only; decides whether to search the processlist
})

func showWhereIn(show string, names []string) string {
	return show + " WHERE Variable_name IN ('" + strings.Join(names, "', '") + "')"
}

// parseVariables builds the Server message from SHOW GLOBAL VARIABLES
// (names lower-case). It fills what it can and returns the first problem.
func parseVariables(vars row) (*topologyv1.Server, error) {
	s := &topologyv1.Server{
		Version:        vars.str("version"),
		VersionComment: vars.str("version_comment"),
		ServerUuid:     vars.str("server_uuid"),
		BinlogFormat:   vars.str("binlog_format"),
		BinlogRowImage: vars.str("binlog_row_image"),
		GtidMode:       vars.str("gtid_mode"),
		GtidExecuted:   oneLine(vars.str("gtid_executed")),
		GtidPurged:     oneLine(vars.str("gtid_purged")),
		GtidBinlogPos:  vars.str("gtid_binlog_pos"),
		GtidSlavePos:   vars.str("gtid_slave_pos"),
		GtidCurrentPos: vars.str("gtid_current_pos"),
	}
	var errs []error
	flavor, v, err := parseVersion(s.Version, s.VersionComment)
	if err != nil {
		errs = append(errs, err)
	} else {
		s.Flavor, s.MajorVersion = flavor, v.majorString()
	}
	id, err := vars.uint(32, "server_id")
	errs = append(errs, err)
	s.ServerId = uint32(id)
	flags := []struct {
		dst   *bool
		names []string
	}{
		{&s.ReadOnly, []string{"read_only"}},
		{&s.SuperReadOnly, []string{"super_read_only"}},
		{&s.LogBin, []string{"log_bin"}},
		{&s.LogReplicaUpdates, []string{"log_replica_updates", "log_slave_updates"}},
	}
	for _, f := range flags {
		*f.dst, err = vars.bool(f.names...)
		errs = append(errs, err)
	}
	s.SemiSync, err = parseSemiSyncVariables(vars)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("server variables: %w", err)
	}
	return s, nil
}

// parseSemiSyncVariables reads the semi-sync configuration, or nil when the
// server has no semi-sync support loaded.
func parseSemiSyncVariables(vars row) (*topologyv1.SemiSync, error) {
	const prefix = "rpl_semi_sync_"
	present := false
	for name := range vars {
		if strings.HasPrefix(name, prefix) {
			present = true
			break
		}
	}
	if !present {
		return nil, nil
	}
	var ss topologyv1.SemiSync
	var errs [5]error
	ss.SourceEnabled, errs[0] = vars.bool("rpl_semi_sync_source_enabled", "rpl_semi_sync_master_enabled")
	ss.ReplicaEnabled, errs[1] = vars.bool("rpl_semi_sync_replica_enabled", "rpl_semi_sync_slave_enabled")
	timeout, err := vars.uint(64, "rpl_semi_sync_source_timeout", "rpl_semi_sync_master_timeout")
	ss.SourceTimeoutMs, errs[2] = timeout, err
	count, err := vars.uint(32, "rpl_semi_sync_source_wait_for_replica_count", "rpl_semi_sync_master_wait_for_slave_count")
	ss.SourceWaitForReplicaCount, errs[3] = uint32(count), err
	return &ss, errors.Join(errs[:]...)
}

// applyStatus adds SHOW GLOBAL STATUS values (names lower-case) to s.
func applyStatus(s *topologyv1.Server, status row) error {
	var errs []error
	if up, err := status.uint(63, "uptime"); err != nil {
		errs = append(errs, err)
	} else if _, ok := status.value("uptime"); ok {
		s.Uptime = durationpb.New(time.Duration(up) * time.Second)
	}
	if _, ok := status.value("rpl_semi_sync_source_status", "rpl_semi_sync_master_status",
		"rpl_semi_sync_replica_status", "rpl_semi_sync_slave_status"); ok {
		if s.SemiSync == nil {
			s.SemiSync = &topologyv1.SemiSync{}
		}
		var err error
		s.SemiSync.SourceStatus, err = status.bool("rpl_semi_sync_source_status", "rpl_semi_sync_master_status")
		errs = append(errs, err)
		s.SemiSync.ReplicaStatus, err = status.bool("rpl_semi_sync_replica_status", "rpl_semi_sync_slave_status")
		errs = append(errs, err)
		clients, err := status.uint(32, "rpl_semi_sync_source_clients", "rpl_semi_sync_master_clients")
		s.SemiSync.SourceClients = uint32(clients)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("server status: %w", err)
	}
	return nil
}

// parseBinlogStatus reads SHOW MASTER STATUS / SHOW BINARY LOG STATUS; no
// row (binary log off) gives nil.
func parseBinlogStatus(rows []row) (*topologyv1.BinlogCoordinates, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	pos, err := rows[0].uint(64, "position")
	if err != nil {
		return nil, fmt.Errorf("binlog status: %w", err)
	}
	return &topologyv1.BinlogCoordinates{File: rows[0].str("file"), Position: pos}, nil
}

// oneLine joins the lines MySQL puts between the members of a GTID set.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}
