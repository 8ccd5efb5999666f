package mysql

import (
	"fmt"
	"strconv"
	"strings"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// serverVersion is the numeric part of a server version string.
type serverVersion struct {
	major, minor, patch int
}

// atLeast reports whether v is major.minor.patch or newer.
func (v serverVersion) atLeast(major, minor, patch int) bool {
	if v.major != major {
		return v.major > major
	}
	if v.minor != minor {
		return v.minor > minor
	}
	return v.patch >= patch
}

// majorString is the release series, such as "8.0" or "10.11".
func (v serverVersion) majorString() string {
	return strconv.Itoa(v.major) + "." + strconv.Itoa(v.minor)
}

// parseVersion reads the flavour and version from @@version and
// @@version_comment: "MariaDB" in the version means MariaDB, "Percona" in
// the comment means Percona Server, anything else is MySQL.
func parseVersion(version, comment string) (topologyv1.Flavor, serverVersion, error) {
	flavor := topologyv1.Flavor_FLAVOR_MYSQL
	switch {
	case strings.Contains(version, "MariaDB"):
		flavor = topologyv1.Flavor_FLAVOR_MARIADB
		// Old MariaDB reported "5.5.5-10.x" to fool old MySQL clients.
		version = strings.TrimPrefix(version, "5.5.5-")
	case strings.Contains(comment, "Percona"):
		flavor = topologyv1.Flavor_FLAVOR_PERCONA
	}
	numeric, _, _ := strings.Cut(version, "-")
	parts := strings.SplitN(numeric, ".", 3)
	if len(parts) < 2 {
		return topologyv1.Flavor_FLAVOR_UNSPECIFIED, serverVersion{}, fmt.Errorf("version %q: want major.minor[.patch]", version)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return topologyv1.Flavor_FLAVOR_UNSPECIFIED, serverVersion{}, fmt.Errorf("version %q: %q is not a number", version, p)
		}
		nums[i] = n
	}
	return flavor, serverVersion{nums[0], nums[1], nums[2]}, nil
}

// dialect is the SQL that differs between flavours and versions. It is the
// only place that knows which statement a given server understands.
type dialect struct {
	// replicaStatus lists every replication channel; its rows carry a
	// channel or connection name column.
	replicaStatus string
	// replicaHosts lists the replicas registered with this server.
	replicaHosts string
	// binlogStatus returns the server's own binary log coordinates.
	binlogStatus string
	// stopIOThread and startIOThread stop and start the IO thread of the
	// default channel.
	stopIOThread, startIOThread string
	// stopReplica, startReplica and resetReplicaAll stop, start and forget
	// replication on the default channel.
	stopReplica, startReplica, resetReplicaAll string
	// readOnly refuses writes from every client, including those with
	// SUPER where the server can; writable lifts it.
	readOnly, writable string
	// changeSource starts a statement that points the default channel at
	// a new source by GTID; the caller appends host and port.
	changeSource changeSourceWords
	// semiSyncSource is the variable that turns the semi-sync source
	// (master) side on.
	semiSyncSource string
	// executed returns the GTIDs the server executed (MariaDB: the last
	// one written to its binary log, per domain).
	executed string
	// waitExecuted waits, for at most its second argument in seconds,
	// until the server executed the GTIDs of its first; it returns 0 once
	// they are.
	waitExecuted string
	// adoptOwnBinlog, on a former master about to replicate, makes its
	// replication start after the transactions in its own binary log;
	// empty where auto-position does that by itself.
	adoptOwnBinlog string
}

// changeSourceWords are the keywords of a CHANGE MASTER / CHANGE
// REPLICATION SOURCE statement that repoints a replica by GTID.
type changeSourceWords struct {
	statement, host, port, gtid, user, password string
}

