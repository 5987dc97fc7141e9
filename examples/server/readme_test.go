package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/testutil"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// TestReadmeQuickStart runs the README's quick start as a newcomer would:
// its shell block, unchanged but for the server's data directory and
// addresses, with bash, curl, jq, oathtool and openssl, against the example
// server, in a directory holding the files it uploads. The block must take
// an order from draft to a revoked certificate that the delta CRL lists and
// OCSP reports revoked.
func TestReadmeQuickStart(t *testing.T) {
	t.Parallel()
	for _, tool := range []struct{ name, pkg string }{
		{"bash", "bash"}, {"curl", "curl"}, {"jq", "jq"}, {"oathtool", "oathtool"}, {"openssl", "openssl"},
	} {
		testutil.RequireTool(t, tool.name, tool.pkg)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	script := quickStart(t, string(readme))

	dir, api, pub := t.TempDir(), freeAddr(t), freeAddr(t)
	startServer(t, dir, api, pub, "")
	script = strings.NewReplacer(
		"D=registra-data", "D="+dir,
		"https://localhost:8443", "https://localhost:"+api[strings.LastIndex(api, ":")+1:],
		"http://127.0.0.1:8080", "http://"+pub,
	).Replace(script)

	work := t.TempDir()
	for name, data := range map[string][]byte{
		"form.pdf":   recognitiontest.PDF("signed request form"),
		"report.pdf": recognitiontest.PDF("recognition report"),
		"front.jpg":  recognitiontest.JPEG("document front"),
		"back.jpg":   recognitiontest.JPEG("document back"),
	} {
		require.NoError(t, os.WriteFile(filepath.Join(work, name), data, 0o600))
	}
	cmd := exec.Command("bash", "-eo", "pipefail", "-c", script)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	require.NoErrorf(t, err, "the quick start failed:\n%s", out)

	text := string(out)
	assert.Contains(t, text, `"to_identify"`)
	assert.Contains(t, text, `"to_issue"`)
	leaf, err := os.ReadFile(filepath.Join(work, "leaf.pem"))
	require.NoError(t, err)
	assert.Contains(t, string(leaf), "-----BEGIN CERTIFICATE-----")
	assert.Regexp(t, regexp.MustCompile(`Revoked Certificates:\s+Serial Number: [0-9A-F]+`), text, "the delta CRL lists the serial")
	assert.Contains(t, text, "Response verify OK")
	assert.Contains(t, text, "leaf.pem: revoked")
}

// quickStart returns the first shell block after the README's "Quick start"
// heading.
func quickStart(t *testing.T, readme string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "\n## Quick start\n")
	require.True(t, ok, "README.md has no Quick start section")
	_, block, ok := strings.Cut(after, "```sh\n")
	require.True(t, ok, "no shell block in the Quick start")
	block, _, ok = strings.Cut(block, "\n```")
	require.True(t, ok, "the shell block is not closed")
	return block
}
