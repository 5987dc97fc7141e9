package crl_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
	"github.com/registra-pki/registra/internal/testutil"
)

type ocspFixture struct {
	h     *crltest.Hierarchy
	store *crltest.Store
	r     *crl.Responder
	now   time.Time
}

func newOCSPFixture(t *testing.T, alg crltest.KeyAlgorithm) *ocspFixture {
	t.Helper()
	f := &ocspFixture{h: crltest.NewHierarchy(t, crltest.WithKeyAlgorithm(alg)), store: crltest.NewStore(), now: pinned}
	for i := int64(1); i <= 5; i++ {
		f.store.Issue(big.NewInt(i))
	}
	var err error
	f.r, err = crl.NewResponder(crl.ResponderConfig{
		Issuer: f.h.Issuing, Signer: f.h.OCSPSigner(), Source: f.store, Now: func() time.Time { return f.now },
	})
	require.NoError(t, err)
	return f
}

func (f *ocspFixture) change(t *testing.T, k crl.Kind, serial int64, reason crl.Reason) crl.Change {
	t.Helper()
	c, err := f.store.Change(k, big.NewInt(serial), reason, crl.Immediate, f.now)
	require.NoError(t, err)
	return c
}

func TestResponderStatuses(t *testing.T) {
	t.Parallel()
	f := newOCSPFixture(t, crltest.ECDSAP256)
	suspendedAt := f.now.Add(-3 * time.Hour)
	f.now = suspendedAt
	f.change(t, crl.Suspend, 2, 0)
	f.change(t, crl.Suspend, 3, 0)
	f.change(t, crl.Suspend, 4, 0)
	f.now = pinned.Add(-2 * time.Hour)
	f.change(t, crl.Revoke, 1, crl.KeyCompromise)
	f.change(t, crl.Revoke, 3, crl.PrivilegeWithdrawn) // back-dated to suspendedAt
	f.change(t, crl.Reactivate, 4, 0)
	f.now = pinned

	cases := []struct {
		name      string
		serial    int64
		status    int
		reason    int
		revokedAt time.Time
	}{
		{"good", 5, ocsp.Good, 0, time.Time{}},
		{"revoked", 1, ocsp.Revoked, int(crl.KeyCompromise), pinned.Add(-2 * time.Hour)},
		{"suspended is revoked with certificateHold", 2, ocsp.Revoked, int(crl.CertificateHold), suspendedAt},
		{"revoked while suspended is back-dated", 3, ocsp.Revoked, int(crl.PrivilegeWithdrawn), suspendedAt},
		{"reactivated is good", 4, ocsp.Good, 0, time.Time{}},
		{"never issued is unknown", 99, ocsp.Unknown, 0, time.Time{}},
	}
	for _, tc := range cases {
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
			t.Run(tc.name+"/"+h.String(), func(t *testing.T) {
				t.Parallel()
				nonce := []byte("0123456789abcdef")
				der, err := f.r.Respond(context.Background(), crltest.OCSPRequest(t, big.NewInt(tc.serial), f.h.Issuing, h, nonce))
				require.NoError(t, err)
				resp, err := ocsp.ParseResponseForCert(der, nil, f.h.Issuing)
				require.NoError(t, err)
				require.NoError(t, resp.CheckSignatureFrom(f.h.OCSP))
				assert.Equal(t, tc.status, resp.Status)
				assert.Equal(t, big.NewInt(tc.serial), resp.SerialNumber)
				assert.Equal(t, h, resp.IssuerHash)
				assert.True(t, resp.ThisUpdate.Equal(pinned))
				assert.True(t, resp.NextUpdate.Equal(pinned.Add(time.Hour)))
				assert.Equal(t, f.h.OCSP.Raw, resp.Certificate.Raw)
				if tc.status == ocsp.Revoked {
					assert.Equal(t, tc.reason, resp.RevocationReason)
					assert.True(t, tc.revokedAt.Equal(resp.RevokedAt), "%v != %v", tc.revokedAt, resp.RevokedAt)
				}
				got, single := crltest.ResponseNonce(t, der)
				assert.Equal(t, nonce, got, "nonce echoed in responseExtensions (RFC 6960 §4.4.1)")
				assert.Zero(t, single, "nothing in singleExtensions")
			})
		}
	}
}

