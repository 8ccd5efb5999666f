package candidate

import (
	"cmp"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// position is how far a replica got: the GTIDs it executed, in its flavour's
// form. A position that could not be read is unknown and contains nothing.
type position struct {
	mariadb topology.MariaDBGTIDPos // MariaDB: gtid_slave_pos
	mysql   topology.GTIDSet        // MySQL: gtid_executed
	known   bool
	isMaria bool
}

func positionOf(s *topologyv1.Snapshot) position {
	srv := s.GetServer()
	if srv.GetFlavor() == topologyv1.Flavor_FLAVOR_MARIADB {
		text := srv.GetGtidSlavePos()
		if text == "" {
			text = srv.GetGtidBinlogPos()
		}
		p, err := topology.ParseMariaDBGTIDPos(text)
		return position{mariadb: p, known: err == nil, isMaria: true}
	}
	set, err := topology.ParseGTIDSet(srv.GetGtidExecuted())
	return position{mysql: set, known: err == nil && srv.GetGtidMode() == "ON"}
}

func (p position) unknown() bool { return !p.known }

// contains reports whether p executed everything q did.
func (p position) contains(q position) bool {
	switch {
	case !p.known || !q.known || p.isMaria != q.isMaria:
		return false
	case p.isMaria:
		return p.mariadb.AtLeast(q.mariadb)
	}
	return p.mysql.Contains(q.mysql)
}

// compare orders positions by how far they got: one that contains the other
// is further; of two that diverged, the one with more transactions.
func (p position) compare(q position) int {
	pq, qp := p.contains(q), q.contains(p)
	switch {
	case pq && !qp:
		return 1
	case qp && !pq:
		return -1
	case pq && qp:
		return 0
	}
	return cmp.Compare(p.size(), q.size())
}

func (p position) size() uint64 {
	if p.isMaria {
		var n uint64
		for _, g := range p.mariadb {
			n += g.Seq
		}
		return n
	}
	return p.mysql.Count()
}

// CaughtUp reports whether replica executed everything holder did.
func CaughtUp(replica, holder *topologyv1.Snapshot) bool {
	return positionOf(replica).contains(positionOf(holder))
}
