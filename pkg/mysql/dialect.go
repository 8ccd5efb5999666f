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
}

// newDialect picks the statements for a flavour and version:
// MariaDB keeps the SLAVE/MASTER forms and has SHOW ALL SLAVES STATUS for
// multi-source; MySQL (and Percona) 8.0.22 renamed replica statements and
// 8.2 renamed SHOW MASTER STATUS (removed in 8.4).
func newDialect(flavor topologyv1.Flavor, v serverVersion) dialect {
	if flavor == topologyv1.Flavor_FLAVOR_MARIADB {
		return dialect{
			replicaStatus: "SHOW ALL SLAVES STATUS",
			replicaHosts:  "SHOW SLAVE HOSTS",
			binlogStatus:  "SHOW MASTER STATUS",
			stopIOThread:  "STOP SLAVE IO_THREAD",
			startIOThread: "START SLAVE IO_THREAD",
		}
	}
	d := dialect{
		replicaStatus: "SHOW SLAVE STATUS",
		replicaHosts:  "SHOW SLAVE HOSTS",
		binlogStatus:  "SHOW MASTER STATUS",
		stopIOThread:  "STOP SLAVE IO_THREAD",
		startIOThread: "START SLAVE IO_THREAD",
	}
	if v.atLeast(8, 0, 22) {
		d.replicaStatus = "SHOW REPLICA STATUS"
		d.replicaHosts = "SHOW REPLICAS"
		d.stopIOThread = "STOP REPLICA IO_THREAD"
		d.startIOThread = "START REPLICA IO_THREAD"
	}
	if v.atLeast(8, 2, 0) {
		d.binlogStatus = "SHOW BINARY LOG STATUS"
	}
	return d
}
