// Package compose holds the docker compose development stack. Its tests check
// the stack's files with the compose-spec loader, without a Docker engine.
package compose

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/vigil-db/vigil/internal/app"
)

// vigilServices maps each Vigil container to the service it runs.
var vigilServices = map[string]string{
	"vigil-discovery-1": app.Discovery,
	"vigil-discovery-2": app.Discovery,
	"vigil-analyzer":    app.Analyzer,
	"vigil-recovery":    app.Recovery,
	"vigil-gateway":     app.Gateway,
}

const (
	vigilImage      = "vigil:dev"
	vigilConfigPath = "/etc/vigil/vigil.yaml"
)

func loadProject(t *testing.T, path string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithWorkingDirectory(filepath.Dir(path)),
		cli.WithInterpolation(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(t.Context())
}

func project(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadProject(t, "compose.yaml")
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	return p
}

func TestComposeHasTheStack(t *testing.T) {
	p := project(t)
	want := []string{"etcd", "mariadb-1", "mariadb-2", "postgres", "vigil-analyzer", "vigil-discovery-1", "vigil-discovery-2", "vigil-gateway", "vigil-recovery"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Errorf("services = %v, want %v", sorted(got), want)
	}
	images := map[string]string{"postgres": "postgres:15", "mariadb-1": "mariadb:10.11", "mariadb-2": "mariadb:10.11"}
	for name, image := range images {
		if got := p.Services[name].Image; got != image {
			t.Errorf("%s: image %q, want %q", name, got, image)
		}
	}
	if got := p.Services["etcd"].Image; !regexp.MustCompile(`^quay\.io/coreos/etcd:v3\.[56]\.\d+$`).MatchString(got) {
		t.Errorf("etcd: image %q, want quay.io/coreos/etcd:v3.5.x or v3.6.x", got)
	}
}

// TestLoaderRejectsBadFiles makes sure the loader used here is strict, so
// that the other tests passing means something.
func TestLoaderRejectsBadFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(path, []byte("services:\n  a:\n    imag: postgres:15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadProject(t, path); err == nil || !strings.Contains(err.Error(), "imag") {
		t.Errorf("a misspelt key loaded: err = %v", err)
	}
}

func TestVigilServicesRunTheBuiltImage(t *testing.T) {
	p := project(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	config, err := filepath.Abs("vigil.yaml")
	if err != nil {
		t.Fatal(err)
	}
	builds := 0
	for container, service := range vigilServices {
		s := p.Services[container]
		if s.Image != vigilImage {
			t.Errorf("%s: image %q, want %q", container, s.Image, vigilImage)
		}
		if b := s.Build; b != nil {
			builds++
			if b.Context != root || b.Dockerfile != "deploy/compose/Dockerfile" {
				t.Errorf("%s: builds %s with %s, want the repository root with deploy/compose/Dockerfile", container, b.Context, b.Dockerfile)
			}
		}
		if want := []string{"--services=" + service}; !slices.Equal(s.Command, want) || s.Entrypoint != nil {
			t.Errorf("%s: entrypoint %q command %q, want the image's vigil with %q", container, s.Entrypoint, s.Command, want)
		}
		if got := s.Environment["VIGIL_CONFIG"]; got == nil || *got != vigilConfigPath {
			t.Errorf("%s: VIGIL_CONFIG = %v, want %s", container, got, vigilConfigPath)
		}
		if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
			return v.Type == types.VolumeTypeBind && v.Source == config && v.Target == vigilConfigPath && v.ReadOnly
		}) {
			t.Errorf("%s: does not mount %s read-only at %s", container, config, vigilConfigPath)
		}
	}
	if builds != 1 {
		t.Errorf("%d Vigil services build %s, want exactly one", builds, vigilImage)
	}
}

func TestPortsArePublishedOnLoopbackOnly(t *testing.T) {
	p := project(t)
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %d published on %q, want 127.0.0.1", name, port.Target, port.HostIP)
			}
		}
	}
	gateway := p.Services["vigil-gateway"].Ports
	if !slices.ContainsFunc(gateway, func(port types.ServicePortConfig) bool {
		return port.HostIP == "127.0.0.1" && port.Published == "7070" && port.Target == 7070
	}) {
		t.Errorf("vigil-gateway: ports %+v, want 127.0.0.1:7070:7070", gateway)
	}
}

