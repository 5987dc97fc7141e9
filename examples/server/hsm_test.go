package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
)

// TestHSM runs the server with its keys in a SoftHSM2 token (the -hsm-*
// settings, here through their environment variables): the CA keys, the
// evidence-sealing key and a holder's remote signature key are made in the
// token, non-extractable, and a recognition is sealed with the token's key.
func TestHSM(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	_, roots := evidenceCA(t)
	dir, api, pub := t.TempDir(), freeAddr(t), freeAddr(t)
	s := startServer(t, dir, api, pub, roots,
		"SOFTHSM2_CONF="+tk.Conf, "REGISTRA_HSM_MODULE="+tk.Config.ModulePath, "REGISTRA_HSM_TOKEN="+tk.Label,
		"REGISTRA_HSM_PIN_ENV=TEST_HSM_PIN", "TEST_HSM_PIN="+hsmtest.PIN)
	adminToken := s.login(s.admin())
	rao := s.operator(adminToken, demoOrg, "rao1", "rao")
	token := s.login(rao)
	product := s.issued(t, token, demoOrg, rao.name, nil, 7) // sealed with the evidence key in the token
	r := s.do(http.MethodGet, "/v1/products/"+product["id"].(string), token, nil)
	require.Equal(t, http.StatusOK, r.status)
	s.stop()

	labels := map[string]hsmtest.Object{}
	for _, o := range tk.Objects(t) {
		if o.Class == "Private Key" {
			labels[o.Label] = o
		}
	}
	for _, name := range []string{"registra-root", "registra-issuing", "registra-ocsp", "registra-evidence-seal", "holder-" + product["id"].(string)} {
		o, ok := labels[name]
		if assert.Truef(t, ok, "no private key %q in the token: %v", name, labels) {
			assert.True(t, o.Has("never extractable"), name)
		}
	}
}
