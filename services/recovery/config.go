package recovery

import "errors"

// Config is the recovery service's configuration.
type Config struct {
	// ListenAddr is the gRPC address.
	ListenAddr string `yaml:"listen"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{ListenAddr: "127.0.0.1:7103"}
}

// Validate reports every setting that cannot work, naming it.
func (c Config) Validate() error {
	if c.ListenAddr == "" {
		return errors.New("recovery.listen: empty")
	}
	return nil
}
