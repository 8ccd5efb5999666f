package mysql

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"
)

// Defaults for ProberConfig fields left zero.
const (
	DefaultConnectTimeout = 500 * time.Millisecond
	DefaultReadTimeout    = time.Second
)

// ProberConfig configures a Prober. Zero timeouts take the defaults.
type ProberConfig struct {
	// Credentials log in to every server.
	Credentials
	// ConnectTimeout bounds the TCP connect plus the MySQL handshake.
	ConnectTimeout time.Duration
	// ReadTimeout bounds each read and write on a connection; a whole probe
	// takes at most ConnectTimeout+ReadTimeout.
	ReadTimeout time.Duration
	// ObserverID and ObserverDomain name the prober (discovery member) and
	// its failure domain in every snapshot.
	ObserverID     string
	ObserverDomain string
	// Classification places instances in clusters and data centres.
	Classification ClassificationConfig
	// LagQuery, when set, returns the replication lag of a replica in
	// seconds (first column of the first row), typically from a heartbeat
	// table. It runs only on servers that replicate.
	LagQuery string
	// SourceAddr, when set, is the local IP address every connection is
	// made from: on a host with several addresses, the network the probes
	// take.
	SourceAddr string
}

// ClassificationConfig says how to classify an instance. Each query returns
// the value in the first column of its first row; an empty query is skipped.
// A pattern is a regular expression with one capture group applied to the
// host name, used when the matching query is unset or returns nothing.
type ClassificationConfig struct {
	ClusterAliasQuery        string
	ClusterDomainQuery       string
	DataCenterQuery          string
	RegionQuery              string
	PhysicalEnvironmentQuery string
	// PromotionRuleQuery returns must, prefer, neutral, prefer_not or must_not.
	PromotionRuleQuery string
	InstanceAliasQuery string

	DataCenterPattern string
	RegionPattern     string
	// PromotionRulePatterns set the promotion rule of the hosts they match,
	// the first match winning, when PromotionRuleQuery is unset or returns
	// nothing.
	PromotionRulePatterns []PromotionRulePattern
}

// PromotionRulePattern gives the hosts whose name matches Pattern (a
// regular expression) the promotion rule Rule (must, prefer, neutral,
// prefer_not or must_not).
type PromotionRulePattern struct {
	Pattern string `yaml:"pattern"`
	Rule    string `yaml:"rule"`
}

// withDefaults fills zero timeouts.
func (c ProberConfig) withDefaults() ProberConfig {
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	return c
}

// validate checks a config that already has its defaults.
func (c ProberConfig) validate() error {
	switch {
	case c.User == "":
		return errors.New("credentials: user is empty")
	case c.ConnectTimeout < 0:
		return fmt.Errorf("connect timeout %s is negative", c.ConnectTimeout)
	case c.ReadTimeout < 0:
		return fmt.Errorf("read timeout %s is negative", c.ReadTimeout)
	case c.SourceAddr != "" && net.ParseIP(c.SourceAddr) == nil:
		return fmt.Errorf("source address %q is not an IP address", c.SourceAddr)
	}
	// Probe connections allow several statements per round trip, so a
	// configured query must be exactly one statement.
	queries := map[string]string{"lag query": c.LagQuery}
	for _, q := range configuredQueries(c.Classification) {
		queries[q.field+" query"] = q.query
	}
	for name, q := range queries {
		if strings.Contains(strings.TrimRight(strings.TrimSpace(q), ";"), ";") {
			return fmt.Errorf("%s %q: must be a single statement (no ';')", name, q)
		}
	}
	return nil
}

// compilePattern compiles an optional host name pattern with exactly one
// capture group.
func compilePattern(field, pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("classification %s: %w", field, err)
	}
	if re.NumSubexp() != 1 {
		return nil, fmt.Errorf("classification %s %q: want exactly one capture group, have %d", field, pattern, re.NumSubexp())
	}
	return re, nil
}

// LogValue logs the configuration without the password.
func (c ProberConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("credentials", c.Credentials),
		slog.Duration("connect_timeout", c.ConnectTimeout),
		slog.Duration("read_timeout", c.ReadTimeout),
		slog.String("observer_id", c.ObserverID),
		slog.String("observer_domain", c.ObserverDomain),
		slog.Bool("lag_query", c.LagQuery != ""),
	)
}

// String describes the configuration without the password.
func (c ProberConfig) String() string {
	return fmt.Sprintf("ProberConfig{%s, ConnectTimeout: %s, ReadTimeout: %s, ObserverID: %q, ObserverDomain: %q}",
		c.Credentials, c.ConnectTimeout, c.ReadTimeout, c.ObserverID, c.ObserverDomain)
}

// GoString is String, so that %#v does not print the password.
func (c ProberConfig) GoString() string { return c.String() }
