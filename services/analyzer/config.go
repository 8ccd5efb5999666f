package analyzer

import (
	"errors"
	"fmt"
	"time"
)

// Config is the analyzer's configuration.
type Config struct {
	// ListenAddr is the gRPC address.
	ListenAddr string `yaml:"listen"`
	// DiscoveryAddrs are the gRPC addresses of every discovery member.
	DiscoveryAddrs []string `yaml:"discovery_addrs"`
	// Name identifies this analyzer to discovery, for logs.
	Name string `yaml:"name"`
	// PersistInterval is how often cluster membership is written to the store.
	PersistInterval time.Duration `yaml:"persist_interval"`
	// ReconnectMin and ReconnectMax bound the backoff between stream reconnects.
	ReconnectMin time.Duration `yaml:"reconnect_min"`
	ReconnectMax time.Duration `yaml:"reconnect_max"`
	// LagThreshold is the lag above which a replica shows as lagging.
	LagThreshold time.Duration `yaml:"lag_threshold"`
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
	}
}

// Validate reports every setting that cannot work, naming it.
func (c Config) Validate() error {
	var errs []error
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("analyzer.listen: empty"))
	}
	if len(c.DiscoveryAddrs) == 0 {
		errs = append(errs, errors.New("analyzer.discovery_addrs: no discovery member to follow"))
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
	return errors.Join(errs...)
}
