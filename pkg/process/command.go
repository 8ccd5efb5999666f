package process

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/vigil-db/vigil/pkg/config"
	"github.com/vigil-db/vigil/pkg/store/backend"
)

// Command is the command line of a Vigil service binary and what it reads
// with it: the --config flag every binary has, the flags that override keys
// of its section of the configuration file, and the shared keys of that file.
type Command struct {
	section    string
	getenv     func(string) string
	stderr     io.Writer
	flags      *flag.FlagSet
	configPath *string
	overrides  []func()
}

// NewCommand returns the command line of the binary name, whose keys in the
// configuration file are under section. --config defaults to $VIGIL_CONFIG;
// flag errors and -h go to stderr.
func NewCommand(name, section string, getenv func(string) string, stderr io.Writer) *Command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &Command{
		section:    section,
		getenv:     getenv,
		stderr:     stderr,
		flags:      fs,
		configPath: fs.String("config", getenv("VIGIL_CONFIG"), "YAML configuration `file` (env VIGIL_CONFIG)"),
	}
}

// Override defines the string flag name, which overrides the configuration
// file: when given and not empty, set is called with its value once the file
// is read.
func (c *Command) Override(name, usage string, set func(string)) {
	v := c.flags.String(name, "", usage)
	c.overrides = append(c.overrides, func() {
		if *v != "" {
			set(*v)
		}
	})
}

// Config is a binary's section of the configuration file: a pointer to the
// struct its YAML decodes into, holding the defaults.
type Config interface {
	Validate() error
}

// Shared is what a service binary takes from the keys of the configuration
// file that every Vigil process reads.
type Shared struct {
	// Store is the store key, or VIGIL_STORE_URL when that is set: a
	// PostgreSQL URL, "memory", or empty when neither is.
	Store string
	// Coordinator is the coordinator key, or VIGIL_COORDINATOR when that
	// is set: "local" (the default) or an etcd URL.
	Coordinator string
	// Logger logs at the log_level key, info by default.
	Logger *slog.Logger
}

// ErrNoStore is the error for a binary that needs a store and was given none.
var ErrNoStore = errors.New(`store: not set; give a PostgreSQL URL or "memory" in the config file or VIGIL_STORE_URL`)

// CheckServiceStore checks the store of a binary that runs one service
// next to others: it must be set, and shared, so never the embedded store,
// which one process owns.
func CheckServiceStore(url string) error {
	if url == "" {
		return ErrNoStore
	}
	if _, embedded := backend.SQLitePath(url); embedded {
		return fmt.Errorf("store: %s is the embedded store, which serves only the all-in-one vigil running every service in one process; services in processes of their own share a PostgreSQL store (store: postgres://...)", url)
	}
	return nil
}

// Load parses args (see ParseFlags), reads the shared keys and the section of
// the configuration file into cfg, strictly, applies VIGIL_STORE_URL and the
// overriding flags given, makes the logger and validates cfg. Without a
// configuration file cfg keeps its defaults.
func (c *Command) Load(args []string, cfg Config) (Shared, error) {
	if err := ParseFlags(c.flags, args); err != nil {
		return Shared{}, err
	}
	store, coordinator, logLevel := "", "local", "info"
	if *c.configPath != "" {
		sections := map[string]any{"store": &store, "coordinator": &coordinator, "log_level": &logLevel, c.section: cfg}
		if err := config.LoadSections(*c.configPath, sections); err != nil {
			return Shared{}, err
		}
	}
	if v := c.getenv("VIGIL_STORE_URL"); v != "" {
		store = v
	}
	if v := c.getenv("VIGIL_COORDINATOR"); v != "" {
		coordinator = v
	}
	for _, apply := range c.overrides {
		apply()
	}
	logger, err := NewLogger(c.stderr, logLevel)
	if err != nil {
		return Shared{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Shared{}, err
	}
	return Shared{Store: store, Coordinator: coordinator, Logger: logger}, nil
}

// Listen listens on the TCP address addr, the listen key of the section.
func (c *Command) Listen(addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s.listen: %w", c.section, err)
	}
	return lis, nil
}

// NewLogger returns a text logger writing to w at level: debug, info, warn
// or error.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	switch level {
	case "debug", "info", "warn", "error":
		_ = l.UnmarshalText([]byte(level))
	default:
		return nil, fmt.Errorf("log_level: %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
