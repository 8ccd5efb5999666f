package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type section struct {
	Listen   string        `yaml:"listen"`
	Interval time.Duration `yaml:"interval"`
}

type file struct {
	Store string  `yaml:"store"`
	A     section `yaml:"a"`
}

func write(t *testing.T, text string) string {
	path := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	f := file{A: section{Listen: "default"}}
	if err := Load(write(t, "store: memory\na:\n  interval: 250ms\n"), &f); err != nil {
		t.Fatal(err)
	}
	if f.Store != "memory" || f.A.Interval != 250*time.Millisecond || f.A.Listen != "default" {
		t.Errorf("loaded %+v", f)
	}
	if err := Load(write(t, "a:\n  intervall: 1s\n"), &f); err == nil || !strings.Contains(err.Error(), "intervall") {
		t.Errorf("unknown key: err = %v", err)
	}
	if err := Load(write(t, ""), &f); err != nil {
		t.Errorf("empty file: %v", err)
	}
	if err := Load(filepath.Join(t.TempDir(), "missing.yaml"), &f); err == nil {
		t.Error("missing file loaded")
	}
}

func TestLoadSections(t *testing.T) {
	var store string
	a := section{Listen: "default"}
	path := write(t, "store: pg\na:\n  listen: 1.2.3.4:5\nb:\n  whatever: 1\n")
	if err := LoadSections(path, map[string]any{"store": &store, "a": &a}); err != nil {
		t.Fatal(err)
	}
	if store != "pg" || a.Listen != "1.2.3.4:5" {
		t.Errorf("store=%q a=%+v", store, a)
	}
	bad := write(t, "a:\n  nope: 1\n")
	if err := LoadSections(bad, map[string]any{"a": &a}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown key in own section: err = %v", err)
	}
}
