package mysql

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// Environment variables read by LoadCredentials.
const (
	EnvUser            = "VIGIL_MYSQL_USER"
	EnvPassword        = "VIGIL_MYSQL_PASSWORD"
	EnvCredentialsFile = "VIGIL_MYSQL_CREDENTIALS_FILE"

	EnvReplicationUser     = "VIGIL_MYSQL_REPLICATION_USER"
	EnvReplicationPassword = "VIGIL_MYSQL_REPLICATION_PASSWORD"
)

const redacted = "[redacted]"

// Credentials are the user and password Vigil logs in to every server with.
// String, GoString and LogValue never show the password.
type Credentials struct {
	User     string
	Password string
}

// LoadCredentials reads the topology user from the environment: from the
// file named by VIGIL_MYSQL_CREDENTIALS_FILE when it is set (lines
// "user=..." and "password=...", blank lines and '#' comments allowed,
// whitespace around keys and values trimmed), otherwise from
// VIGIL_MYSQL_USER and VIGIL_MYSQL_PASSWORD. A missing user is an error; an
// empty password is allowed.
func LoadCredentials(getenv func(string) string) (Credentials, error) {
	if path := getenv(EnvCredentialsFile); path != "" {
		return loadCredentialsFile(path)
	}
	c := Credentials{User: getenv(EnvUser), Password: getenv(EnvPassword)}
	if c.User == "" {
		return Credentials{}, fmt.Errorf("mysql credentials: %s is not set (set it and %s, or %s)",
			EnvUser, EnvPassword, EnvCredentialsFile)
	}
	return c, nil
}

// LoadReplicationCredentials reads the user replicas log in to their
// source with, which a former master needs to replicate from its
// successor: VIGIL_MYSQL_REPLICATION_USER and
// VIGIL_MYSQL_REPLICATION_PASSWORD. Both unset is no user (ok false).
func LoadReplicationCredentials(getenv func(string) string) (c Credentials, ok bool, err error) {
	c = Credentials{User: getenv(EnvReplicationUser), Password: getenv(EnvReplicationPassword)}
	if c.User == "" {
		if c.Password != "" {
			return Credentials{}, false, fmt.Errorf("replication credentials: %s is set but %s is not", EnvReplicationPassword, EnvReplicationUser)
		}
		return Credentials{}, false, nil
	}
	if _, err := literal(EnvReplicationUser, c.User, strconv.Quote(c.User)); err != nil {
		return Credentials{}, false, fmt.Errorf("replication credentials: %w", err)
	}
	if _, err := literal(EnvReplicationPassword, c.Password, redacted); err != nil {
		return Credentials{}, false, fmt.Errorf("replication credentials: %w", err)
	}
	return c, true, nil
}

func loadCredentialsFile(path string) (Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("mysql credentials: read %s %s: %w", EnvCredentialsFile, path, err)
	}
	c, err := parseCredentials(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("mysql credentials: %s %s: %w", EnvCredentialsFile, path, err)
	}
	return c, nil
}

// parseCredentials reads "key=value" lines. Errors name the line, never its
// value, which may be the password.
func parseCredentials(data []byte) (Credentials, error) {
	var c Credentials
	var sawUser bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return Credentials{}, fmt.Errorf("line %d: want key=value", n)
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "user":
			c.User, sawUser = strings.TrimSpace(value), true
		case "password":
			c.Password = strings.TrimSpace(value)
		default:
			return Credentials{}, fmt.Errorf("line %d: unknown key %q (want user or password)", n, strings.TrimSpace(key))
		}
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, err
	}
	if !sawUser || c.User == "" {
		return Credentials{}, errors.New("no user= line")
	}
	return c, nil
}

// String returns the user with the password redacted.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{User: %q, Password: %s}", c.User, c.maskedPassword())
}

// GoString is String, so that %#v does not print the password either.
func (c Credentials) GoString() string { return c.String() }

// LogValue logs the user and a redacted password.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", c.User), slog.String("password", c.maskedPassword()))
}

// maskedPassword says whether a password is set without showing it.
func (c Credentials) maskedPassword() string {
	if c.Password == "" {
		return `""`
	}
	return redacted
}

// scrub removes the password from text meant for people.
func (c Credentials) scrub(text string) string {
	if c.Password == "" {
		return text
	}
	return strings.ReplaceAll(text, c.Password, redacted)
}
