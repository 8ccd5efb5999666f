package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// ErrNotInstalled is returned when mariadbd or mariadb-install-db cannot be
// found.
var ErrNotInstalled = errors.New("mariadb server not installed")

// templateFormat is bumped whenever the way a template is built changes,
// so that stale cached templates are not reused.
const templateFormat = "1"

// innodbArgs keep the footprint small; the template is built with the same
// redo log size so that instances do not resize it on first start.
var innodbArgs = []string{
	"--innodb-buffer-pool-size=8M", // mariadbd aborts below 6M
	"--innodb-log-file-size=8M",
	"--innodb-log-buffer-size=2M",
}

// Installed reports whether the MariaDB server binaries needed by Start are
// present.
func Installed() bool {
	_, err := findBinary("mariadbd")
	if err != nil {
		return false
	}
	_, err = findBinary("mariadb-install-db")
	return err == nil
}

// findBinary looks name up in PATH and then in the directories Debian
// installs it to, which are not in every user's PATH.
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrNotInstalled)
}

var (
	versionWord     = regexp.MustCompile(`Ver\s+(\S+)`)
	unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._+-]`)
)

// serverVersion returns the version string printed by `mariadbd --version`,
// made safe for use in a file name.
func serverVersion(ctx context.Context, mariadbd string) (string, error) {
	out, err := exec.CommandContext(ctx, mariadbd, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", mariadbd, err)
	}
	m := versionWord.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s --version: no version in %q", mariadbd, bytes.TrimSpace(out))
	}
	return unsafeFileChars.ReplaceAllString(string(m[1]), "_"), nil
}

// templateDir returns the cached template datadir for the installed server,
// building it first if needed. Concurrent callers in several processes are
// serialised by a file lock; the template appears by an atomic rename, so a
// crash while building never leaves a half-made template behind.
func templateDir(ctx context.Context, mariadbd string) (string, error) {
	version, err := serverVersion(ctx, mariadbd)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	root := filepath.Join(cache, "vigil-sandbox")
	final := filepath.Join(root, "template-"+version+"-f"+templateFormat)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("template cache: %w", err)
	}
	unlock, err := lockFile(ctx, final+".lock")
	if err != nil {
		return "", fmt.Errorf("template lock: %w", err)
	}
	defer unlock()
	if _, err := os.Stat(final); err == nil {
		return final, nil // built by another process while we waited
	}

	// Holding the lock, any other build directory is a crashed build's.
	stale, _ := filepath.Glob(filepath.Join(root, "building-*"))
	for _, d := range stale {
		_ = os.RemoveAll(d)
	}
	tmp, err := os.MkdirTemp(root, "building-")
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := installDB(ctx, filepath.Join(tmp, "data")); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, "data"), final); err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	return final, nil
}

// installDB runs mariadb-install-db into datadir.
func installDB(ctx context.Context, datadir string) error {
	bin, err := findBinary("mariadb-install-db")
	if err != nil {
		return err
	}
	args := []string{
		"--no-defaults",
		"--datadir=" + datadir,
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, innodbArgs...)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mariadb-install-db: %w\n%s", err, tail(out, 20))
	}
	return nil
}

// lockFile takes an exclusive flock on path, polling so that ctx can end
// the wait. The returned function releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// copyDir copies the template datadir to dst, which must not exist.
func copyDir(ctx context.Context, src, dst string) error {
	out, err := exec.CommandContext(ctx, "cp", "-a", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cp -a %s %s: %w: %s", src, dst, err, bytes.TrimSpace(out))
	}
	return nil
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
