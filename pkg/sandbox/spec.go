package sandbox

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// Default credentials used when a Spec leaves them empty.
const (
	DefaultUser                = "vigil"
	DefaultPassword            = "vigil"
	DefaultReplicationUser     = "repl"
	DefaultReplicationPassword = "repl"
)

// Spec describes a topology to start.
type Spec struct {
	// Instances lists the servers. An instance with no Source is a master
	// (made writable); every other one replicates from its Source. Several
	// masters give several independent clusters.
	Instances []Node

	// BasePort, when non-zero, gives the i-th instance port BasePort+i.
	// When zero, free ports are picked and a start that loses its port to
	// another process is retried on a new one.
	BasePort int

	// User and Password name the topology user, created as 'User'@'%' with
	// all privileges on every instance. Defaults: DefaultUser, DefaultPassword.
	User, Password string

	// ReplicationUser and ReplicationPassword name the user replicas connect
	// with. Defaults: DefaultReplicationUser, DefaultReplicationPassword.
	ReplicationUser, ReplicationPassword string

	// Persistent lets the servers outlive the process that started them
	// (demo mode): they run in their own session with no parent-death
	// signal, and Status and Down find them later through the state file.
	// When false, the servers are killed if the starting process dies.
	Persistent bool

	// ExtraArgs are appended to every mariadbd command line.
	ExtraArgs []string
}

// Node is one instance of a Spec.
type Node struct {
	// Name identifies the instance and names its directory: lower-case
	// letters, digits, '-' and '_', at most 16 characters.
	Name string
	// Source is the Name of the instance this one replicates from, or
	// empty for a master.
	Source string
	// ExtraArgs are appended to this instance's mariadbd command line,
	// after the Spec's.
	ExtraArgs []string
}

// MasterWithReplicas returns a Spec of master "m" with n replicas "r1".."rn".
func MasterWithReplicas(n int) Spec {
	s := Spec{Instances: []Node{{Name: "m"}}}
	for i := 1; i <= n; i++ {
		s.Instances = append(s.Instances, Node{Name: "r" + strconv.Itoa(i), Source: "m"})
	}
	return s
}

// MasterIntermediateReplicas returns a Spec of master "m", intermediate
// master "i1" replicating from it, and n replicas "r1".."rn" of "i1".
func MasterIntermediateReplicas(n int) Spec {
	s := Spec{Instances: []Node{{Name: "m"}, {Name: "i1", Source: "m"}}}
	for i := 1; i <= n; i++ {
		s.Instances = append(s.Instances, Node{Name: "r" + strconv.Itoa(i), Source: "i1"})
	}
	return s
}

// Chain returns a Spec in which each named instance replicates from the one
// before it; the first is the master.
func Chain(names ...string) Spec {
	var s Spec
	for i, name := range names {
		n := Node{Name: name}
		if i > 0 {
			n.Source = names[i-1]
		}
		s.Instances = append(s.Instances, n)
	}
	return s
}

var nodeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,15}$`)

// withDefaults returns a copy of s with empty credentials filled in.
func (s Spec) withDefaults() Spec {
	if s.User == "" {
		s.User = DefaultUser
	}
	if s.Password == "" {
		s.Password = DefaultPassword
	}
	if s.ReplicationUser == "" {
		s.ReplicationUser = DefaultReplicationUser
	}
	if s.ReplicationPassword == "" {
		s.ReplicationPassword = DefaultReplicationPassword
	}
	return s
}

// Validate reports whether s describes a topology that can be started:
// at least one instance, valid unique names, known sources, no cycles and
// ports within range.
func (s Spec) Validate() error {
	if len(s.Instances) == 0 {
		return errors.New("spec has no instances")
	}
	if s.BasePort < 0 || s.BasePort+len(s.Instances)-1 > 65535 || (s.BasePort > 0 && s.BasePort < 1024) {
		return fmt.Errorf("base port %d out of range", s.BasePort)
	}
	source := make(map[string]string, len(s.Instances))
	for _, n := range s.Instances {
		if !nodeName.MatchString(n.Name) {
			return fmt.Errorf("instance name %q: want %s", n.Name, nodeName)
		}
		if _, dup := source[n.Name]; dup {
			return fmt.Errorf("instance name %q used twice", n.Name)
		}
		source[n.Name] = n.Source
	}
	for _, n := range s.Instances {
		if n.Source == "" {
			continue
		}
		if _, ok := source[n.Source]; !ok {
			return fmt.Errorf("instance %q: unknown source %q", n.Name, n.Source)
		}
		// Walking up from n must reach a master within len(Instances) steps.
		cur := n.Name
		for range len(s.Instances) {
			cur = source[cur]
			if cur == "" {
				break
			}
		}
		if cur != "" {
			return fmt.Errorf("instance %q: replication cycle", n.Name)
		}
	}
	return nil
}

// topDown returns the nodes ordered so that each source precedes its
// replicas. s must be valid.
func (s Spec) topDown() []Node {
	var order []Node
	placed := make(map[string]bool, len(s.Instances))
	for len(order) < len(s.Instances) {
		for _, n := range s.Instances {
			if !placed[n.Name] && (n.Source == "" || placed[n.Source]) {
				placed[n.Name] = true
				order = append(order, n)
			}
		}
	}
	return order
}
