package recovery

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// Config is the recovery service's configuration.
type Config struct {
	// ListenAddr is the gRPC address.
	ListenAddr string `yaml:"listen"`
	// AnalyzerAddrs are the analyzers whose failure events it follows.
	AnalyzerAddrs []string `yaml:"analyzer_addrs"`
	// DiscoveryAddrs are the discovery members asked to re-probe a cluster
	// before a recovery acts. Empty: the members registered on the
	// coordinator.
	DiscoveryAddrs []string `yaml:"discovery_addrs"`
	// Name identifies this recovery process in the audit and in logs;
	// the host name by default. Give each process of a host its own.
	Name string `yaml:"name"`

	// Clusters narrows automated recovery to the clusters whose name or
	// alias matches one of these regular expressions; empty covers every
	// cluster.
	Clusters []string `yaml:"clusters"`
	// DryRun goes as far as choosing the candidate and changes nothing.
	DryRun bool `yaml:"dry_run"`
	// BlockPeriod is how long a recovery blocks the next automated one in
	// its cluster, unless acknowledged.
	BlockPeriod time.Duration `yaml:"block_period"`

	// LockTTL is the lease of the session that holds cluster locks: a
	// process that stops answering loses its locks after about this long.
	LockTTL time.Duration `yaml:"lock_ttl"`
	// StepTimeout bounds one statement sent to one server.
	StepTimeout time.Duration `yaml:"step_timeout"`
	// RelayLogTimeout bounds the wait for replicas to apply their relay logs.
	RelayLogTimeout time.Duration `yaml:"relay_log_timeout"`
	// CatchUpTimeout bounds the wait, in a two-step promotion, for the
	// preferred replica to catch up from the data holder.
	CatchUpTimeout time.Duration `yaml:"catch_up_timeout"`
	// FenceFor is how long a replaced master is watched after a recovery,
	// to be made read-only the moment it answers again.
	FenceFor time.Duration `yaml:"fence_for"`

	// Replication is the user a former master replicates from its
	// successor with after a graceful takeover; it comes from the
	// environment (mysql.LoadReplicationCredentials), never from a file.
	// Nil leaves a former master without replication.
	Replication *mysql.Credentials `yaml:"-"`

	// Hooks are the operators' commands run at fixed points of a recovery.
	Hooks hooks.Config `yaml:"hooks"`

	// Drills schedule graceful takeovers and back; none by default.
	Drills []Drill `yaml:"drills"`

	// ReconnectMin and ReconnectMax bound the backoff between stream reconnects.
	ReconnectMin time.Duration `yaml:"reconnect_min"`
	ReconnectMax time.Duration `yaml:"reconnect_max"`
}

// DefaultConfig returns the defaults for one recovery process next to one
// analyzer and one discovery member.
func DefaultConfig() Config {
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "recovery"
	}
	return Config{
		ListenAddr:      "127.0.0.1:7103",
		AnalyzerAddrs:   []string{"127.0.0.1:7102"},
		DiscoveryAddrs:  []string{"127.0.0.1:7101"},
		Name:            name,
		BlockPeriod:     time.Hour,
		LockTTL:         10 * time.Second,
		StepTimeout:     5 * time.Second,
		RelayLogTimeout: 10 * time.Second,
		CatchUpTimeout:  10 * time.Second,
		FenceFor:        time.Hour,
		ReconnectMin:    100 * time.Millisecond,
		ReconnectMax:    5 * time.Second,
	}
}

// Validate reports every setting that cannot work, naming it.
func (c Config) Validate() error {
	var errs []error
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("recovery.listen: empty"))
	}
	if len(c.AnalyzerAddrs) == 0 {
		errs = append(errs, errors.New("recovery.analyzer_addrs: empty"))
	}
	for field, addrs := range map[string][]string{"analyzer_addrs": c.AnalyzerAddrs, "discovery_addrs": c.DiscoveryAddrs} {
		for i, a := range addrs {
			if a == "" {
				errs = append(errs, fmt.Errorf("recovery.%s[%d]: empty", field, i))
			}
		}
	}
	if c.Name == "" {
		errs = append(errs, errors.New("recovery.name: empty"))
	}
	for i, p := range c.Clusters {
		if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("recovery.clusters[%d]: %w", i, err))
		}
	}
	if c.BlockPeriod < 0 {
		errs = append(errs, fmt.Errorf("recovery.block_period: %s is negative", c.BlockPeriod))
	}
	if c.LockTTL < time.Second {
		errs = append(errs, fmt.Errorf("recovery.lock_ttl: %s is under 1s", c.LockTTL))
	}
	for name, d := range map[string]time.Duration{
		"step_timeout": c.StepTimeout, "relay_log_timeout": c.RelayLogTimeout,
		"catch_up_timeout": c.CatchUpTimeout, "fence_for": c.FenceFor,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("recovery.%s: %s must be above 0", name, d))
		}
	}
	if c.ReconnectMin <= 0 || c.ReconnectMax < c.ReconnectMin {
		errs = append(errs, fmt.Errorf("recovery.reconnect_min/max: %s..%s must be above 0 and ordered", c.ReconnectMin, c.ReconnectMax))
	}
	errs = append(errs, c.Hooks.Validate("recovery.hooks"))
	for i, d := range c.Drills {
		if _, err := regexp.Compile(d.Cluster); err != nil || d.Cluster == "" {
			errs = append(errs, fmt.Errorf("recovery.drills[%d].cluster: %q is not a regular expression matching clusters (%v)", i, d.Cluster, err))
		}
		if d.Every < time.Second {
			errs = append(errs, fmt.Errorf("recovery.drills[%d].every: %s is under 1s", i, d.Every))
		}
	}
	return errors.Join(errs...)
}

// clusterFilters compiles Clusters; Validate has checked them.
func (c Config) clusterFilters() []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range c.Clusters {
		out = append(out, regexp.MustCompile(p))
	}
	return out
}
