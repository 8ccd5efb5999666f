package recovery

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/services/recovery/hooks"
)

func TestConfigValidateNamesEverySetting(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := DefaultConfig()
	c.AnalyzerAddrs = nil
	c.DiscoveryAddrs = []string{""}
	c.Clusters = []string{"("}
	c.BlockPeriod = -time.Second
	c.LockTTL = 100 * time.Millisecond
	c.RelayLogTimeout = 0
	c.Hooks.PreFailover = []hooks.Hook{{}}
	c.Hooks.PreGracefulTakeover = []hooks.Hook{{Argv: []string{"/bin/true"}, Timeout: -time.Second}}
	c.Drills = []Drill{{Cluster: "(", Every: time.Hour}, {Cluster: "orders", Every: time.Millisecond}}
	err := c.Validate()
	for _, want := range []string{
		"recovery.analyzer_addrs: empty", "recovery.discovery_addrs[0]: empty", "recovery.clusters[0]",
		"recovery.block_period", "recovery.lock_ttl", "recovery.relay_log_timeout", "recovery.hooks.pre_failover[0].argv: empty",
		"recovery.hooks.pre_graceful_takeover[0].timeout", "recovery.drills[0].cluster", "recovery.drills[1].every",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %q", err, want)
		}
	}
}

func TestClusterFilters(t *testing.T) {
	s := &Service{filters: Config{Clusters: []string{"^orders", "-eu$"}}.clusterFilters()}
	for _, tt := range []struct {
		cluster, alias string
		want           bool
	}{
		{"db1:3306", "orders-main", true},
		{"db2:3306", "billing-eu", true},
		{"db3:3306", "billing-us", false},
		{"orders.example:3306", "", true},
	} {
		if got := s.covers(tt.cluster, tt.alias); got != tt.want {
			t.Errorf("covers(%q, %q) = %v, want %v", tt.cluster, tt.alias, got, tt.want)
		}
	}
	if !(&Service{}).covers("any", "") {
		t.Error("no filters must cover every cluster")
	}
}
