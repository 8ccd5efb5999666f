package analyzer

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/vigil-db/vigil/services/analyzer/analysis"
)

// Config is the analyzer's configuration.
type Config struct {
	// ListenAddr is the gRPC address.
	ListenAddr string `yaml:"listen"`
	// DiscoveryAddrs are the gRPC addresses of every discovery member.
	// Empty: follow the members registered on the coordinator.
	DiscoveryAddrs []string `yaml:"discovery_addrs"`
	// Name identifies this analyzer to discovery, for logs.
	Name string `yaml:"name"`
	// PersistInterval is how often cluster membership is written to the store.
	PersistInterval time.Duration `yaml:"persist_interval"`
	// ReconnectMin and ReconnectMax bound the backoff between stream reconnects.
	ReconnectMin time.Duration `yaml:"reconnect_min"`
	ReconnectMax time.Duration `yaml:"reconnect_max"`
	// ClusterAliases maps cluster names (the master's host:port) to aliases;
	// they take precedence over aliases found by discovery's alias query.
	ClusterAliases map[string]string `yaml:"cluster_aliases"`
	// LagThreshold is the lag above which a replica shows as lagging.
	LagThreshold time.Duration `yaml:"lag_threshold"`

	// ValiditySlack is added to each discovery member's poll interval (the
	// member says what it is) to make its validity window: an instance
	// whose newest probe by a member is older than that counts as hung.
	ValiditySlack time.Duration `yaml:"validity_slack"`
	// SafetyPassInterval is how often every cluster is analysed again, on
	// top of the analysis each snapshot triggers for its own cluster.
	SafetyPassInterval time.Duration `yaml:"safety_pass_interval"`
	// SemiSyncConfirmation is how long a semi-sync master must lack acks
	// before it counts as locked.
	SemiSyncConfirmation time.Duration `yaml:"semi_sync_confirmation"`
	// EnforceExactSemiSync makes more acking replicas than wanted a problem.
	EnforceExactSemiSync bool `yaml:"enforce_exact_semi_sync"`
	// IgnoreInstances are regular expressions on host:port of instances that
	// are never analysed.
	IgnoreInstances []string `yaml:"ignore_instances"`
	// EmergencyProbeInterval bounds how often an instance with a failure and
	// its replicas are re-probed out of turn.
	EmergencyProbeInterval time.Duration `yaml:"emergency_probe_interval"`
	// RestartReplicationInterval bounds how often replication is restarted
	// on the lagging replicas of an unreachable master.
	RestartReplicationInterval time.Duration `yaml:"restart_replication_interval"`
	// DowntimeRefresh is how often downtimes are read from the store.
	DowntimeRefresh time.Duration `yaml:"downtime_refresh"`
	// EventBuffer is how many failure events a subscriber may fall behind.
	EventBuffer int `yaml:"event_buffer"`
}

// DefaultConfig returns the defaults for one analyzer next to one discovery member.
func DefaultConfig() Config {
	return Config{
		ListenAddr:      "127.0.0.1:7102",
		DiscoveryAddrs:  []string{"127.0.0.1:7101"},
		Name:            "analyzer",
		PersistInterval: time.Second,
		ReconnectMin:    100 * time.Millisecond,
		ReconnectMax:    5 * time.Second,
		LagThreshold:    10 * time.Second,

		ValiditySlack:              time.Second,
		SafetyPassInterval:         time.Second,
		SemiSyncConfirmation:       5 * time.Second,
		EmergencyProbeInterval:     250 * time.Millisecond,
		RestartReplicationInterval: 10 * time.Second,
		DowntimeRefresh:            2 * time.Second,
		EventBuffer:                10000,
	}
}

// Validate reports every setting that cannot work, naming it.
func (c Config) Validate() error {
	var errs []error
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("analyzer.listen: empty"))
	}
	for i, a := range c.DiscoveryAddrs {
		if a == "" {
			errs = append(errs, fmt.Errorf("analyzer.discovery_addrs[%d]: empty", i))
		}
	}
	if c.PersistInterval <= 0 {
		errs = append(errs, fmt.Errorf("analyzer.persist_interval: %s must be above 0", c.PersistInterval))
	}
	if c.ReconnectMin <= 0 || c.ReconnectMax < c.ReconnectMin {
		errs = append(errs, fmt.Errorf("analyzer.reconnect_min/max: %s..%s must be above 0 and ordered", c.ReconnectMin, c.ReconnectMax))
	}
	if c.LagThreshold < 0 {
		errs = append(errs, fmt.Errorf("analyzer.lag_threshold: %s is negative", c.LagThreshold))
	}
	for name, d := range map[string]time.Duration{
		"safety_pass_interval":     c.SafetyPassInterval,
		"emergency_probe_interval": c.EmergencyProbeInterval, "restart_replication_interval": c.RestartReplicationInterval,
		"downtime_refresh": c.DowntimeRefresh,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("analyzer.%s: %s must be above 0", name, d))
		}
	}
	if c.ValiditySlack < 0 || c.SemiSyncConfirmation < 0 {
		errs = append(errs, fmt.Errorf("analyzer.validity_slack/semi_sync_confirmation: must not be negative"))
	}
	if c.EventBuffer < 1 {
		errs = append(errs, fmt.Errorf("analyzer.event_buffer: %d must be at least 1", c.EventBuffer))
	}
	for name, alias := range c.ClusterAliases {
		if name == "" || alias == "" {
			errs = append(errs, fmt.Errorf("analyzer.cluster_aliases: %q: %q: name and alias must not be empty", name, alias))
		}
	}
	for i, p := range c.IgnoreInstances {
		if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("analyzer.ignore_instances[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// analysisConfig is the part of the configuration the rules use.
func (c Config) analysisConfig() analysis.Config {
	return analysis.Config{
		ValiditySlack:        c.ValiditySlack,
		LagThreshold:         c.LagThreshold,
		SemiSyncConfirmation: c.SemiSyncConfirmation,
		EnforceExactSemiSync: c.EnforceExactSemiSync,
	}
}
