package topology

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// InstanceKey names one server by host and port, as configured or reported.
type InstanceKey struct {
	Host string
	Port uint16
}

// ErrInvalidKey is wrapped by every error about a malformed instance key.
var ErrInvalidKey = errors.New("invalid instance key")

// ParseInstanceKey parses "host:port" ("[v6addr]:port" for IPv6). The port is
// required: a server is never guessed.
func ParseInstanceKey(s string) (InstanceKey, error) {
	host, portText, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return InstanceKey{}, fmt.Errorf("%w: %q is not host:port", ErrInvalidKey, s)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return InstanceKey{}, fmt.Errorf("%w: port %q of %q is not a number from 1 to 65535", ErrInvalidKey, portText, s)
	}
	k := InstanceKey{Host: host, Port: uint16(port)}
	return k, k.Validate()
}

// KeyFromProto converts and validates an API instance key.
func KeyFromProto(k *topologyv1.InstanceKey) (InstanceKey, error) {
	if k == nil {
		return InstanceKey{}, fmt.Errorf("%w: missing", ErrInvalidKey)
	}
	if k.GetPort() == 0 || k.GetPort() > 65535 {
		return InstanceKey{}, fmt.Errorf("%w: port %d is not from 1 to 65535", ErrInvalidKey, k.GetPort())
	}
	key := InstanceKey{Host: k.GetHost(), Port: uint16(k.GetPort())}
	return key, key.Validate()
}

// Validate reports whether the key could name a server.
func (k InstanceKey) Validate() error {
	switch {
	case k.Host == "":
		return fmt.Errorf("%w: host is empty", ErrInvalidKey)
	case len(k.Host) > 255:
		return fmt.Errorf("%w: host is longer than 255 characters", ErrInvalidKey)
	case strings.ContainsAny(k.Host, " \t\r\n/\\@?#[]"):
		return fmt.Errorf("%w: host %q contains characters not allowed in a host name", ErrInvalidKey, k.Host)
	case k.Port == 0:
		return fmt.Errorf("%w: port is 0", ErrInvalidKey)
	}
	return nil
}

// IsZero reports whether the key is unset.
func (k InstanceKey) IsZero() bool { return k == InstanceKey{} }

// String returns host:port, bracketing IPv6 hosts.
func (k InstanceKey) String() string {
	return net.JoinHostPort(k.Host, strconv.Itoa(int(k.Port)))
}

// Proto returns the API form of the key.
func (k InstanceKey) Proto() *topologyv1.InstanceKey {
	return &topologyv1.InstanceKey{Host: k.Host, Port: uint32(k.Port)}
}

// Less orders keys by host, then port.
func (k InstanceKey) Less(o InstanceKey) bool {
	if k.Host != o.Host {
		return k.Host < o.Host
	}
	return k.Port < o.Port
}
