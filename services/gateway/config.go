package gateway

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is what the gateway needs to run.
type Config struct {
	// ListenAddr is the HTTP listen address, such as "127.0.0.1:7070".
	ListenAddr string `yaml:"listen"`
	// DiscoveryAddr is the gRPC address of the discovery service.
	DiscoveryAddr string `yaml:"discovery_addr"`
	// AnalyzerAddr is the gRPC address of the analyzer, which serves
	// TopologyService and AnalyzerService.
	AnalyzerAddr string `yaml:"analyzer_addr"`
	// RecoveryAddr is the gRPC address of the recovery service.
	RecoveryAddr string `yaml:"recovery_addr"`
	// ShutdownTimeout bounds how long open requests may run after shutdown
	// is asked for before their connections are closed.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DefaultConfig returns the single-node defaults: every service on loopback.
func DefaultConfig() Config {
	return Config{
		ListenAddr:      "127.0.0.1:7070",
		DiscoveryAddr:   "127.0.0.1:7101",
		AnalyzerAddr:    "127.0.0.1:7102",
		RecoveryAddr:    "127.0.0.1:7103",
		ShutdownTimeout: 10 * time.Second,
	}
}

// Validate reports every setting that cannot work, each named by its
// configuration key (gateway.listen, gateway.analyzer_addr, ...).
func (c Config) Validate() error {
	var errs []error
	if err := validateListenAddr(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("gateway.listen: %q %w", c.ListenAddr, err))
	}
	for _, f := range []struct{ key, value string }{
		{"gateway.discovery_addr", c.DiscoveryAddr},
		{"gateway.analyzer_addr", c.AnalyzerAddr},
		{"gateway.recovery_addr", c.RecoveryAddr},
	} {
		if err := validateTarget(f.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q %w", f.key, f.value, err))
		}
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("gateway.shutdown_timeout: %s must be above 0", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// validateListenAddr accepts host:port with an empty host (all interfaces)
// and port 0 (any free port).
func validateListenAddr(addr string) error {
	if addr == "" {
		return errors.New("is empty")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("is not host:port")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("has port %q, not a number from 0 to 65535", port)
	}
	return nil
}

// validateTarget accepts host:port, or any gRPC target with a scheme
// ("dns:///vigil-analyzer:7102", "unix:///run/vigil/analyzer.sock").
func validateTarget(addr string) error {
	if addr == "" {
		return errors.New("is empty")
	}
	if strings.Contains(addr, "://") {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("is not host:port")
	}
	if host == "" {
		return errors.New("has an empty host")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("has port %q, not a number from 1 to 65535", port)
	}
	return nil
}
