package main

import (
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/testutil"
)

// TestEndToEnd is issue #10's acceptance 1: the server on loopback ports
// with a temporary data directory, the whole offline-recognition flow over
// HTTPS, and the results checked with openssl: the certificate verifies,
// the revoked serial is on the CRL from the public listener, and OCSP says
// revoked. It also checks that a second organisation's operator does not
// find the product, and that a restart reuses everything.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	_, roots := evidenceCA(t)
	dir, api, pub := t.TempDir(), freeAddr(t), freeAddr(t)
	s := startServer(t, dir, api, pub, roots)

	// First start: credentials in DATA/bootstrap.json, mode 0600, and the
	// otpauth URI printed once.
	fi, err := os.Stat(filepath.Join(dir, BootstrapFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Contains(t, s.stdout.String(), "otpauth://totp/")
	admin := s.admin()
	adminToken := s.login(admin)

	rao := s.operator(adminToken, demoOrg, "rao1", "rao")
	token := s.login(rao)
	product := s.issued(t, token, demoOrg, rao.name, nil, 1) // artefacts uploaded, sealed by the server
	productID := product["id"].(string)
	certs := product["certificates"].([]any)
	require.Len(t, certs, 1)
	leafPEM := certs[0].(map[string]any)["pem"].(string)
	serial, ok := new(big.Int).SetString(certs[0].(map[string]any)["serial_number"].(string), 16)
	require.True(t, ok)

	// The certificate verifies against the CA certificates of the public
	// listener.
	work := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(work, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	root := write("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.public("/ca/root.crt")}))
	issuing := write("issuing.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.public("/ca/issuing.crt")}))
	chain := write("chain.pem", s.public("/ca/chain.pem"))
	leaf := write("leaf.pem", []byte(leafPEM))
	out := testutil.Run(t, openssl, "verify", "-CAfile", root, "-untrusted", issuing, leaf)
	assert.Contains(t, string(out), "leaf.pem: OK")

	// Another organisation's RAO does not find the product.
	r := s.do(http.MethodPost, "/v1/organisations", adminToken, map[string]any{"client_code": "OTHER", "name": "Other",
		"units": []map[string]string{{"id": demoUnit, "name": "Main"}}})
	require.Equalf(t, http.StatusCreated, r.status, "%s", r.raw)
	other := s.operator(adminToken, "OTHER", "rao2", "rao")
	otherToken := s.login(other)
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, "/v1/products/"+productID, otherToken, nil).status)
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodPost, "/v1/products/"+productID+"/revoke", otherToken,
		map[string]any{"requester": "certifier", "motivation": "key_compromise", "publication": "immediate"}).status)

	// Revoke with immediate publication.
	r = s.do(http.MethodPost, "/v1/products/"+productID+"/revoke", token,
		map[string]any{"requester": "certifier", "motivation": "key_compromise", "publication": "immediate", "notes": "end-to-end test"})
	require.Equalf(t, http.StatusOK, r.status, "revoke: %s", r.raw)
	assert.Equal(t, "revoked", r.body["status"])

	// The serial reaches a CRL of the public listener: the scheduler
	// coalesces immediate changes for a few seconds. The server is a real
	// process on the real clock, so the test polls it.
	want := strings.ToUpper(serial.Text(16))
	if len(want)%2 == 1 {
		want = "0" + want
	}
	deadline := time.Now().Add(90 * time.Second)
	var crlText string
	for {
		for _, path := range []string{"/crl/issuing-delta.crl", "/crl/issuing.crl"} {
			f := write("crl.der", s.public(path))
			crlText = string(testutil.Run(t, openssl, "crl", "-inform", "DER", "-in", f, "-noout", "-text"))
			if strings.Contains(crlText, want) {
				break
			}
		}
		if strings.Contains(crlText, want) || time.Now().After(deadline) {
			break
		}
		<-time.After(500 * time.Millisecond)
	}
	require.Containsf(t, crlText, want, "serial %s not on the CRLs", want)
	assert.Contains(t, crlText, "Key Compromise")

	// OCSP says revoked (openssl checks the response signature and nonce).
	ocsp, err := exec.Command(openssl, "ocsp", "-issuer", issuing, "-cert", leaf, "-url", "http://"+pub+"/ocsp",
		"-CAfile", chain, "-resp_text").CombinedOutput()
	require.NoErrorf(t, err, "%s", ocsp)
	assert.Contains(t, string(ocsp), "leaf.pem: revoked")
	assert.Contains(t, string(ocsp), "Response verify OK")

	// Health and metrics on the public listener.
	assert.Equal(t, "ok\n", string(s.public("/healthz")))
	metrics := string(s.public("/metrics"))
	assert.Contains(t, metrics, "registra_http_requests_total")
	assert.Contains(t, metrics, "registra_slow_hashes_waiting 0")

	// A graceful stop and a restart reuse the data directory.
	s.stop()
	before, err := os.ReadFile(filepath.Join(dir, BootstrapFile))
	require.NoError(t, err)
	s = startServer(t, dir, api, pub, roots)
	assert.NotContains(t, s.stdout.String(), "otpauth://", "the URI is printed once")
	after, err := os.ReadFile(filepath.Join(dir, BootstrapFile))
	require.NoError(t, err)
	assert.Equal(t, before, after)
	token = s.login(rao)
	r = s.do(http.MethodGet, "/v1/products/"+productID, token, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "revoked", r.body["status"])
	s.stop()
}
