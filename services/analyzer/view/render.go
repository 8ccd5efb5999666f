package view

import (
	"fmt"
	"strings"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// RenderText renders a topology tree the way operators know from chatops:
//
//	127.0.0.1:24001     [0s,ok,10.11.9-MariaDB-log,rw,ROW,>>,GTID]
//	+ 127.0.0.1:24002   [0s,ok,10.11.9-MariaDB-log,ro,ROW,>>,GTID]
//
// Per instance: lag, status (ok, unreachable, nonreplicating, lagging),
// version, ro/rw, binlog format, ">>" when it logs replica updates, and the
// replication mode (GTID or file:pos).
func RenderText(root *topologyv1.TopologyNode, lagThresholdSeconds int64) string {
	type line struct{ left, right string }
	var lines []line
	var walk func(n *topologyv1.TopologyNode, depth int)
	walk = func(n *topologyv1.TopologyNode, depth int) {
		prefix := ""
		if depth > 0 {
			prefix = strings.Repeat("  ", depth-1) + "+ "
		}
		key := n.GetInstance().GetKey()
		lines = append(lines, line{
			left:  prefix + fmt.Sprintf("%s:%d", hostText(key.GetHost()), key.GetPort()),
			right: "[" + strings.Join(attributes(n.GetInstance(), lagThresholdSeconds), ",") + "]",
		})
		for _, r := range n.GetReplicas() {
			walk(r, depth+1)
		}
	}
	walk(root, 0)

	width := 0
	for _, l := range lines {
		width = max(width, len(l.left))
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s %s\n", width, l.left, l.right)
	}
	return b.String()
}

func hostText(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

func attributes(inst *topologyv1.Instance, lagThreshold int64) []string {
	snap := inst.GetSnapshot()
	// What the server is (version, flags) is last known from the last good
	// snapshot; how it is doing comes from the latest.
	known := snap
	if inst.GetLastGoodSnapshot() != nil {
		known = inst.GetLastGoodSnapshot()
	}
	srv := known.GetServer()
	isReplica := inst.GetMaster() != nil

	lag := "null"
	switch {
	case !snap.GetReachable():
	case isReplica && len(snap.GetChannels()) > 0 && snap.GetChannels()[0].SecondsBehindSource != nil:
		lag = fmt.Sprintf("%ds", snap.GetChannels()[0].GetSecondsBehindSource())
	case !isReplica:
		lag = "0s"
	}

	status := "ok"
	switch {
	case snap == nil:
		status = "unknown"
	case !snap.GetReachable():
		status = "unreachable"
	case isReplica && !inst.GetReplicating():
		status = "nonreplicating"
	case isReplica && len(snap.GetChannels()) > 0 && snap.GetChannels()[0].GetSecondsBehindSource() > lagThreshold:
		status = "lagging"
	}

	version := srv.GetVersion()
	if version == "" {
		version = "unknown"
	}
	ro := "rw"
	if srv.GetReadOnly() {
		ro = "ro"
	}
	format := srv.GetBinlogFormat()
	if !srv.GetLogBin() {
		format = "nobinlog"
	}
	attrs := []string{lag, status, version, ro, format}
	if srv.GetLogReplicaUpdates() {
		attrs = append(attrs, ">>")
	}
	attrs = append(attrs, replicationMode(known, isReplica))
	return attrs
}

func replicationMode(snap *topologyv1.Snapshot, isReplica bool) string {
	if isReplica {
		if len(snap.GetChannels()) > 0 && snap.GetChannels()[0].GetAutoPosition() {
			return "GTID"
		}
		return "file:pos"
	}
	srv := snap.GetServer()
	// MariaDB always writes GTIDs; MySQL only with gtid_mode=ON.
	if srv.GetFlavor() == topologyv1.Flavor_FLAVOR_MARIADB || srv.GetGtidMode() == "ON" {
		return "GTID"
	}
	return "file:pos"
}