func TestNoSecretsOnCommandLines(t *testing.T) {
	p := project(t)
	secrets := secretValues(p)
	if len(secrets) < 3 {
		t.Fatalf("found %d passwords in the services' environments, want PostgreSQL's, the topology user's and MariaDB root's", len(secrets))
	}
	text, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets {
		if strings.Contains(string(text), secret) {
			t.Errorf("compose.yaml holds a password; keep it in an env file")
		}
	}
	for name, s := range p.Services {
		var argv []string
		argv = append(argv, s.Entrypoint...)
		argv = append(argv, s.Command...)
		if s.HealthCheck != nil {
			argv = append(argv, s.HealthCheck.Test...)
		}
		for _, arg := range argv {
			if strings.Contains(strings.ToLower(arg), "password") || slices.ContainsFunc(secrets, func(secret string) bool { return strings.Contains(arg, secret) }) {
				t.Errorf("%s: command line argument %q carries a password", name, arg)
			}
		}
	}
	for _, name := range []string{"vigil-discovery-1", "vigil-discovery-2", "vigil-recovery"} {
		env := p.Services[name].Environment
		if env["VIGIL_MYSQL_USER"] == nil || env["VIGIL_MYSQL_PASSWORD"] == nil {
			t.Errorf("%s: no VIGIL_MYSQL_USER/VIGIL_MYSQL_PASSWORD in its environment", name)
		}
	}
	for key := range p.Services["vigil-gateway"].Environment {
		if strings.Contains(key, "PASSWORD") {
			t.Errorf("vigil-gateway: gets %s, which it does not need", key)
		}
	}
}

// secretValues returns every value of a *PASSWORD variable in the services'
// environments, env files included.
func secretValues(p *types.Project) []string {
	var out []string
	for _, s := range p.Services {
		for key, value := range s.Environment {
			if strings.Contains(key, "PASSWORD") && value != nil && *value != "" && !slices.Contains(out, *value) {
				out = append(out, *value)
			}
		}
	}
	return out
}

func TestSecretsAgree(t *testing.T) {
	p := project(t)
	store := env(t, p, "vigil-discovery-1", "PGPASSWORD")
	if pg := env(t, p, "postgres", "POSTGRES_PASSWORD"); store != pg {
		t.Errorf("PGPASSWORD of the Vigil services is not postgres's POSTGRES_PASSWORD")
	}
	mysqlUser := env(t, p, "vigil-discovery-1", "VIGIL_MYSQL_USER")
	mysqlPassword := env(t, p, "vigil-discovery-1", "VIGIL_MYSQL_PASSWORD")
	want := "CREATE USER '" + mysqlUser + "'@'%' IDENTIFIED BY '" + mysqlPassword + "'"
	for _, file := range []string{"mariadb/master.sql", "mariadb/replica.sql"} {
		if !strings.Contains(readFile(t, file), want) {
			t.Errorf("%s does not create the user of vigil.env (%s with its password)", file, mysqlUser)
		}
	}
}

func env(t *testing.T, p *types.Project, service, key string) string {
	t.Helper()
	v := p.Services[service].Environment[key]
	if v == nil || *v == "" {
		t.Fatalf("%s: %s is not set", service, key)
	}
	return *v
}

func TestDependenciesWaitForHealth(t *testing.T) {
	p := project(t)
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionHealthy && p.Services[dep].HealthCheck == nil {
				t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}
	for _, want := range []struct{ service, dep string }{
		{"vigil-discovery-1", "postgres"},
		{"vigil-discovery-1", "etcd"},
		{"vigil-discovery-1", "mariadb-1"},
		{"vigil-discovery-2", "postgres"},
		{"vigil-discovery-2", "etcd"},
		{"vigil-analyzer", "postgres"},
		{"vigil-analyzer", "etcd"},
		{"vigil-recovery", "postgres"},
		{"vigil-recovery", "etcd"},
		{"mariadb-2", "mariadb-1"},
	} {
		if got := p.Services[want.service].DependsOn[want.dep].Condition; got != types.ServiceConditionHealthy {
			t.Errorf("%s depends on %s with condition %q, want %s", want.service, want.dep, got, types.ServiceConditionHealthy)
		}
	}
	for _, name := range []string{"postgres", "etcd", "mariadb-1", "mariadb-2"} {
		if p.Services[name].HealthCheck == nil {
			t.Errorf("%s has no healthcheck", name)
		}
	}
}

