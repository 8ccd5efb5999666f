// Package shard assigns instances to discovery members by rendezvous
// (highest random weight) hashing: every member that knows the same live
// members computes the same owners for an instance, with no coordination,
// and when a member joins or leaves only the instances it gains or held
// move. With a replication factor R each instance has R owners, spread
// over distinct failure domains while there are enough of them.
package shard

import (
	"cmp"
	"hash/fnv"
	"slices"
)

// Member is one live discovery member.
type Member struct {
	ID string
	// Domain is its failure domain (data centre); "" is a domain too.
	Domain string
}

// Owners returns the r members that own key, most preferred first: members
// in order of their weight for key, skipping a member whose domain an
// earlier owner already covers until every domain is covered once. It
// returns every member when there are r or fewer.
func Owners(key string, members []Member, r int) []Member {
	if r <= 0 || len(members) == 0 {
		return nil
	}
	ranked := slices.Clone(members)
	slices.SortFunc(ranked, func(a, b Member) int {
		return cmp.Or(cmp.Compare(weight(b.ID, key), weight(a.ID, key)), cmp.Compare(a.ID, b.ID))
	})
	if len(ranked) <= r {
		return ranked
	}
	out := make([]Member, 0, r)
	taken := make(map[string]bool)
	covered := make(map[string]bool)
	// First pass: one owner per domain, by weight; second: by weight alone.
	for _, distinct := range []bool{true, false} {
		for _, m := range ranked {
			if len(out) == r {
				return out
			}
			if taken[m.ID] || (distinct && covered[m.Domain]) {
				continue
			}
			out = append(out, m)
			taken[m.ID], covered[m.Domain] = true, true
		}
	}
	return out
}

// Owns reports whether the member id is one of key's r owners.
func Owns(id, key string, members []Member, r int) bool {
	return slices.ContainsFunc(Owners(key, members, r), func(m Member) bool { return m.ID == id })
}

// weight is a member's pseudo-random weight for a key: FNV-1a of both,
// then a 64-bit finaliser so that similar names spread evenly.
func weight(member, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(member))
	h.Write([]byte{0})
	h.Write([]byte(key))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