// newDialect picks the statements for a flavour and version:
// MariaDB keeps the SLAVE/MASTER forms and has SHOW ALL SLAVES STATUS for
// multi-source; MySQL (and Percona) 8.0.22 renamed replica statements and
// 8.2 renamed SHOW MASTER STATUS (removed in 8.4).
func newDialect(flavor topologyv1.Flavor, v serverVersion) dialect {
	if flavor == topologyv1.Flavor_FLAVOR_MARIADB {
		return dialect{
			replicaStatus:   "SHOW ALL SLAVES STATUS",
			replicaHosts:    "SHOW SLAVE HOSTS",
			binlogStatus:    "SHOW MASTER STATUS",
			stopIOThread:    "STOP SLAVE IO_THREAD",
			startIOThread:   "START SLAVE IO_THREAD",
			stopReplica:     "STOP SLAVE",
			startReplica:    "START SLAVE",
			resetReplicaAll: "RESET SLAVE ALL",
			// MariaDB has no super_read_only; read_only stops every
			// client without the READ_ONLY ADMIN privilege.
			readOnly:       "SET GLOBAL read_only=1",
			writable:       "SET GLOBAL read_only=0",
			changeSource:   changeSourceWords{"CHANGE MASTER TO", "MASTER_HOST", "MASTER_PORT", "MASTER_USE_GTID=slave_pos", "MASTER_USER", "MASTER_PASSWORD"},
			semiSyncSource: "rpl_semi_sync_master_enabled",
			executed:       "SELECT @@gtid_binlog_pos",
			waitExecuted:   "SELECT MASTER_GTID_WAIT(?, ?)",
			adoptOwnBinlog: "SET GLOBAL gtid_slave_pos=@@gtid_binlog_pos",
		}
	}
	d := dialect{
		replicaStatus:   "SHOW SLAVE STATUS",
		replicaHosts:    "SHOW SLAVE HOSTS",
		binlogStatus:    "SHOW MASTER STATUS",
		stopIOThread:    "STOP SLAVE IO_THREAD",
		startIOThread:   "START SLAVE IO_THREAD",
		stopReplica:     "STOP SLAVE",
		startReplica:    "START SLAVE",
		resetReplicaAll: "RESET SLAVE ALL",
		// super_read_only implies read_only; clearing read_only clears both.
		readOnly:       "SET GLOBAL super_read_only=1",
		writable:       "SET GLOBAL read_only=0",
		changeSource:   changeSourceWords{"CHANGE MASTER TO", "MASTER_HOST", "MASTER_PORT", "MASTER_AUTO_POSITION=1", "MASTER_USER", "MASTER_PASSWORD"},
		semiSyncSource: "rpl_semi_sync_master_enabled",
		executed:       "SELECT @@GLOBAL.gtid_executed",
		waitExecuted:   "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)",
	}
	if v.atLeast(8, 0, 22) {
		d.replicaStatus = "SHOW REPLICA STATUS"
		d.replicaHosts = "SHOW REPLICAS"
		d.stopIOThread = "STOP REPLICA IO_THREAD"
		d.startIOThread = "START REPLICA IO_THREAD"
		d.stopReplica = "STOP REPLICA"
		d.startReplica = "START REPLICA"
		d.resetReplicaAll = "RESET REPLICA ALL"
	}
	if v.atLeast(8, 0, 23) {
		d.changeSource = changeSourceWords{"CHANGE REPLICATION SOURCE TO", "SOURCE_HOST", "SOURCE_PORT", "SOURCE_AUTO_POSITION=1", "SOURCE_USER", "SOURCE_PASSWORD"}
	}
	if v.atLeast(8, 0, 26) {
		// The semisync_source plugin that replaces semisync_master.
		d.semiSyncSource = "rpl_semi_sync_source_enabled"
	}
	if v.atLeast(8, 2, 0) {
		d.binlogStatus = "SHOW BINARY LOG STATUS"
	}
	return d
}

// changeSourceTo is the statement that points the default channel at the
// source hostLiteral (a quoted SQL string) and port, by GTID.
func (d dialect) changeSourceTo(hostLiteral string, port uint16) string {
	w := d.changeSource
	return fmt.Sprintf("%s %s=%s, %s=%d, %s", w.statement, w.host, hostLiteral, w.port, port, w.gtid)
}
