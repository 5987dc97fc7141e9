package ca_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/ca"
)

// TestParseCertificate reads a certificate as DER and as PEM, and refuses
// other PEM blocks and garbage with a FieldError on "certificate".
func TestParseCertificate(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "parse test"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)

	tests := []struct {
		name string
		in   []byte
		rule string
	}{
		{"DER", der, ""},
		{"PEM", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ""},
		{"other PEM block", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), `PEM block is "X509 CRL", not CERTIFICATE`},
		{"garbage", []byte("not a certificate"), "is not an X.509 certificate"},
		{"empty", nil, "is not an X.509 certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := ca.ParseCertificate(tt.in)
			if tt.rule == "" {
				require.NoError(t, err)
				assert.Equal(t, der, cert.Raw)
				return
			}
			var fe *ca.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "certificate", fe.Field)
			assert.Contains(t, fe.Rule, tt.rule)
		})
	}
}