// TestBindMountsExist checks that every file the stack mounts is here.
func TestBindMountsExist(t *testing.T) {
	p := project(t)
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s: %v", name, v.Source, err)
			}
		}
	}
}

func TestMariaDBTopology(t *testing.T) {
	p := project(t)
	ids := map[string]string{}
	for _, name := range []string{"mariadb-1", "mariadb-2"} {
		args := p.Services[name].Command
		if !slices.Contains(args, "--report-host="+name) || !slices.Contains(args, "--report-port=3306") {
			t.Errorf("%s: command %q does not report itself as %s:3306", name, args, name)
		}
		for _, a := range args {
			if id, ok := strings.CutPrefix(a, "--server-id="); ok {
				if other, dup := ids[id]; dup {
					t.Errorf("%s and %s share server id %s", name, other, id)
				}
				ids[id] = name
			}
		}
	}
	if len(ids) != 2 {
		t.Errorf("server ids %v, want one per server", ids)
	}
	replica := readFile(t, "mariadb/replica.sql")
	for _, want := range []string{"MASTER_HOST = 'mariadb-1'", "MASTER_USE_GTID = slave_pos", "START SLAVE"} {
		if !strings.Contains(replica, want) {
			t.Errorf("mariadb/replica.sql lacks %q", want)
		}
	}
}

// TestVigilConfig loads vigil.yaml into the real configuration, strictly,
// and checks that every address in it names a service of the stack.
func TestVigilConfig(t *testing.T) {
	cfg, err := app.LoadConfig("vigil.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("vigil.yaml: %v", err)
	}
	p := project(t)
	listen := map[string]string{
		"vigil-discovery-1": cfg.Discovery.ListenAddr, "vigil-discovery-2": cfg.Discovery.ListenAddr, "vigil-analyzer": cfg.Analyzer.ListenAddr,
		"vigil-recovery": cfg.Recovery.ListenAddr, "vigil-gateway": cfg.Gateway.ListenAddr,
	}
	for container, addr := range listen {
		if host, _, _ := net.SplitHostPort(addr); host != "0.0.0.0" {
			t.Errorf("%s listens on %q, want 0.0.0.0 inside its container", container, addr)
		}
	}
	// target checks that addr is host:port of a service of the stack and,
	// for a Vigil service, the port it listens on.
	target := func(key, addr string) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			return
		}
		if _, ok := p.Services[host]; !ok {
			t.Errorf("%s: %q is not a service of compose.yaml", key, addr)
		}
		if l, ok := listen[host]; ok && !strings.HasSuffix(l, ":"+port) {
			t.Errorf("%s: %q, but %s listens on %s", key, addr, host, l)
		}
	}
	for i, a := range cfg.Analyzer.DiscoveryAddrs {
		target(fmt.Sprintf("analyzer.discovery_addrs[%d]", i), a)
	}
	for i, a := range cfg.Recovery.AnalyzerAddrs {
		target(fmt.Sprintf("recovery.analyzer_addrs[%d]", i), a)
	}
	for i, a := range cfg.Recovery.DiscoveryAddrs {
		target(fmt.Sprintf("recovery.discovery_addrs[%d]", i), a)
	}
	coordinator, err := url.Parse(cfg.Coordinator)
	if err != nil || coordinator.Scheme != "etcd" {
		t.Errorf("coordinator: %q, want etcd:// (several processes need one coordinator)", cfg.Coordinator)
	} else {
		target("coordinator", coordinator.Host)
	}
	target("gateway.discovery_addr", cfg.Gateway.DiscoveryAddr)
	target("gateway.analyzer_addr", cfg.Gateway.AnalyzerAddr)
	target("gateway.recovery_addr", cfg.Gateway.RecoveryAddr)
	if len(cfg.Discovery.Seeds) == 0 {
		t.Error("discovery.seeds: empty, so there is nothing to discover")
	}
	for _, seed := range cfg.Discovery.Seeds {
		target("discovery.seeds", seed)
	}
	store, err := url.Parse(cfg.Store)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	if _, ok := p.Services[store.Hostname()]; !ok || store.User.Username() == "" {
		t.Errorf("store: %q does not name a user on a service of compose.yaml", cfg.Store)
	}
	if _, hasPassword := store.User.Password(); hasPassword {
		t.Error("store: the URL holds a password; it belongs in PGPASSWORD (vigil.env)")
	}
	if cfg.Gateway.ShutdownTimeout.Seconds() >= 10 {
		t.Errorf("gateway.shutdown_timeout: %s is not below compose's 10 s stop grace period", cfg.Gateway.ShutdownTimeout)
	}
}

