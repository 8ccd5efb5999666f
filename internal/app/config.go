// Package app runs any subset of Vigil's services in one process, each on its
// own gRPC (or, for the gateway, HTTP) listener, talking to the others over
// real gRPC.
package app

import (
	"errors"
	"fmt"
	"path/filepath"
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
	// Store is a PostgreSQL URL, an embedded store (sqlite:///path or a
	// file path), or "memory"; empty is the embedded store in DataDir.
	// Also VIGIL_STORE_URL.
	Store string `yaml:"store"`
	// DataDir holds the embedded store when Store is empty.
	DataDir string `yaml:"data_dir"`
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

// DefaultDataDir is where the embedded store lives by default.
const DefaultDataDir = "vigil-data"

// DefaultConfig runs everything on loopback in one process, with the
// embedded store in DefaultDataDir and the local coordinator.
func DefaultConfig() Config {
	return Config{
		Services:    AllServices,
		DataDir:     DefaultDataDir,
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

// StoreURL is the store the process opens: Store, or the embedded store in
// DataDir when Store is empty.
func (c Config) StoreURL() string {
	if c.Store != "" {
		return c.Store
	}
	return "sqlite://" + filepath.Join(c.DataDir, "vigil.db")
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
	usesStore := c.Runs(Discovery) || c.Runs(Analyzer) || c.Runs(Recovery)
	if usesStore && c.Store == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: empty, and no store given; name a directory for the embedded store, or give a PostgreSQL URL as store"))
	}
	if _, embedded := backend.SQLitePath(c.StoreURL()); embedded {
		var running []string
		for _, name := range []string{Discovery, Analyzer, Recovery} {
			if c.Runs(name) {
				running = append(running, name)
			}
		}
		if len(running) > 0 && len(running) < 3 {
			errs = append(errs, fmt.Errorf("store: the embedded store %s serves one process that runs discovery, analyzer and recovery together; this one runs %s: run services as separate processes on PostgreSQL (store: postgres://...)",
				c.StoreURL(), strings.Join(running, ", ")))
		}
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
