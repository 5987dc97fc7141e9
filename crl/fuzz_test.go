package crl_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
)

// fuzzSeeds are OCSP requests of every shape the responder handles.
func fuzzSeeds(t testing.TB, h *crltest.Hierarchy) [][]byte {
	other := crltest.NewHierarchy(t, crltest.WithKeyAlgorithm(crltest.Ed25519))
	good := crltest.OCSPRequest(t, big.NewInt(1), h.Issuing, crypto.SHA1, nil)
	nonce := crltest.OCSPRequest(t, big.NewInt(2), h.Issuing, crypto.SHA256, []byte("0123456789abcdef"))
	return [][]byte{
		good, nonce,
		crltest.OCSPRequest(t, big.NewInt(99), h.Issuing, crypto.SHA1, []byte{1}),
		crltest.OCSPRequest(t, big.NewInt(1), other.Issuing, crypto.SHA1, nil),
		good[:len(good)/2], nonce[:len(nonce)-1], {}, {0x30, 0x00}, {0x30, 0x80},
	}
}

// TestWriteFuzzCorpus rewrites testdata/fuzz/ with -update.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	h := crltest.NewHierarchy(t, crltest.WithKeyAlgorithm(crltest.Ed25519))
	for _, name := range []string{"FuzzResponder", "FuzzParseRequestExtensions"} {
		dir := filepath.Join("testdata", "fuzz", name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for i, s := range fuzzSeeds(t, h) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s), 0o644))
		}
	}
}

// FuzzResponder drives the whole request path: any input yields a
// well-formed OCSPResponse, and a successful one verifies.
func FuzzResponder(f *testing.F) {
	h := crltest.NewHierarchy(f, crltest.WithKeyAlgorithm(crltest.Ed25519))
	store := crltest.NewStore()
	store.Issue(big.NewInt(1))
	store.Issue(big.NewInt(2))
	_, err := store.Change(crl.Suspend, big.NewInt(2), 0, crl.Immediate, pinned)
	require.NoError(f, err)
	// The CA signs its own responses here: x/crypto/ocsp cannot verify an
	// Ed25519 responder certificate, and Ed25519 keeps the seeds stable.
	r, err := crl.NewResponder(crl.ResponderConfig{Issuer: h.Issuing, Signer: h.CRLSigner(), Source: store,
		Now: func() time.Time { return pinned }})
	require.NoError(f, err)
	for _, s := range fuzzSeeds(f, h) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		der, err := r.Respond(context.Background(), req)
		require.NoError(t, err)
		resp, err := ocsp.ParseResponseForCert(der, nil, nil)
		if err != nil {
			_, isStatus := err.(ocsp.ResponseError)
			require.True(t, isStatus, "only error statuses may fail to parse: %v", err)
			return
		}
		require.NoError(t, h.Issuing.CheckSignature(x509.PureEd25519, resp.TBSResponseData, resp.Signature))
	})
}

// FuzzParseRequestExtensions checks the request-extension parser never
// panics and that a nonce it returns is no longer than RFC 8954 allows.
func FuzzParseRequestExtensions(f *testing.F) {
	h := crltest.NewHierarchy(f, crltest.WithKeyAlgorithm(crltest.Ed25519))
	for _, s := range fuzzSeeds(f, h) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		nonce, err := crl.ParseRequestExtensions(der)
		if err != nil {
			require.ErrorIs(t, err, crl.ErrInvalidInput)
			require.Nil(t, nonce)
			return
		}
		require.LessOrEqual(t, len(nonce), 64)
	})
}
