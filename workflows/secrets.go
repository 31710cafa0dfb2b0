package workflows

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// MaxSecretFileSize bounds a file of the secrets directory.
const MaxSecretFileSize = 64 << 10

// secretName is what a secret may be called: it names an environment
// variable or a file, so it may not be a path.
var secretName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

func validSecretName(name string) bool { return secretName.MatchString(name) }

// LoadSecrets resolves the secrets a workflow set refers to (see
// Set.SecretNames). The value of NAME is the content of the file NAME in dir,
// without its trailing newline; when dir is "" or has no such file, it is
// the environment variable NAME, read with getenv (os.Getenv when nil).
//
// A file wins over an environment variable: a mounted secrets directory
// (Docker or Kubernetes secrets) is the deliberate source, while a variable
// of the same name may be inherited by accident. An empty value counts as
// missing. The error names every missing secret and never contains a value.
func LoadSecrets(dir string, names []string, getenv func(string) string) (map[string]string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	out := make(map[string]string, len(names))
	var missing, bad []string
	var errs []error
	for _, name := range names {
		if !validSecretName(name) {
			bad = append(bad, fmt.Sprintf("%q", name))
			continue
		}
		if dir != "" {
			v, found, err := readSecretFile(filepath.Join(dir, name))
			if err != nil {
				errs = append(errs, fmt.Errorf("secret %s: %w", name, err))
				continue
			}
			if found {
				if v == "" {
					missing = append(missing, name+" (empty file)")
					continue
				}
				out[name] = v
				continue
			}
		}
		if v := getenv(name); v != "" {
			out[name] = v
			continue
		}
		missing = append(missing, name)
	}
	if len(bad) > 0 {
		errs = append(errs, fmt.Errorf("invalid secret names: %s", strings.Join(bad, ", ")))
	}
	if len(missing) > 0 {
		where := "an environment variable"
		if dir != "" {
			where = "a file in " + dir + " or an environment variable"
		}
		errs = append(errs, fmt.Errorf("missing secrets: %s (set each as %s)", strings.Join(missing, ", "), where))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("loading secrets: %w", errors.Join(errs...))
	}
	return out, nil
}

// readSecretFile reads one secret file. found is false when there is no
// such file. Errors never contain the file's content.
func readSecretFile(path string) (value string, found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("opening secret file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "", false, fmt.Errorf("%s is a directory", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretFileSize+1))
	if err != nil {
		return "", false, fmt.Errorf("reading secret file: %w", err)
	}
	if len(b) > MaxSecretFileSize {
		return "", false, fmt.Errorf("%s is larger than %d bytes", path, MaxSecretFileSize)
	}
	return strings.TrimRight(string(b), "\r\n"), true, nil
}
