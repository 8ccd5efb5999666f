// Package config reads Vigil's YAML configuration file. One file serves every
// process: the all-in-one binary reads all of it, a single-service binary
// reads the shared keys and its own section.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// Load decodes the whole file at path into dst. Keys dst does not have are
// errors, so a typo never silently falls back to a default.
func Load(path string, dst any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if err := decodeStrict(data, dst); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// LoadSections decodes the named top-level keys of the file at path, each
// into its destination, strictly, and ignores the other top-level keys (they
// belong to other services).
func LoadSections(path string, sections map[string]any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	for name, dst := range sections {
		node, ok := top[name]
		if !ok {
			continue
		}
		raw, err := yaml.Marshal(&node)
		if err != nil {
			return fmt.Errorf("config %s: %s: %w", path, name, err)
		}
		if err := decodeStrict(raw, dst); err != nil {
			return fmt.Errorf("config %s: %s: %w", path, name, err)
		}
	}
	return nil
}

func decodeStrict(data []byte, dst any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
