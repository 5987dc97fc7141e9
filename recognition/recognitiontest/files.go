package recognitiontest

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ConfigFiles are the files a server's recognition settings read
// (registra.RecognitionFiles), written by [WriteConfigFiles] into a
// temporary directory.
type ConfigFiles struct {
	Roots    string // PEM trust anchor of a qualified test root
	CRL      string // DER CRL of the root's intermediate CA
	CRLPEM   string // the same CRL, PEM
	VideoKey string // a 32-byte video provider key
	ShortKey string // a key too short to be one
	Metadata string // the identity provider's SAML metadata
	SPIDKey  string // a service provider RSA key, PKCS #1 PEM
	SPIDCert string // its self-signed certificate, PEM
	Outbox   string // a directory that does not exist yet, for OTPs
	Missing  string // a path to nothing
	// IdP is the identity provider whose metadata Metadata holds.
	IdP *IdP
}

// WriteConfigFiles writes the files of [ConfigFiles].
func WriteConfigFiles(t testing.TB) ConfigFiles {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	now := time.Now()
	qroot := NewRoot(t, "Qualified Test Root", now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	qca := qroot.NewIntermediate(t, "Qualified Test CA")
	crl := qca.CRL(t, now.Add(-time.Hour), now.Add(24*time.Hour), now)
	idp := NewIdP(t)
	key, cert := SelfSignedRSA(t, "registra SPID service provider")
	return ConfigFiles{
		Roots:    write("roots.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: qroot.Root().Raw})),
		CRL:      write("ca.crl", crl),
		CRLPEM:   write("ca-crl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})),
		VideoKey: write("video.key", bytes.Repeat([]byte("k"), 32)),
		ShortKey: write("short.key", []byte("too short")),
		Metadata: write("idp.xml", idp.Metadata(t)),
		SPIDKey:  write("sp.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		SPIDCert: write("sp.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		Outbox:   filepath.Join(dir, "outbox"),
		Missing:  filepath.Join(dir, "missing"),
		IdP:      idp,
	}
}
