package analysis

import (
	"strings"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// errantGTIDs returns, as text, the transactions a replica executed that its
// master never had ("" when none or when it cannot tell). MySQL: the
// replica's gtid_executed less the master's, less anything from the master's
// own line of ancestors. MariaDB: positions in the replica's binlog written
// under its own server_id that the master does not have.
func errantGTIDs(replica, master *topologyv1.Snapshot, g *topology.Graph, masterKey topology.InstanceKey) string {
	if replica == nil || master == nil {
		return ""
	}
	rs, ms := replica.GetServer(), master.GetServer()
	if rs.GetFlavor() == topologyv1.Flavor_FLAVOR_MARIADB {
		rpos, err1 := topology.ParseMariaDBGTIDPos(rs.GetGtidBinlogPos())
		mpos, err2 := topology.ParseMariaDBGTIDPos(ms.GetGtidBinlogPos())
		if err1 != nil || err2 != nil {
			return ""
		}
		var text []string
		for _, g := range topology.MariaDBErrant(rpos, mpos, rs.GetServerId()) {
			text = append(text, g.String())
		}
		return strings.Join(text, ",")
	}
	rset, err1 := topology.ParseGTIDSet(rs.GetGtidExecuted())
	mset, err2 := topology.ParseGTIDSet(ms.GetGtidExecuted())
	if err1 != nil || err2 != nil {
		return ""
	}
	errant := topology.ErrantGTIDs(rset, mset, ancestorUUIDs(g, masterKey))
	if errant.IsEmpty() {
		return ""
	}
	return errant.String()
}

// ancestorUUIDs returns the server UUIDs of key and of every master above it.
func ancestorUUIDs(g *topology.Graph, key topology.InstanceKey) []string {
	var uuids []string
	seen := map[topology.InstanceKey]bool{}
	for cur := key; !cur.IsZero() && !seen[cur]; {
		seen[cur] = true
		n, ok := g.Nodes[cur]
		if !ok {
			break
		}
		if u := n.Obs.LastGood.GetServer().GetServerUuid(); u != "" {
			uuids = append(uuids, u)
		}
		cur = n.Master
	}
	return uuids
}
