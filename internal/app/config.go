// Package app runs any subset of Vigil's services in one process, each on its
// own gRPC (or, for the gateway, HTTP) listener, talking to the others over
// real gRPC.
package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-db/vigil/pkg/config"
	coordbackend "github.com/vigil-db/vigil/pkg/coord/backend"
	"github.com/vigil-db/vigil/pkg/store/backend"

	"github.com/vigil-db/vigil/services/analyzer"
	"github.com/vigil-db/vigil/services/discovery"
	"github.com/vigil-db/vigil/services/gateway"
	"github.com/vigil-db/vigil/services/recovery"
)

// Service names, in start order. Shutdown runs in reverse.
const (
	Discovery = "discovery"
	Analyzer  = "analyzer"
	Recovery  = "recovery"
	Gateway   = "gateway"
)

// AllServices lists every service in start order.
var AllServices = []string{Discovery, Analyzer, Recovery, Gateway}

// MemoryStore is the store URL that keeps state in memory only.
const MemoryStore = backend.Memory

// Config is the configuration of one Vigil process, as read from a YAML file.
type Config struct {
	// Services to run; empty means all.
	Services []string `yaml:"services"`
	// Store is a PostgreSQL URL, or "memory". Also VIGIL_STORE_URL.
	Store string `yaml:"store"`
	// Coordinator is "local" (one process) or an etcd URL,
	// etcd://host:port[,host:port]/namespace. Also VIGIL_COORDINATOR.
	Coordinator string `yaml:"coordinator"`
	// LogLevel is debug, info, warn or error.
	LogLevel  string           `yaml:"log_level"`
	Discovery discovery.Config `yaml:"discovery"`
	Analyzer  analyzer.Config  `yaml:"analyzer"`
	Recovery  recovery.Config  `yaml:"recovery"`
	Gateway   gateway.Config   `yaml:"gateway"`
}

// DefaultConfig runs everything on loopback against a local PostgreSQL.
func DefaultConfig() Config {
	return Config{
		Services:    AllServices,
		Store:       "postgres://postgres@127.0.0.1:5432/vigil?sslmode=disable",
		Coordinator: coordbackend.Local,
		LogLevel:    "info",
		Discovery:   discovery.DefaultConfig(),
		Analyzer:    analyzer.DefaultConfig(),
		Recovery:    recovery.DefaultConfig(),
		Gateway:     gateway.DefaultConfig(),
	}
}

// LoadConfig returns the defaults overlaid with the file at path (when path
// is not empty) and then with the environment. Unknown keys in the file are
// errors.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	if path != "" {
		if err := config.Load(path, &cfg); err != nil {
			return Config{}, err
		}
	}
	if v := getenv("VIGIL_STORE_URL"); v != "" {
		cfg.Store = v
	}
	if v := getenv("VIGIL_COORDINATOR"); v != "" {
		cfg.Coordinator = v
	}
	if v := getenv("VIGIL_SERVICES"); v != "" {
		cfg.Services = strings.Split(v, ",")
	}
	return cfg, nil
}

// Runs reports whether the process runs the named service.
func (c Config) Runs(name string) bool {
	return len(c.Services) == 0 || slices.Contains(c.Services, name)
}

// Validate checks the process settings and those of every service it runs.
func (c Config) Validate() error {
	var errs []error
	for i, s := range c.Services {
		if !slices.Contains(AllServices, s) {
			errs = append(errs, fmt.Errorf("services[%d]: %q is not one of %s", i, s, strings.Join(AllServices, ", ")))
		}
	}
	if c.Store == "" && (c.Runs(Discovery) || c.Runs(Analyzer) || c.Runs(Recovery)) {
		errs = append(errs, errors.New("store: empty; give a PostgreSQL URL or \"memory\""))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.Runs(Discovery) {
		errs = append(errs, c.Discovery.Validate())
	}
	if c.Runs(Analyzer) {
		errs = append(errs, c.Analyzer.Validate())
	}
	if c.Runs(Recovery) {
		errs = append(errs, c.Recovery.Validate())
	}
	if c.Runs(Gateway) {
		errs = append(errs, c.Gateway.Validate())
	}
	return errors.Join(errs...)
}
