package topology

import "slices"

// ErrantGTIDs returns the transactions a MySQL replica executed that its
// master does not have and that did not come down the replication chain:
// replicaExecuted minus masterExecuted, then without any transaction whose
// server UUID is in ancestorUUIDs. A non-empty result means the replica holds
// data the rest of the cluster does not (a write made on the replica, or
// history left from an earlier master), so it must not be promoted.
//
// The caller reads the master after the replicas. A transaction reaches a
// replica only after its master logged it, so anything the replica had when
// it was read is already in a master snapshot taken later; reading in the
// other order would report every transaction that arrived in between. (The
// master's own UUID is among the ancestors, which also covers the short
// window where semi-sync AFTER_SYNC lets a replica apply a transaction just
// before the master adds it to gtid_executed.)
//
// ancestorUUIDs are the server_uuids of the master and of the masters above
// it, up to the top of the tree, as orchestrator and VTOrc compute errant
// GTIDs. A transaction stamped with an ancestor's UUID was written on that
// ancestor and reached the replica through replication, so it is never a
// write of the replica's own, even when the master's set lacks it:
//   - a replica moved under a sibling intermediate master that lags behind
//     it already has upstream transactions its new master has yet to apply;
//   - a master whose binary logs and GTIDs were reset, or that was rebuilt
//     from a backup, may miss the older history of its own ancestors;
//   - a master snapshot that is not strictly newer than the replica's (a
//     cached or slow probe) misses the latest upstream transactions.
//
// Do not pass the replica's own server_uuid: its writes are exactly what
// errant transactions carry. The one exception is a co-master ring, where
// the replica is also its master's master and its own recent writes are
// expected on the other side only after a delay; callers that want those
// ignored pass its UUID as part of the ring's ancestry. UUIDs of servers no
// longer in the chain (for example a failed master whose last transactions
// the new master never received) are not excluded, and such transactions are
// reported: the replica really does have data its master lacks.
func ErrantGTIDs(replicaExecuted, masterExecuted GTIDSet, ancestorUUIDs []string) GTIDSet {
	return replicaExecuted.Subtract(masterExecuted).RemoveUUIDs(ancestorUUIDs...)
}

// MariaDBErrant returns, sorted by domain, the last GTID of each domain in
// which a MariaDB replica logged transactions of its own that its master
// does not have, comparing both servers' gtid_binlog_pos. Nil means none.
//
// A replica's gtid_binlog_pos holds, per domain, the last transaction it
// wrote to its binary log. Replicated transactions logged with
// log_slave_updates keep the server_id of the server that first executed
// them; only a write made on the replica itself is logged under the
// replica's server_id, with the next sequence number of the domain. So a
// domain is reported when the replica's last GTID there carries
// replicaServerID and either the master lacks the domain, or the replica's
// sequence number is beyond the master's, or it equals the master's under a
// different server_id: with gtid_strict_mode a server logs each sequence
// number of a domain at most once, so two GTIDs with the same domain and
// sequence number but different server_ids are two different transactions.
//
// A replica GTID with its own server_id at or below the master's sequence
// number is not reported: it is typically history from when the replica was
// itself the master, which the current master replicated. The master must be
// read after the replica, for the reason given in ErrantGTIDs.
//
// Positions keep only the last GTID per domain, so this sees a local write
// only while it is the latest transaction of its domain on the replica.
// With gtid_strict_mode that holds: when the master later sends a
// transaction with the same or a lower sequence number, the replica stops
// with an out-of-order sequence number error (1950) instead of logging it,
// and that broken replication is reported on its own. Without
// gtid_strict_mode, a local write that later replicated transactions
// overtook is invisible here; finding it takes gtid_binlog_state.
func MariaDBErrant(replicaBinlogPos, masterBinlogPos MariaDBGTIDPos, replicaServerID uint32) []MariaDBGTID {
	var errant []MariaDBGTID
	for _, d := range replicaBinlogPos.Domains() {
		g := replicaBinlogPos[d]
		g.Domain = d
		if g.ServerID != replicaServerID {
			continue
		}
		m, ok := masterBinlogPos[d]
		if !ok || g.Seq > m.Seq || (g.Seq == m.Seq && g.ServerID != m.ServerID) {
			errant = append(errant, g)
		}
	}
	return slices.Clip(errant)
}