func TestResponderBadInput(t *testing.T) {
	t.Parallel()
	f := newOCSPFixture(t, crltest.ECDSAP256)
	other := crltest.NewHierarchy(t)
	good := crltest.OCSPRequest(t, big.NewInt(1), f.h.Issuing, crypto.SHA1, nil)
	cases := []struct {
		name string
		req  []byte
		want ocsp.ResponseStatus
	}{
		{"empty", nil, ocsp.Malformed},
		{"garbage", []byte("not der at all"), ocsp.Malformed},
		{"truncated", good[:len(good)-3], ocsp.Malformed},
		{"trailing data", append(append([]byte{}, good...), 0), ocsp.Malformed},
		{"oversized", bytes.Repeat([]byte{0x30}, 5000), ocsp.Malformed},
		{"nonce too long", crltest.OCSPRequest(t, big.NewInt(1), f.h.Issuing, crypto.SHA1, bytes.Repeat([]byte{1}, 64)), ocsp.Malformed},
		{"other issuer", crltest.OCSPRequest(t, big.NewInt(1), other.Issuing, crypto.SHA1, nil), ocsp.Unauthorized},
		{"other issuer sha256", crltest.OCSPRequest(t, big.NewInt(1), other.Issuing, crypto.SHA256, nil), ocsp.Unauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			der, err := f.r.Respond(context.Background(), tc.req)
			require.NoError(t, err)
			_, err = ocsp.ParseResponse(der, nil)
			re, ok := errors.AsType[ocsp.ResponseError](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tc.want, re.Status)
		})
	}
}

func TestResponderCachesPerStatusVersion(t *testing.T) {
	t.Parallel()
	f := newOCSPFixture(t, crltest.ECDSAP256)
	req := crltest.OCSPRequest(t, big.NewInt(1), f.h.Issuing, crypto.SHA1, nil)
	first, err := f.r.Respond(context.Background(), req)
	require.NoError(t, err)
	again, err := f.r.Respond(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, first, again, "same status version: the cached response (ECDSA signatures differ on each signing)")

	f.change(t, crl.Suspend, 1, 0)
	held, err := f.r.Respond(context.Background(), req)
	require.NoError(t, err)
	resp, err := ocsp.ParseResponse(held, f.h.Issuing)
	require.NoError(t, err)
	assert.Equal(t, ocsp.Revoked, resp.Status, "a status change is visible at once")

	f.now = f.now.Add(31 * time.Minute)
	fresh, err := f.r.Respond(context.Background(), req)
	require.NoError(t, err)
	resp, err = ocsp.ParseResponse(fresh, f.h.Issuing)
	require.NoError(t, err)
	assert.True(t, resp.ThisUpdate.Equal(f.now), "refreshed after half the validity")

	withNonce := crltest.OCSPRequest(t, big.NewInt(1), f.h.Issuing, crypto.SHA1, []byte("nonce-1"))
	n1, err := f.r.Respond(context.Background(), withNonce)
	require.NoError(t, err)
	n2, err := f.r.Respond(context.Background(), withNonce)
	require.NoError(t, err)
	assert.NotEqual(t, n1, n2, "nonce responses are signed afresh")
}

func TestResponderHTTP(t *testing.T) {
	t.Parallel()
	f := newOCSPFixture(t, crltest.ECDSAP256)
	req := crltest.OCSPRequest(t, big.NewInt(1), f.h.Issuing, crypto.SHA1, nil)
	cases := []struct {
		name       string
		method     string
		path       string
		body       io.Reader
		wantStatus int
		wantOCSP   int // -1: no OCSP body expected
		cached     bool
	}{
		{"get", http.MethodGet, "/" + base64.StdEncoding.EncodeToString(req), nil, http.StatusOK, ocsp.Good, true},
		{"post", http.MethodPost, "/", bytes.NewReader(req), http.StatusOK, ocsp.Good, false},
		{"get bad base64", http.MethodGet, "/!!!", nil, http.StatusOK, -2, false},
		{"post oversized", http.MethodPost, "/", bytes.NewReader(make([]byte, 5000)), http.StatusRequestEntityTooLarge, -1, false},
		{"get too long", http.MethodGet, "/" + strings.Repeat("A", 20000), nil, http.StatusRequestURITooLong, -1, false},
		{"put", http.MethodPut, "/", bytes.NewReader(req), http.StatusMethodNotAllowed, -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			f.r.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, tc.body))
			require.Equal(t, tc.wantStatus, rec.Code)
			if tc.wantOCSP == -1 {
				return
			}
			assert.Equal(t, "application/ocsp-response", rec.Header().Get("Content-Type"))
			resp, err := ocsp.ParseResponse(rec.Body.Bytes(), f.h.Issuing)
			if tc.wantOCSP == -2 {
				re, ok := errors.AsType[ocsp.ResponseError](err)
				require.True(t, ok)
				assert.Equal(t, ocsp.Malformed, re.Status)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantOCSP, resp.Status)
			if tc.cached {
				assert.Equal(t, "max-age=3600, public, no-transform, must-revalidate", rec.Header().Get("Cache-Control"))
				assert.NotEmpty(t, rec.Header().Get("ETag"))
				assert.Equal(t, pinned.Add(time.Hour).Format(http.TimeFormat), rec.Header().Get("Expires"))
			} else {
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			}
		})
	}
}

