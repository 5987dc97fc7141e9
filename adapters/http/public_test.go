package httpapi

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/ca/catest"
)

// echo answers with the method and path it sees, to check routing.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
})

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return string(b)
}

func TestPublic(t *testing.T) {
	t.Parallel()
	h := catest.NewHierarchy(t)
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "registra_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	p, err := NewPublic(PublicConfig{CA: h, CRL: echo, OCSP: echo, Metrics: reg, OpenAPI: []byte(`{"openapi":"3.1.0"}`)})
	require.NoError(t, err)

	t.Run("certificates", func(t *testing.T) {
		t.Parallel()
		for path, want := range map[string]*x509.Certificate{PathRootCert: h.Root(), PathIssuerCert: h.Issuing()} {
			r := get(t, p, http.MethodGet, path)
			assert.Equal(t, http.StatusOK, r.StatusCode)
			assert.Equal(t, "application/pkix-cert", r.Header.Get("Content-Type"))
			assert.Equal(t, string(want.Raw), body(t, r), path)
		}
		r := get(t, p, http.MethodGet, PathChain)
		rest := []byte(body(t, r))
		var got []*x509.Certificate
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			c, err := x509.ParseCertificate(b.Bytes)
			require.NoError(t, err)
			got = append(got, c)
		}
		require.Len(t, got, 2)
		assert.True(t, got[0].Equal(h.Issuing()), "issuing CA first")
		assert.True(t, got[1].Equal(h.Root()))
		assert.Equal(t, http.StatusMethodNotAllowed, get(t, p, http.MethodPost, PathRootCert).StatusCode)
	})
	t.Run("crl", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "GET "+PathCRL, body(t, get(t, p, http.MethodGet, PathCRL)))
		assert.Equal(t, "GET "+PathDeltaCRL, body(t, get(t, p, http.MethodGet, PathDeltaCRL)))
	})
	t.Run("ocsp", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "POST ", body(t, get(t, p, http.MethodPost, PathOCSP)))
		// Base64 may hold "//" and "+": not cleaned, not redirected.
		r := get(t, p, http.MethodGet, PathOCSP+"/MEow//+SDA=")
		assert.Equal(t, http.StatusOK, r.StatusCode)
		assert.Equal(t, "GET /MEow//+SDA=", body(t, r))
		assert.Equal(t, http.StatusNotFound, get(t, p, http.MethodGet, "/ocspx").StatusCode)
	})
	t.Run("metrics", func(t *testing.T) {
		t.Parallel()
		r := get(t, p, http.MethodGet, PathMetrics)
		assert.Equal(t, http.StatusOK, r.StatusCode)
		assert.Contains(t, body(t, r), "registra_test_total 1")
	})
	t.Run("openapi", func(t *testing.T) {
		t.Parallel()
		r := get(t, p, http.MethodGet, PathOpenAPI)
		assert.Equal(t, `{"openapi":"3.1.0"}`, body(t, r))
	})
	t.Run("healthz", func(t *testing.T) {
		t.Parallel()
		r := get(t, p, http.MethodGet, PathHealth)
		assert.Equal(t, http.StatusOK, r.StatusCode)
		assert.Equal(t, "ok\n", body(t, r))
	})
}

func TestPublicUnwired(t *testing.T) {
	t.Parallel()
	h := catest.NewHierarchy(t)
	p, err := NewPublic(PublicConfig{CA: h, Health: func(context.Context) error { return errors.New("store: closed") }})
	require.NoError(t, err)
	for _, path := range []string{PathCRL, PathDeltaCRL, PathOCSP, PathMetrics, PathOpenAPI, "/"} {
		assert.Equal(t, http.StatusNotFound, get(t, p, http.MethodGet, path).StatusCode, path)
	}
	r := get(t, p, http.MethodGet, PathHealth)
	assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
	assert.NotContains(t, body(t, r), "store", "failures are logged, not shown")
}

func TestPublicConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := NewPublic(PublicConfig{HealthTimeout: -1})
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.EqualError(t, err, "httpapi: CA: is required and must hold the root and issuing certificates\nhttpapi: HealthTimeout: must not be negative")
}
