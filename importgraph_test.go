package registra_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/registra-pki/registra"

// allowedImports is the import rule of DESIGN.md ("Import rules") as a table:
// for each registra package (by prefix, relative to the module) the registra
// packages it may import. A package matches the longest prefix present.
// Building blocks import only internal/; store knows the building blocks'
// types; the root wires everything; adapters import the root and the building
// blocks but never each other; only examples/ and cmd/ import adapters.
var allowedImports = map[string][]string{
	"internal":      {"internal"},
	"ca":            {"internal", "ca"},
	"lifecycle":     {"internal", "lifecycle"},
	"crl":           {"internal", "crl"},
	"envelope":      {"internal", "envelope"},
	"recognition":   {"internal", "recognition"},
	"access":        {"internal", "access"},
	"store":         {"internal", "store", "ca", "lifecycle", "crl", "envelope", "recognition", "access"},
	"":              {"internal", "ca", "lifecycle", "crl", "envelope", "recognition", "access", "store"},
	"adapters/hsm":  {"internal", "ca", "lifecycle", "crl", "envelope", "recognition", "access", "store", "", "adapters/hsm"},
	"adapters/http": {"internal", "ca", "lifecycle", "crl", "envelope", "recognition", "access", "store", "", "adapters/http"},
	"adapters/cli":  {"internal", "ca", "lifecycle", "crl", "envelope", "recognition", "access", "store", "", "adapters/cli"},
	"adapters/mail": {"internal", "ca", "lifecycle", "crl", "envelope", "recognition", "access", "store", "", "adapters/mail"},
	"registratest":  {"internal", "ca", "lifecycle", "crl", "envelope", "recognition", "access", "store", "", "registratest"},
	"examples":      {"*"},
	"cmd":           {"*"},
}

// rel returns the path of pkg relative to the module root ("" for the root).
func rel(pkg string) (string, bool) {
	if pkg == module {
		return "", true
	}
	if r, ok := strings.CutPrefix(pkg, module+"/"); ok {
		return r, true
	}
	return "", false
}

// ruleFor returns the longest key of allowedImports that is pkg or a parent of pkg.
func ruleFor(pkg string) string {
	best, found := "", false
	for k := range allowedImports {
		if k == "" {
			continue
		}
		if (pkg == k || strings.HasPrefix(pkg, k+"/")) && len(k) > len(best) {
			best, found = k, true
		}
	}
	if !found {
		return ""
	}
	return best
}

// allowed reports whether a package under rule may import dep (relative path).
func allowed(rule, dep string) bool {
	for _, a := range allowedImports[rule] {
		switch {
		case a == "*":
			return true
		case a == "" && dep == "":
			return true
		case a != "" && (dep == a || strings.HasPrefix(dep, a+"/")):
			return true
		}
	}
	return false
}

func TestImportGraph(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-test", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		// Test variants look like "pkg [pkg.test]": judge them as pkg, with
		// their test imports. The generated "pkg.test" mains are skipped.
		name, imports := fields[0], fields[1:]
		if len(imports) > 0 && strings.HasPrefix(imports[0], "[") {
			imports = imports[1:]
		}
		if strings.HasSuffix(name, ".test") {
			continue
		}
		// An external test package (pkg_test) is judged as pkg.
		name = strings.TrimSuffix(name, "_test")
		from, ok := rel(name)
		if !ok {
			continue
		}
		rule := ruleFor(from)
		for _, imp := range imports {
			to, ok := rel(imp)
			if !ok {
				continue
			}
			// Test-support packages (xxxtest, internal/testutil) may be imported by tests only;
			// go list -test reports test imports on the same line, so allow them here and
			// check below that no non-test package imports them.
			assertAllowed(t, from, rule, to)
		}
	}
}

func assertAllowed(t *testing.T, from, rule, to string) {
	t.Helper()
	if to == from || (isTestSupport(to) && !isTestSupport(from)) {
		return
	}
	if !allowed(rule, to) {
		t.Errorf("forbidden import: %s imports %s (rule %q allows %v)", show(from), show(to), rule, allowedImports[rule])
	}
}

func isTestSupport(p string) bool {
	last := p[strings.LastIndex(p, "/")+1:]
	return strings.HasSuffix(last, "test") || p == "internal/testutil"
}

func show(p string) string {
	if p == "" {
		return module
	}
	return p
}

// TestNoTestSupportInProduction checks that no non-test package imports a
// test-support package (xxxtest, internal/testutil).
func TestNoTestSupportInProduction(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from, ok := rel(fields[0])
		if !ok || isTestSupport(from) {
			continue
		}
		for _, imp := range fields[1:] {
			if to, ok := rel(imp); ok && isTestSupport(to) {
				t.Errorf("%s imports test-support package %s outside tests", show(from), show(to))
			}
		}
	}
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to string
		want     bool
	}{
		{"ca", "internal/taxcode", true},
		{"ca", "lifecycle", false},
		{"ca/lints/etsi", "ca", true},
		{"crl", "store", false},
		{"store", "lifecycle", true},
		{"store", "", false},
		{"", "store", true},
		{"", "adapters/http", false},
		{"adapters/http", "", true},
		{"adapters/http", "adapters/mail", false},
		{"adapters/hsm/hsmtest", "adapters/hsm", true},
		{"examples/server", "adapters/http", true},
		{"cmd/registra", "adapters/cli", true},
		{"internal/testutil", "ca", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, allowed(ruleFor(tt.from), tt.to), "%s -> %s", show(tt.from), show(tt.to))
	}
}