// TestDockerfileBuildsWhatComposeRuns reads the Dockerfile as text: the build
// stage must build vigil and vigilctl, and the image must run vigil as a user
// other than root.
func TestDockerfileBuildsWhatComposeRuns(t *testing.T) {
	text := readFile(t, "Dockerfile")
	var from, build, user, entrypoint []string
	for _, line := range instructions(text) {
		switch keyword, rest, _ := strings.Cut(line, " "); strings.ToUpper(keyword) {
		case "FROM":
			from = append(from, rest)
		case "RUN":
			if strings.Contains(rest, "go build") {
				build = append(build, rest)
			}
		case "USER":
			user = append(user, rest)
		case "ENTRYPOINT":
			entrypoint = append(entrypoint, rest)
		}
	}
	if len(from) < 2 || !strings.HasPrefix(from[0], "golang:1.26 ") {
		t.Errorf("FROM lines %q, want a golang:1.26 build stage and a runtime stage", from)
	}
	if len(build) != 1 || !slices.Contains(strings.Fields(build[0]), "./cmd/vigil") || !slices.Contains(strings.Fields(build[0]), "./cmd/vigilctl") {
		t.Errorf("go build lines %q, want one building ./cmd/vigil and ./cmd/vigilctl", build)
	}
	if len(user) == 0 || slices.ContainsFunc(user, func(u string) bool {
		name, _, _ := strings.Cut(u, ":")
		return name == "root" || name == "0"
	}) {
		t.Errorf("USER lines %q, want a user other than root", user)
	}
	if len(entrypoint) != 1 || entrypoint[0] != `["/usr/local/bin/vigil"]` {
		t.Errorf("ENTRYPOINT lines %q, want [\"/usr/local/bin/vigil\"]", entrypoint)
	}
}

// instructions returns the Dockerfile's instructions, continuation lines
// joined and comments dropped.
func instructions(text string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if body, more := strings.CutSuffix(line, `\`); more {
			cur.WriteString(body)
			continue
		}
		cur.WriteString(line)
		out = append(out, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestTwoDiscoveryMembers: the members share the probing through etcd, each
// under a host name of its own that is also a service name (its member id
// and the address it registers), and the analyzer and recovery follow them
// from etcd.
func TestTwoDiscoveryMembers(t *testing.T) {
	p := project(t)
	cfg, err := app.LoadConfig("vigil.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]bool{}
	for container, service := range vigilServices {
		if service != app.Discovery {
			continue
		}
		s := p.Services[container]
		if s.Hostname != container {
			t.Errorf("%s: hostname %q, want %q: it names the member and the address it registers", container, s.Hostname, container)
		}
		hosts[s.Hostname] = true
	}
	if len(hosts) < 2 {
		t.Errorf("%d discovery members, want two", len(hosts))
	}
	if cfg.Discovery.ReplicationFactor != len(hosts) || cfg.Discovery.MemberID != app.DefaultConfig().Discovery.MemberID || cfg.Discovery.AdvertiseAddr != "" {
		t.Errorf("discovery: replication_factor %d, member_id %q, advertise_addr %q; want every member observing every instance, ids and addresses from the host names",
			cfg.Discovery.ReplicationFactor, cfg.Discovery.MemberID, cfg.Discovery.AdvertiseAddr)
	}
	if len(cfg.Analyzer.DiscoveryAddrs) != 0 || len(cfg.Recovery.DiscoveryAddrs) != 0 {
		t.Errorf("analyzer and recovery list discovery members %v, %v; want them followed from etcd", cfg.Analyzer.DiscoveryAddrs, cfg.Recovery.DiscoveryAddrs)
	}
}
