// Package testutil holds helpers shared by the test suites of registra's
// packages. It is imported only from _test.go files and test-support packages.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in continuous integration (CI=true).
// There, a test that needs a real component must fail rather than skip.
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// RequireTool returns the path of the named external program. When the program
// is missing the test is skipped on a developer machine, with a message naming
// the Debian package to install, and fails in CI, where `make test` must have
// installed it.
func RequireTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " not found: install it with `apt-get install " + debianPackage + "` (make test does this)"
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// RequireFile is RequireTool for a file such as a PKCS#11 module.
func RequireFile(t testing.TB, path, debianPackage string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	msg := path + " not found: install it with `apt-get install " + debianPackage + "` (make test does this)"
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Run runs an external program and fails the test with its combined output
// when it exits non-zero. It returns the combined output.
func Run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}