func TestResponderConfigValidate(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	other := crltest.NewHierarchy(t)
	store := crltest.NewStore()
	cases := []struct {
		name  string
		cfg   crl.ResponderConfig
		field string
	}{
		{"no issuer", crl.ResponderConfig{Signer: h.OCSPSigner(), Source: store}, "issuer"},
		{"no signer", crl.ResponderConfig{Issuer: h.Issuing, Source: store}, "signer"},
		{"no source", crl.ResponderConfig{Issuer: h.Issuing, Signer: h.OCSPSigner()}, "source"},
		{"signer of another CA", crl.ResponderConfig{Issuer: h.Issuing, Signer: other.OCSPSigner(), Source: store}, "signer"},
		{"signer without OCSPSigning", crl.ResponderConfig{Issuer: h.Root, Signer: h.CRLSigner(), Source: store}, "signer"},
		{"negative validity", crl.ResponderConfig{Issuer: h.Issuing, Signer: h.OCSPSigner(), Source: store, Validity: -1}, "validity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := crl.NewResponder(tc.cfg)
			require.ErrorIs(t, err, crl.ErrInvalidInput)
			fe, ok := errors.AsType[*crl.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	_, err := crl.NewResponder(crl.ResponderConfig{Issuer: h.Issuing, Signer: h.CRLSigner(), Source: store})
	assert.NoError(t, err, "the CA may sign its own responses")
}

// TestOpenSSLOCSP runs openssl ocsp against the responder on loopback
// through issue, suspend and reactivate.
func TestOpenSSLOCSP(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	h := crltest.NewHierarchy(t)
	store := crltest.NewStore()
	r, err := crl.NewResponder(crl.ResponderConfig{Issuer: h.Issuing, Signer: h.OCSPSigner(), Source: store})
	require.NoError(t, err)
	srv := httptest.NewServer(r) // binds 127.0.0.1
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	serial := big.NewInt(0x4242)
	leaf := h.Leaf(t, serial, time.Now().Add(-time.Hour))
	store.Issue(serial)
	leafPath := crltest.WritePEM(t, dir, "leaf.pem", leaf)
	issuing := crltest.WritePEM(t, dir, "issuing.pem", h.Issuing)
	root := crltest.WritePEM(t, dir, "root.pem", h.Root)

	ask := func(post bool) string {
		t.Helper()
		args := []string{"ocsp", "-issuer", issuing, "-cert", leafPath, "-url", srv.URL, "-CAfile", root, "-resp_text"}
		if !post {
			args = append(args, "-no_nonce")
		}
		out := string(testutil.Run(t, openssl, args...))
		assert.Contains(t, out, "Response verify OK")
		if post {
			assert.NotContains(t, out, "WARNING: no nonce in response")
			assert.Contains(t, out, "OCSP Nonce:")
		}
		return out
	}
	out := ask(true)
	assert.Contains(t, out, leafPath+": good")

	_, err = store.Change(crl.Suspend, serial, 0, crl.Immediate, time.Now())
	require.NoError(t, err)
	out = ask(true)
	assert.Contains(t, out, leafPath+": revoked")
	assert.Contains(t, out, "Reason: certificateHold")

	_, err = store.Change(crl.Reactivate, serial, 0, crl.Immediate, time.Now())
	require.NoError(t, err)
	out = ask(true)
	assert.Contains(t, out, leafPath+": good")

	_, err = store.Change(crl.Revoke, serial, crl.KeyCompromise, crl.Immediate, time.Now())
	require.NoError(t, err)
	out = ask(false)
	assert.Contains(t, out, leafPath+": revoked")
	assert.Contains(t, out, "Reason: keyCompromise")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "done"), nil, 0o600))
}
