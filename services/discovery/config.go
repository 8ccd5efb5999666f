package discovery

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"time"

	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/topology"
)

// Config is the discovery service's configuration.
type Config struct {
	// ListenAddr is the gRPC address.
	ListenAddr string `yaml:"listen"`
	// MemberID names this discovery process in snapshots; defaults to the host name.
	MemberID string `yaml:"member_id"`
	// Domain is this process's failure domain (data centre).
	Domain string `yaml:"domain"`
	// PollInterval is how often every instance is probed.
	PollInterval time.Duration `yaml:"poll_interval"`
	// ConnectTimeout bounds connecting to a server, ReadTimeout each read.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	ReadTimeout    time.Duration `yaml:"read_timeout"`
	// Workers bounds how many probes run at once.
	Workers int `yaml:"workers"`
	// PersistInterval is how often the latest snapshots are written to the store, in one batch.
	PersistInterval time.Duration `yaml:"persist_interval"`
	// Seeds are instances (host:port) to discover at start.
	Seeds []string `yaml:"seeds"`
	// StreamBuffer is how many events a snapshot subscriber may fall behind
	// before it is disconnected and has to re-sync.
	StreamBuffer int `yaml:"stream_buffer"`
	// LagQuery, when set, returns replication lag in seconds (a heartbeat query).
	LagQuery string `yaml:"lag_query"`
	// Classification places instances into clusters, data centres and so on.
	Classification Classification `yaml:"classification"`
	// CandidateRefresh is how often the promotion rules operators
	// registered are read from the store.
	CandidateRefresh time.Duration `yaml:"candidate_refresh"`
	// LivenessWatch keeps one connection to every server with replicas,
	// so that a crash is seen the moment the connection drops.
	LivenessWatch bool `yaml:"liveness_watch"`
	// SourceAddr, when set, is the local IP address probes connect from.
	SourceAddr string `yaml:"source_addr"`
	// AdvertiseAddr is the gRPC address this member registers for the
	// analyzers to reach it at; defaults to ListenAddr, with the host name
	// for a wildcard host.
	AdvertiseAddr string `yaml:"advertise_addr"`
	// ReplicationFactor is how many members probe each instance. Each
	// member probes the instances it owns by rendezvous hashing over the
	// live members, spread over distinct failure domains when possible.
	ReplicationFactor int `yaml:"replication_factor"`
	// MembershipTTL is the time to live of the member's registration: a
	// member that stops renewing it is taken for gone after this long.
	MembershipTTL time.Duration `yaml:"membership_ttl"`
	// RegistryRefresh is how often the shared registry of known instances
	// is read, to find the instances other members discovered.
	RegistryRefresh time.Duration `yaml:"registry_refresh"`
}

// advertiseAddr is the address the member registers.
func (c Config) advertiseAddr() string {
	if c.AdvertiseAddr != "" {
		return c.AdvertiseAddr
	}
	return DefaultAdvertiseAddr(c.ListenAddr)
}

// DefaultAdvertiseAddr is the address a member listening on listen
// registers when advertise_addr is unset: listen itself, or, for a
// wildcard host (0.0.0.0, ::), the host name with listen's port.
func DefaultAdvertiseAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return listen
	}
	name, err := os.Hostname()
	if err != nil {
		return listen
	}
	return net.JoinHostPort(name, port)
}

// Classification holds the queries (first column of the first row) and host
// name patterns (one capture group) that classify an instance.
type Classification struct {
	ClusterAliasQuery        string `yaml:"cluster_alias_query"`
	ClusterDomainQuery       string `yaml:"cluster_domain_query"`
	DataCenterQuery          string `yaml:"data_center_query"`
	DataCenterPattern        string `yaml:"data_center_pattern"`
	RegionQuery              string `yaml:"region_query"`
	RegionPattern            string `yaml:"region_pattern"`
	PhysicalEnvironmentQuery string `yaml:"physical_environment_query"`
	PromotionRuleQuery       string `yaml:"promotion_rule_query"`
	InstanceAliasQuery       string `yaml:"instance_alias_query"`
	// PromotionRulePatterns set the promotion rule of matching host
	// names, first match first, where promotion_rule_query says nothing.
	PromotionRulePatterns []mysql.PromotionRulePattern `yaml:"promotion_rule_patterns"`
}

// DefaultConfig returns the defaults: a 1s poll interval with 500ms connect
// and 1s read timeouts.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		ListenAddr:       "127.0.0.1:7101",
		MemberID:         host,
		PollInterval:     time.Second,
		ConnectTimeout:   500 * time.Millisecond,
		ReadTimeout:      time.Second,
		Workers:          64,
		PersistInterval:  time.Second,
		StreamBuffer:     10000,
		CandidateRefresh: time.Second,
		LivenessWatch:    true,

		ReplicationFactor: 1,
		MembershipTTL:     5 * time.Second,
		RegistryRefresh:   time.Second,
	}
}

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	var errs []error
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("discovery.listen: empty"))
	}
	if c.MemberID == "" {
		errs = append(errs, errors.New("discovery.member_id: empty"))
	}
	if c.PollInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("discovery.poll_interval: %s is below 10ms", c.PollInterval))
	}
	if c.ConnectTimeout <= 0 || c.ConnectTimeout >= c.PollInterval {
		errs = append(errs, fmt.Errorf("discovery.connect_timeout: %s must be above 0 and below poll_interval %s", c.ConnectTimeout, c.PollInterval))
	}
	if c.ReadTimeout <= 0 {
		errs = append(errs, fmt.Errorf("discovery.read_timeout: %s must be above 0", c.ReadTimeout))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("discovery.workers: %d must be at least 1", c.Workers))
	}
	if c.PersistInterval <= 0 {
		errs = append(errs, fmt.Errorf("discovery.persist_interval: %s must be above 0", c.PersistInterval))
	}
	if c.CandidateRefresh <= 0 {
		errs = append(errs, fmt.Errorf("discovery.candidate_refresh: %s must be above 0", c.CandidateRefresh))
	}
	if c.SourceAddr != "" && net.ParseIP(c.SourceAddr) == nil {
		errs = append(errs, fmt.Errorf("discovery.source_addr: %q is not an IP address", c.SourceAddr))
	}
	if c.ReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("discovery.replication_factor: %d must be at least 1", c.ReplicationFactor))
	}
	if c.MembershipTTL < time.Second {
		errs = append(errs, fmt.Errorf("discovery.membership_ttl: %s is below 1s", c.MembershipTTL))
	}
	if c.RegistryRefresh <= 0 {
		errs = append(errs, fmt.Errorf("discovery.registry_refresh: %s must be above 0", c.RegistryRefresh))
	}
	for i, p := range c.Classification.PromotionRulePatterns {
		if _, err := regexp.Compile(p.Pattern); err != nil {
			errs = append(errs, fmt.Errorf("discovery.classification.promotion_rule_patterns[%d].pattern: %w", i, err))
		}
	}
	if c.StreamBuffer < 1 {
		errs = append(errs, fmt.Errorf("discovery.stream_buffer: %d must be at least 1", c.StreamBuffer))
	}
	for i, s := range c.Seeds {
		if _, err := topology.ParseInstanceKey(s); err != nil {
			errs = append(errs, fmt.Errorf("discovery.seeds[%d]: %w", i, err))
		}
	}
	for name, p := range map[string]string{
		"discovery.classification.data_center_pattern": c.Classification.DataCenterPattern,
		"discovery.classification.region_pattern":      c.Classification.RegionPattern,
	} {
		if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
