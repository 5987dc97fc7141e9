package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/internal/testutil"
)

// TestGoRun runs the command as documented, `go run ./examples/envelope
// -passphrase P -out DIR`, and opens both files with foreign tools.
func TestGoRun(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	pdftotext := testutil.RequireTool(t, "pdftotext", "poppler-utils")
	const pass = "correct horse battery"
	dir := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command("go", "run", ".", "-passphrase", pass, "-out", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 2)
	assert.Regexp(t, regexp.MustCompile(`^signing_pin: [0-9]{8}$`), lines[0])
	assert.Regexp(t, regexp.MustCompile(`^emergency_code: [2-9A-HJKMNP-Z]{12}$`), lines[1])

	p7m := filepath.Join(dir, "codes.p7m")
	out := testutil.Run(t, openssl, "cms", "-decrypt", "-inform", "DER", "-in", p7m, "-pwri_password", pass)
	for _, l := range lines {
		assert.Contains(t, string(out), l+"\n")
	}
	text := testutil.Run(t, pdftotext, "-upw", pass, filepath.Join(dir, "codes.pdf"), "-")
	for _, l := range lines {
		_, code, _ := strings.Cut(l, ": ")
		assert.Contains(t, string(text), code)
	}
	for _, f := range []string{"codes.p7m", "codes.pdf"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	}
}

func TestRunDeviceWithTaxCode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-tax-code", " rssmra85t10a562s ", "-scheme", "device", "-iterations", "1000", "-out", dir}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[1], "puk: "))

	data, err := os.ReadFile(filepath.Join(dir, "codes.p7m"))
	require.NoError(t, err)
	c, err := envelope.NewCMS(envelope.CMSConfig{})
	require.NoError(t, err)
	codes, err := c.Open(context.Background(), &envelope.Envelope{Data: data}, "RSSMRA85T10A562S")
	require.NoError(t, err, "the tax code is normalised to upper case")
	for i, nc := range codes {
		assert.Equal(t, string(nc.Name)+": "+string(nc.Code), lines[i])
	}
}

func TestRunRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr error
	}{
		{"short passphrase", []string{"-passphrase", "short", "-out", "x"}, envelope.ErrInvalidInput},
		{"no passphrase", []string{"-out", "x"}, envelope.ErrInvalidInput},
		{"bad iterations", []string{"-passphrase", "correct horse battery", "-iterations", "10", "-out", "x"}, envelope.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := append([]string(nil), tc.args...)
			args[len(args)-1] = filepath.Join(dir, "out")
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			assert.ErrorIs(t, err, tc.wantErr)
			assert.Empty(t, stdout.String())
			_, statErr := os.Stat(filepath.Join(dir, "out"))
			assert.ErrorIs(t, statErr, os.ErrNotExist, "nothing written")
		})
	}
	var stdout, stderr bytes.Buffer
	assert.Error(t, run(context.Background(), []string{"-passphrase", "correct horse battery"}, &stdout, &stderr))
	assert.Error(t, run(context.Background(), []string{"-passphrase", "correct horse battery", "-scheme", "x", "-out", t.TempDir()}, &stdout, &stderr))
}
