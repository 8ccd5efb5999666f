package shard

import (
	"fmt"
	"slices"
	"testing"
)

func keys(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("db-%d.example:3306", i))
	}
	return out
}

func ids(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestOwnersSpreadEvenly(t *testing.T) {
	members := []Member{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	count := map[string]int{}
	for _, k := range keys(3000) {
		for _, m := range Owners(k, members, 1) {
			count[m.ID]++
		}
	}
	for _, m := range members {
		if n := count[m.ID]; n < 850 || n > 1150 {
			t.Errorf("member %s owns %d of 3000, want about 1000 (%v)", m.ID, n, count)
		}
	}
}

func TestOwnersMoveOnlyWhatTheyMust(t *testing.T) {
	before := []Member{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	after := []Member{{ID: "a"}, {ID: "c"}} // b died
	for _, k := range keys(2000) {
		was, is := ids(Owners(k, before, 2)), ids(Owners(k, after, 2))
		for _, id := range was {
			if id != "b" && !slices.Contains(is, id) {
				t.Fatalf("%s: owners %v became %v: a surviving owner lost it", k, was, is)
			}
		}
	}
	// b back: it takes back exactly what it had.
	for _, k := range keys(2000) {
		if got, want := ids(Owners(k, []Member{{ID: "c"}, {ID: "b"}, {ID: "a"}}, 2)), ids(Owners(k, before, 2)); !slices.Equal(got, want) {
			t.Fatalf("%s: owners %v depend on member order (%v)", k, got, want)
		}
	}
}

func TestOwnersSpreadOverDomains(t *testing.T) {
	members := []Member{{ID: "a1", Domain: "dc1"}, {ID: "a2", Domain: "dc1"}, {ID: "a3", Domain: "dc1"}, {ID: "b1", Domain: "dc2"}}
	for _, k := range keys(500) {
		owners := Owners(k, members, 2)
		if len(owners) != 2 || owners[0].Domain == owners[1].Domain {
			t.Fatalf("%s: owners %v, want one in each domain", k, owners)
		}
	}
	// R above the number of domains: the rest by weight.
	for _, k := range keys(100) {
		if owners := Owners(k, members, 3); len(owners) != 3 {
			t.Fatalf("%s: %d owners, want 3", k, len(owners))
		}
	}
}

func TestOwnersEdgeCases(t *testing.T) {
	members := []Member{{ID: "a"}, {ID: "b"}}
	tests := []struct {
		name    string
		members []Member
		r, want int
	}{
		{"no members", nil, 1, 0},
		{"r zero", members, 0, 0},
		{"r above the members", members, 3, 2},
		{"r equal", members, 2, 2},
	}
	for _, tt := range tests {
		if got := len(Owners("k", tt.members, tt.r)); got != tt.want {
			t.Errorf("%s: %d owners, want %d", tt.name, got, tt.want)
		}
	}
	if !Owns("a", "k", members, 2) || Owns("z", "k", members, 2) {
		t.Error("Owns disagrees with Owners")
	}
}

func BenchmarkOwners(b *testing.B) {
	var members []Member
	for i := range 5 {
		members = append(members, Member{ID: fmt.Sprintf("discovery-%d", i), Domain: fmt.Sprintf("dc%d", i%3)})
	}
	ks := keys(1000)
	b.ResetTimer()
	for i := range b.N {
		Owners(ks[i%len(ks)], members, 3)
	}
}
