package topology

import (
	"slices"
	"testing"
)

func TestErrantGTIDs(t *testing.T) {
	// uuidA is the top master, uuidB the intermediate master the replica
	// replicates from, uuidC the replica itself.
	ancestors := []string{uuidB, uuidA}
	tests := []struct {
		name      string
		replica   string
		master    string
		ancestors []string
		want      string
	}{
		{
			name:    "replica equal to master",
			replica: uuidA + ":1-100," + uuidB + ":1-5", master: uuidA + ":1-100," + uuidB + ":1-5",
			ancestors: ancestors, want: "",
		},
		{
			name:    "replica behind master",
			replica: uuidA + ":1-90," + uuidB + ":1-3", master: uuidA + ":1-100," + uuidB + ":1-5",
			ancestors: ancestors, want: "",
		},
		{
			name:    "local transactions on the replica",
			replica: uuidA + ":1-100," + uuidC + ":1-2", master: uuidA + ":1-100",
			ancestors: ancestors, want: uuidC + ":1-2",
		},
		{
			name:    "local transactions while behind",
			replica: uuidA + ":1-90," + uuidC + ":1-2", master: uuidA + ":1-100",
			ancestors: ancestors, want: uuidC + ":1-2",
		},
		{
			name:    "only the part of the replica's uuid the master lacks",
			replica: uuidA + ":1-100," + uuidC + ":1-7", master: uuidA + ":1-100," + uuidC + ":1-5",
			ancestors: ancestors, want: uuidC + ":6-7",
		},
		{
			name:    "ancestor transactions the master lacks are excluded",
			replica: uuidA + ":1-110," + uuidB + ":1-6", master: uuidA + ":1-100," + uuidB + ":1-5",
			ancestors: ancestors, want: "",
		},
		{
			name:    "ancestor uuids in upper case are excluded",
			replica: uuidA + ":1-110", master: uuidA + ":1-100",
			ancestors: []string{"3E11FA47-71CA-11E1-9E33-C80AA9429562"}, want: "",
		},
		{
			name:    "ancestor's tagged transactions are excluded too",
			replica: uuidA + ":1-100:batch:1-3", master: uuidA + ":1-100",
			ancestors: ancestors, want: "",
		},
		{
			name:    "without ancestors every missing transaction counts",
			replica: uuidA + ":1-110", master: uuidA + ":1-100",
			ancestors: nil, want: uuidA + ":101-110",
		},
		{
			name:    "tagged local transaction",
			replica: uuidA + ":1-100," + uuidC + ":fix:1", master: uuidA + ":1-100",
			ancestors: ancestors, want: uuidC + ":fix:1",
		},
		{
			name:    "history of a server no longer in the chain",
			replica: uuidA + ":1-100," + uuidC + ":1-50", master: uuidA + ":1-100," + uuidC + ":1-48",
			ancestors: []string{uuidA}, want: uuidC + ":49-50",
		},
		{
			name:    "empty replica",
			replica: "", master: uuidA + ":1-100",
			ancestors: ancestors, want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replica, master := mustParseGTIDSet(t, tt.replica), mustParseGTIDSet(t, tt.master)
			if got := ErrantGTIDs(replica, master, tt.ancestors).String(); got != tt.want {
				t.Errorf("ErrantGTIDs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMariaDBErrant(t *testing.T) {
	// Server 1 is the master, server 2 the replica, server 3 an old master.
	const replicaID = 2
	tests := []struct {
		name    string
		replica string
		master  string
		want    []string
	}{
		{name: "equal", replica: "0-1-100", master: "0-1-100"},
		{name: "both empty", replica: "", master: ""},
		{name: "replica merely behind", replica: "0-1-90,1-1-3", master: "0-1-100,1-1-5"},
		{name: "local write in domain 0", replica: "0-2-101", master: "0-1-100", want: []string{"0-2-101"}},
		{name: "local write while master moved on", replica: "0-2-101", master: "0-1-100,1-1-7", want: []string{"0-2-101"}},
		{
			name: "same seq under a different server_id", replica: "0-2-100", master: "0-1-100",
			want: []string{"0-2-100"},
		},
		{name: "new domain only on replica", replica: "0-1-100,5-2-1", master: "0-1-100", want: []string{"5-2-1"}},
		{
			name: "several domains sorted", replica: "9-2-3,0-2-101,4-1-9", master: "0-1-100,4-1-9",
			want: []string{"0-2-101", "9-2-3"},
		},
		{name: "own history the master replicated", replica: "0-2-100", master: "0-2-100"},
		{name: "own history below the master", replica: "0-2-100", master: "0-1-105"},
		{name: "replicated ahead of a stale master read is not the replica's", replica: "0-1-110", master: "0-1-100"},
		{name: "old master's transactions are not the replica's", replica: "0-3-120", master: "0-1-100"},
		{name: "master empty, replica replicated only", replica: "0-1-100", master: ""},
		{name: "master empty, replica wrote", replica: "0-2-1", master: "", want: []string{"0-2-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replica, master := mustParseMariaDBGTIDPos(t, tt.replica), mustParseMariaDBGTIDPos(t, tt.master)
			var got []string
			for _, g := range MariaDBErrant(replica, master, replicaID) {
				got = append(got, g.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("MariaDBErrant(%q, %q) = %q, want %q", tt.replica, tt.master, got, tt.want)
			}
		})
	}
}
