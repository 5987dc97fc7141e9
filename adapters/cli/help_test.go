package cli_test

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/cli"
)

// walk calls fn for every command of the tree under c, c included.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// TestEveryCommandHasAnExample walks the command tree and checks that the
// --help of every command shows an example (issue #11, acceptance 3).
func TestEveryCommandHasAnExample(t *testing.T) {
	t.Parallel()
	root := cli.New(cli.Config{})
	n := 0
	walk(root, func(c *cobra.Command) {
		n++
		path := strings.Fields(c.CommandPath())[1:]
		assert.NotEmpty(t, strings.TrimSpace(c.Example), "%q has no example", c.CommandPath())
		assert.NotEmpty(t, c.Short, "%q has no short description", c.CommandPath())
		r := run(t, cli.Config{}, "", append(path, "--help")...)
		require.Equal(t, cli.ExitOK, r.code, "%s --help: %s", c.CommandPath(), r.stderr)
		assert.Contains(t, r.stdout, "Examples:", "%s --help", c.CommandPath())
	})
	assert.Greater(t, n, 35, "the walk found too few commands")
	// The help command and the completion command are ours too.
	for _, name := range []string{"help", "completion", "init", "serve", "audit", "evidence", "envelope", "crl", "login",
		"order", "recognition", "issue", "suspend", "reactivate", "revoke", "search", "product"} {
		c, _, err := root.Find([]string{name})
		require.NoError(t, err)
		assert.Equal(t, name, c.Name())
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"search", "--colour"}, "unknown flag: --colour"},
		{"missing argument", []string{"order", "get"}, "expected 1 argument(s): ORDER"},
		{"extra argument", []string{"order", "submit", "a", "b"}, "expected 1 argument(s)"},
		{"bad status", []string{"search", "--status", "asleep"}, `--status: "asleep"`},
		{"bad date", []string{"search", "--input-from", "01/02/2026"}, "--input-from"},
		{"bad list", []string{"search", "--list", "everything"}, "--list"},
		{"bad motivation", []string{"revoke", "P1", "--requester", "owner", "--motivation", "boredom"}, "--motivation"},
		{"missing until", []string{"suspend", "P1"}, "--until is required"},
		{"bad until", []string{"suspend", "P1", "--until", "tomorrow"}, "--until"},
		{"bad publication", []string{"reactivate", "P1", "--publication", "someday"}, "--publication"},
		{"bad method", []string{"order", "create", "--method", "telepathy"}, "--method"},
		{"bad role", []string{"operator", "create", "--username", "u", "--name", "n", "--email", "e@x", "--role", "king"}, "--role"},
		{"bad shell", []string{"completion", "tcsh"}, "SHELL"},
		{"no server", []string{"login", "--username", "u"}, "--server is required"},
		{"bad server", []string{"login", "--server", "ftp://x", "--username", "u"}, "--server"},
		{"bad algorithm", []string{"init", "--data", "x", "--algorithm", "DSA"}, "--algorithm"},
		{"no hsm support", []string{"init", "--data", "x", "--hsm", "pkcs11:token=t"}, "without HSM support"},
		{"no server support", []string{"serve"}, "without the server"},
		{"evidence without roots", []string{"evidence", "verify", "b.bin"}, "--roots or --data"},
		{"passphrase choice", []string{"issue", "O1"}, "--tax-code-passphrase or --passphrase-file"},
		{"offline without uploads", []string{"recognition", "offline", "O1"}, "--upload is required"},
		{"offline upload spelling", []string{"recognition", "offline", "O1", "--upload", "front.jpg"}, "is not KIND=FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, cli.Config{}, "", tc.args...)
			assert.Equal(t, cli.ExitUsage, r.code, "%s", r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Equal(t, 2, strings.Count(r.stderr, "\n"), "one line and the hint: %q", r.stderr)
		})
	}
}

func TestNotLoggedIn(t *testing.T) {
	t.Parallel()
	r := run(t, cli.Config{}, "", "order", "get", "O1")
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Contains(t, r.stderr, "registra login")
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	r := run(t, cli.Config{}, "", "completion", "bash")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "registra")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	r := run(t, cli.Config{ConfigDir: "relative/dir"}, "", "whoami")
	assert.Equal(t, cli.ExitUsage, r.code)
	assert.Contains(t, r.stderr, "ConfigDir")
	assert.NoError(t, (&cli.Config{ConfigDir: t.TempDir()}).Validate())
}
