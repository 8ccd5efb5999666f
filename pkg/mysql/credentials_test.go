package mysql

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "# topology user\nuser = vigil\npassword=s3cret=x\n\n")
	noUser := write("nouser", "password=s3cret\n")
	badLine := write("badline", "user=vigil\ns3cret\n")
	unknown := write("unknown", "user=vigil\npasswd=s3cret\n")

	tests := []struct {
		name    string
		env     map[string]string
		want    Credentials
		wantErr string // substring; empty means success
	}{
		{"env", map[string]string{EnvUser: "vigil", EnvPassword: "s3cret"}, Credentials{"vigil", "s3cret"}, ""},
		{"env empty password", map[string]string{EnvUser: "vigil"}, Credentials{"vigil", ""}, ""},
		{"env no user", map[string]string{EnvPassword: "s3cret"}, Credentials{}, EnvUser},
		{"file", map[string]string{EnvCredentialsFile: good}, Credentials{"vigil", "s3cret=x"}, ""},
		{"file wins over env", map[string]string{EnvCredentialsFile: good, EnvUser: "other", EnvPassword: "other"},
			Credentials{"vigil", "s3cret=x"}, ""},
		{"file missing", map[string]string{EnvCredentialsFile: filepath.Join(dir, "absent")}, Credentials{}, "absent"},
		{"file no user", map[string]string{EnvCredentialsFile: noUser}, Credentials{}, "no user= line"},
		{"file bad line", map[string]string{EnvCredentialsFile: badLine}, Credentials{}, "line 2"},
		{"file unknown key", map[string]string{EnvCredentialsFile: unknown}, Credentials{}, `unknown key "passwd"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadCredentials(func(k string) string { return tt.env[k] })
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q contains the password", err)
			}
			if strings.Contains(tt.name, "file") && !strings.Contains(err.Error(), EnvCredentialsFile) {
				t.Errorf("error %q does not name %s", err, EnvCredentialsFile)
			}
		})
	}
}

func TestCredentialsNeverShowPassword(t *testing.T) {
	c := Credentials{User: "vigil", Password: "s3cret"}
	cfg := ProberConfig{Credentials: c}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "creds", c, "cfg", cfg)
	for _, s := range []string{
		c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v %#v", c, c, c),
		cfg.String(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg),
		logged.String(),
	} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%q shows the password", s)
		}
		if !strings.Contains(s, "vigil") {
			t.Errorf("%q does not show the user", s)
		}
	}
}
