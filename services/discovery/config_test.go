package discovery

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/mysql"
)

func TestConfigValidateNamesEverySetting(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := DefaultConfig()
	c.CandidateRefresh = 0
	c.ReplicationFactor = 0
	c.MembershipTTL = 100 * time.Millisecond
	c.RegistryRefresh = 0
	c.SourceAddr = "db1"
	c.Seeds = []string{"db1"}
	c.Classification.PromotionRulePatterns = []mysql.PromotionRulePattern{{Pattern: "(", Rule: "prefer"}}
	err := c.Validate()
	for _, want := range []string{
		"discovery.candidate_refresh", "discovery.replication_factor", "discovery.membership_ttl", "discovery.registry_refresh", "discovery.source_addr",
		"discovery.seeds[0]", "discovery.classification.promotion_rule_patterns[0].pattern",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %q", err, want)
		}
	}
}

func TestDefaultAdvertiseAddr(t *testing.T) {
	host, _ := os.Hostname()
	for listen, want := range map[string]string{
		"127.0.0.1:7101": "127.0.0.1:7101",
		"db-vigil:7101":  "db-vigil:7101",
		"0.0.0.0:7101":   host + ":7101",
		"[::]:7101":      host + ":7101",
		":7101":          host + ":7101",
	} {
		if got := DefaultAdvertiseAddr(listen); got != want {
			t.Errorf("DefaultAdvertiseAddr(%q) = %q, want %q", listen, got, want)
		}
	}
}
