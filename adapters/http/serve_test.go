package httpapi_test

import (
	"context"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "github.com/registra-pki/registra/adapters/http"
)

// TestServerTLS issues the API's certificate from the platform's CA, keeps
// it, and issues a new one when the names change.
func TestServerTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cfg := httpapi.ServerTLSConfig{Dir: filepath.Join(t.TempDir(), "tls"), Names: []string{"localhost"}, PublicURL: "http://127.0.0.1:8080"}
	tc, err := httpapi.ServerTLS(ctx, e.p, cfg)
	require.NoError(t, err)
	leaf := tc.Certificates[0].Leaf
	require.NotNil(t, leaf)
	roots := x509.NewCertPool()
	roots.AddCert(e.p.Hierarchy().Root())
	inter := x509.NewCertPool()
	inter.AddCert(e.p.Hierarchy().Issuing())
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(cfg.Dir, "server.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	again, err := httpapi.ServerTLS(ctx, e.p, cfg)
	require.NoError(t, err)
	assert.True(t, again.Certificates[0].Leaf.Equal(leaf), "kept")

	cfg.Names = []string{"localhost", "registra.example"}
	other, err := httpapi.ServerTLS(ctx, e.p, cfg)
	require.NoError(t, err)
	assert.False(t, other.Certificates[0].Leaf.Equal(leaf), "issued again for other names")
	assert.Equal(t, cfg.Names, other.Certificates[0].Leaf.DNSNames)

	_, err = httpapi.ServerTLS(ctx, e.p, httpapi.ServerTLSConfig{})
	assert.ErrorIs(t, err, httpapi.ErrInvalidInput)
}

func TestServeConfigValidate(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = httpapi.Serve(context.Background(), httpapi.ServerConfig{Public: ln, ShutdownTimeout: -1})
	require.ErrorIs(t, err, httpapi.ErrInvalidInput)
	assert.EqualError(t, err, "httpapi: Platform: is required\nhttpapi: API: is required\nhttpapi: ShutdownTimeout: must not be negative")
}
