package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/testutil"
)

var leaves = []string{"qualified.pem", "role.pem", "one-shot.pem", "authentication.pem", "usage-limited.pem", "device-signature.pem"}

// TestQuickstart runs the example on a fresh directory and checks every
// certificate with openssl: the chain with `openssl verify` and the encoding
// with `openssl x509 -text` (acceptance items 2 and 4).
func TestQuickstart(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	dir := filepath.Join(t.TempDir(), "out")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, &out))
	for _, f := range append([]string{"root.pem", "issuing.pem", "ocsp.pem"}, leaves...) {
		assert.Contains(t, out.String(), f)
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
	}

	root, issuing := filepath.Join(dir, "root.pem"), filepath.Join(dir, "issuing.pem")
	for _, f := range append([]string{"ocsp.pem"}, leaves...) {
		path := filepath.Join(dir, f)
		got := string(testutil.Run(t, openssl, "verify", "-x509_strict", "-CAfile", root, "-untrusted", issuing, path))
		assert.Equal(t, path+": OK\n", got)
	}
	testutil.Run(t, openssl, "verify", "-x509_strict", "-CAfile", root, issuing)

	text := func(f string) string {
		return string(testutil.Run(t, openssl, "x509", "-in", filepath.Join(dir, f), "-noout", "-text", "-nameopt", "RFC2253"))
	}
	for _, f := range []string{"root.pem", "issuing.pem", "ocsp.pem"} {
		assert.Contains(t, text(f), "O=Registra Example QTSP")
	}
	assert.Contains(t, text("root.pem"), "CA:TRUE")
	assert.Contains(t, text("issuing.pem"), "pathlen:0")
	assert.Contains(t, text("ocsp.pem"), "OCSP Signing")
	assert.Contains(t, text("ocsp.pem"), "OCSP No Check")

	for _, f := range []string{"qualified.pem", "role.pem", "one-shot.pem", "usage-limited.pem", "device-signature.pem"} {
		txt := text(f)
		assert.Contains(t, txt, "serialNumber=TINIT-RSSMRA85T10A562S", f)
		assert.Contains(t, txt, "dnQualifier=IUT-0000000001", f)
		assert.Contains(t, txt, "Non Repudiation", f)
		assert.Contains(t, txt, "Policy: 0.4.0.194112.1.2", f)
		assert.Contains(t, txt, "qcStatements", f)
		assert.Contains(t, txt, "URI:http://crl.registra.example/issuing.crl", f)
		assert.Contains(t, txt, "OCSP - URI:http://ocsp.registra.example", f)
		assert.Contains(t, txt, "CA Issuers - URI:http://crl.registra.example/issuing.cer", f)
	}
	role := text("role.pem")
	assert.Contains(t, role, "O=Example Partner S.p.A.")
	assert.Contains(t, role, "organizationIdentifier=VATIT-12345678901")
	assert.Contains(t, role, "title=Registration Authority Officer")
	assert.Contains(t, text("usage-limited.pem"), "User Notice")
	assert.Contains(t, text("usage-limited.pem"), "SPID")
	auth := text("authentication.pem")
	assert.Contains(t, auth, "TLS Web Client Authentication")
	assert.NotContains(t, auth, "qcStatements")
	assert.True(t, strings.Contains(text("one-shot.pem"), "Not After"))

	// A second run on the same directory reuses the hierarchy.
	rootBefore, err := os.ReadFile(root)
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, run(context.Background(), dir, &out))
	rootAfter, err := os.ReadFile(root)
	require.NoError(t, err)
	assert.Equal(t, rootBefore, rootAfter)
	testutil.Run(t, openssl, "verify", "-CAfile", root, "-untrusted", issuing, filepath.Join(dir, "qualified.pem"))
}
