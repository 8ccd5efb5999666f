package topology

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// MariaDBGTID is one MariaDB global transaction ID, "domain-server-seq": the
// replication domain, the server_id of the server that first logged the
// transaction, and its sequence number within the domain.
type MariaDBGTID struct {
	Domain   uint32
	ServerID uint32
	Seq      uint64
}

// ParseMariaDBGTID parses one "domain-server-seq" GTID. Errors wrap
// ErrInvalidGTID.
func ParseMariaDBGTID(s string) (MariaDBGTID, error) {
	g, err := parseMariaDBGTID(strings.TrimSpace(s))
	if err != nil {
		return MariaDBGTID{}, fmt.Errorf("%w: %w", ErrInvalidGTID, err)
	}
	return g, nil
}

func parseMariaDBGTID(text string) (MariaDBGTID, error) {
	parts := strings.Split(text, "-")
	if len(parts) != 3 {
		return MariaDBGTID{}, fmt.Errorf("%q is not domain-server-seq", text)
	}
	domain, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil {
		return MariaDBGTID{}, fmt.Errorf("%q: domain %q is not a number from 0 to 4294967295", text, parts[0])
	}
	server, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return MariaDBGTID{}, fmt.Errorf("%q: server_id %q is not a number from 0 to 4294967295", text, parts[1])
	}
	seq, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil {
		return MariaDBGTID{}, fmt.Errorf("%q: sequence number %q is not an unsigned 64-bit number", text, parts[2])
	}
	return MariaDBGTID{Domain: uint32(domain), ServerID: uint32(server), Seq: seq}, nil
}

// String returns "domain-server-seq".
func (g MariaDBGTID) String() string {
	return fmt.Sprintf("%d-%d-%d", g.Domain, g.ServerID, g.Seq)
}

// MariaDBGTIDPos is a MariaDB GTID position, as in gtid_binlog_pos,
// gtid_slave_pos, gtid_current_pos and Gtid_IO_Pos: the last GTID of each
// replication domain, keyed by domain. Methods take the domain from the key;
// ParseMariaDBGTIDPos also sets it in each value.
//
// Within a domain, positions are ordered by sequence number alone: with
// gtid_strict_mode a server never logs a sequence number at or below one it
// already has in that domain, whichever server_id the transaction carries.
type MariaDBGTIDPos map[uint32]MariaDBGTID

// ParseMariaDBGTIDPos parses a comma-separated list of "domain-server-seq"
// GTIDs, with any spaces or newlines around them. Blank text is the empty
// position. A position holds at most one GTID per domain, so a repeated
// domain is an error (gtid_binlog_state, which holds one per domain and
// server, is a different value). Errors wrap ErrInvalidGTID.
func ParseMariaDBGTIDPos(s string) (MariaDBGTIDPos, error) {
	pos := MariaDBGTIDPos{}
	if strings.TrimSpace(s) == "" {
		return pos, nil
	}
	for entry := range strings.SplitSeq(s, ",") {
		g, err := parseMariaDBGTID(strings.TrimSpace(entry))
		if err != nil {
			return nil, fmt.Errorf("%w: position %q: %w", ErrInvalidGTID, strings.TrimSpace(s), err)
		}
		if prev, ok := pos[g.Domain]; ok {
			return nil, fmt.Errorf("%w: position %q: domain %d appears twice (%s and %s)", ErrInvalidGTID, strings.TrimSpace(s), g.Domain, prev, g)
		}
		pos[g.Domain] = g
	}
	return pos, nil
}

// String returns the position as MariaDB prints it, sorted by domain.
func (p MariaDBGTIDPos) String() string {
	parts := make([]string, 0, len(p))
	for _, d := range p.Domains() {
		g := p[d]
		g.Domain = d
		parts = append(parts, g.String())
	}
	return strings.Join(parts, ",")
}

// Domains returns the domains of the position, sorted.
func (p MariaDBGTIDPos) Domains() []uint32 {
	return slices.Sorted(maps.Keys(p))
}

// AtLeast reports whether p has reached other in every domain of other: p
// has the domain with a sequence number at or above other's. Server IDs are
// not compared.
func (p MariaDBGTIDPos) AtLeast(other MariaDBGTIDPos) bool {
	for d, want := range other {
		have, ok := p[d]
		if !ok || have.Seq < want.Seq {
			return false
		}
	}
	return true
}

// DomainsAhead returns, sorted, the domains in which p is beyond other: p's
// sequence number is higher, or other lacks the domain.
func (p MariaDBGTIDPos) DomainsAhead(other MariaDBGTIDPos) []uint32 {
	var ahead []uint32
	for _, d := range p.Domains() {
		if theirs, ok := other[d]; !ok || p[d].Seq > theirs.Seq {
			ahead = append(ahead, d)
		}
	}
	return ahead
}
