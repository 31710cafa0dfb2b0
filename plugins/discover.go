package plugins

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// FilePrefix starts the file name of every plugin executable.
const FilePrefix = "hookflow-plugin-"

// ManifestFile is the optional file in the plugins directory that pins
// plugins' checksums.
const ManifestFile = "plugins.yaml"

var (
	pluginNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	actionNamePattern = pluginNamePattern
	sha256Pattern     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// manifest is plugins.yaml:
//
//	plugins:
//	  chat: { sha256: "<64 hex digits>" }
type manifest struct {
	Plugins map[string]pin `yaml:"plugins"`
}

type pin struct {
	SHA256 string `yaml:"sha256"`
}

// readManifest reads dir/plugins.yaml; a missing file pins nothing. A file
// that does not parse is an error: loading unpinned what was meant to be
// pinned would defeat it.
func readManifest(dir string) (map[string]string, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var m manifest
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pins := map[string]string{}
	var errs []error
	for name, p := range m.Plugins {
		sum := strings.ToLower(strings.TrimSpace(p.SHA256))
		switch {
		case !pluginNamePattern.MatchString(name):
			errs = append(errs, fmt.Errorf("%s: plugins.%s: invalid plugin name (want [a-z0-9][a-z0-9_-]*)", path, name))
		case !sha256Pattern.MatchString(sum):
			errs = append(errs, fmt.Errorf("%s: plugins.%s.sha256: want 64 hex digits", path, name))
		default:
			pins[name] = sum
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return pins, nil
}

// candidate is one file in the plugins directory named like a plugin.
type candidate struct {
	name string // NAME of hookflow-plugin-NAME
	path string // as found in the directory
	real string // symlinks resolved: what is checked and run
	pin  string // pinned sha256 (hex), "" when unpinned
	sum  string // the file's sha256 (hex), "" when not read
}

// discover lists the plugin candidates of dir, sorted by name.
func discover(dir string) ([]*candidate, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read plugins directory: %w", err)
	}
	var out []*candidate
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), FilePrefix) {
			continue
		}
		out = append(out, &candidate{
			name: strings.TrimPrefix(e.Name(), FilePrefix),
			path: filepath.Join(dir, e.Name()),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// check decides whether c may be launched: a valid name, a regular
// executable file inside realDir (after symlinks), and a matching checksum
// when pinned. It fills c.real and c.sum.
func (c *candidate) check(realDir string) error {
	if !pluginNamePattern.MatchString(c.name) {
		return fmt.Errorf("%s: invalid plugin name %q (want %sNAME with NAME [a-z0-9][a-z0-9_-]*)", c.path, c.name, FilePrefix)
	}
	real, err := filepath.EvalSymlinks(c.path)
	if err != nil {
		return fmt.Errorf("%s: resolve: %w", c.path, err)
	}
	rel, err := filepath.Rel(realDir, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("%s: resolves to %s, outside the plugins directory", c.path, real)
	}
	c.real = real
	st, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("%s: %w", c.path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", c.path)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s: not executable (mode %v); make it executable with chmod +x", c.path, st.Mode().Perm())
	}
	sum, err := fileSHA256(real)
	if err != nil {
		return fmt.Errorf("%s: checksum: %w", c.path, err)
	}
	c.sum = sum
	if c.pin != "" && c.pin != sum {
		return fmt.Errorf("%s: sha256 mismatch: %s pins %s, the file has %s; refusing to run it", c.path, ManifestFile, c.pin, sum)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sumBytes decodes a hex sha256 ("" → nil).
func sumBytes(hexSum string) []byte {
	if hexSum == "" {
		return nil
	}
	b, _ := hex.DecodeString(hexSum)
	return b
}
