// Package hooks runs the operators' commands at fixed points of a recovery
// (ARCHITECTURE §6.6). A hook is an argv list executed without a shell; it
// learns about the recovery from VIGIL_* environment variables and from the
// same context as JSON on its standard input, never from text substituted
// into its command, so a host name full of shell metacharacters is inert.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Points at which hooks run, as named in the configuration and the audit.
const (
	OnFailureDetection             = "on-failure-detection"
	PreFailover                    = "pre-failover"
	PostMasterFailover             = "post-master-failover"
	PostIntermediateMasterFailover = "post-intermediate-master-failover"
	PostFailover                   = "post-failover"
	PostUnsuccessfulFailover       = "post-unsuccessful-failover"
	PreGracefulTakeover            = "pre-graceful-takeover"
	PostGracefulTakeover           = "post-graceful-takeover"
)

// Vetoing reports whether a failing hook at point stops what follows.
func Vetoing(point string) bool { return point == PreFailover || point == PreGracefulTakeover }

// maxOutput bounds the output kept from one hook run.
const maxOutput = 64 << 10

// DefaultTimeout bounds a hook that sets no timeout.
const DefaultTimeout = 30 * time.Second

// Hook is one command.
type Hook struct {
	// Argv is the program and its arguments; the program is looked up in
	// PATH when it has no slash.
	Argv []string `yaml:"argv"`
	// Timeout bounds one run; DefaultTimeout when zero.
	Timeout time.Duration `yaml:"timeout"`
}

// Config lists the hooks of each point, run in order.
type Config struct {
	OnFailureDetection             []Hook `yaml:"on_failure_detection"`
	PreFailover                    []Hook `yaml:"pre_failover"`
	PostMasterFailover             []Hook `yaml:"post_master_failover"`
	PostIntermediateMasterFailover []Hook `yaml:"post_intermediate_master_failover"`
	PostFailover                   []Hook `yaml:"post_failover"`
	PostUnsuccessfulFailover       []Hook `yaml:"post_unsuccessful_failover"`
	PreGracefulTakeover            []Hook `yaml:"pre_graceful_takeover"`
	PostGracefulTakeover           []Hook `yaml:"post_graceful_takeover"`
}

// At returns the hooks of a point.
func (c Config) At(point string) []Hook {
	switch point {
	case OnFailureDetection:
		return c.OnFailureDetection
	case PreFailover:
		return c.PreFailover
	case PostMasterFailover:
		return c.PostMasterFailover
	case PostIntermediateMasterFailover:
		return c.PostIntermediateMasterFailover
	case PostFailover:
		return c.PostFailover
	case PostUnsuccessfulFailover:
		return c.PostUnsuccessfulFailover
	case PreGracefulTakeover:
		return c.PreGracefulTakeover
	case PostGracefulTakeover:
		return c.PostGracefulTakeover
	}
	return nil
}

// Validate names every hook that cannot run.
func (c Config) Validate(prefix string) error {
	var errs []error
	for _, point := range []string{OnFailureDetection, PreFailover, PostMasterFailover, PostIntermediateMasterFailover, PostFailover, PostUnsuccessfulFailover,
		PreGracefulTakeover, PostGracefulTakeover} {
		for i, h := range c.At(point) {
			name := fmt.Sprintf("%s.%s[%d]", prefix, strings.ReplaceAll(point, "-", "_"), i)
			if len(h.Argv) == 0 || h.Argv[0] == "" {
				errs = append(errs, fmt.Errorf("%s.argv: empty", name))
			}
			if h.Timeout < 0 {
				errs = append(errs, fmt.Errorf("%s.timeout: %s is negative", name, h.Timeout))
			}
		}
	}
	return errors.Join(errs...)
}

// Context is what a hook is told about the recovery.
type Context struct {
	Point         string   `json:"point"`
	RecoveryID    string   `json:"recovery_id"`
	DetectionID   string   `json:"detection_id"`
	FailureType   string   `json:"failure_type"`
	Cluster       string   `json:"cluster"`
	ClusterAlias  string   `json:"cluster_alias"`
	FailedHost    string   `json:"failed_host"`
	FailedPort    uint16   `json:"failed_port"`
	SuccessorHost string   `json:"successor_host,omitempty"`
	SuccessorPort uint16   `json:"successor_port,omitempty"`
	LostReplicas  []string `json:"lost_replicas,omitempty"`
	FencingToken  int64    `json:"fencing_token"`
	Outcome       string   `json:"outcome,omitempty"`
}

// env returns the context as VIGIL_* variables.
func (c Context) env() []string {
	return []string{
		"VIGIL_HOOK_POINT=" + c.Point,
		"VIGIL_RECOVERY_ID=" + c.RecoveryID,
		"VIGIL_DETECTION_ID=" + c.DetectionID,
		"VIGIL_FAILURE_TYPE=" + c.FailureType,
		"VIGIL_CLUSTER=" + c.Cluster,
		"VIGIL_CLUSTER_ALIAS=" + c.ClusterAlias,
		"VIGIL_FAILED_HOST=" + c.FailedHost,
		"VIGIL_FAILED_PORT=" + strconv.Itoa(int(c.FailedPort)),
		"VIGIL_SUCCESSOR_HOST=" + c.SuccessorHost,
		"VIGIL_SUCCESSOR_PORT=" + portText(c.SuccessorPort),
		"VIGIL_LOST_REPLICAS=" + strings.Join(c.LostReplicas, ","),
		"VIGIL_FENCING_TOKEN=" + strconv.FormatInt(c.FencingToken, 10),
		"VIGIL_OUTCOME=" + c.Outcome,
	}
}

func portText(p uint16) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(int(p))
}

// Run runs one hook with the context and returns its combined output (at
// most 64 KiB). A hook that cannot start, exits non-zero or outlives its
// timeout returns an error saying which.
func Run(ctx context.Context, h Hook, c Context) (string, error) {
	timeout := h.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stdin, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, h.Argv[0], h.Argv[1:]...)
	cmd.Env = append(os.Environ(), c.env()...)
	cmd.Stdin = bytes.NewReader(stdin)
	out := &limitedBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	// A hook that leaves children holding its output does not hold the
	// recovery beyond its timeout.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return out.String(), fmt.Errorf("hook %q: killed after its %s timeout", h.Argv[0], timeout)
	case err != nil:
		return out.String(), fmt.Errorf("hook %q: %w", h.Argv[0], err)
	}
	return out.String(), nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string { return b.buf.String() }
