package httpapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/internal/atomicfile"
)

// renewBefore is how long before notAfter the server certificate is
// replaced at start-up.
const renewBefore = 30 * 24 * time.Hour

// ServerTLSConfig configures [ServerTLS].
type ServerTLSConfig struct {
	// Dir keeps server.pem (the certificate and the issuing CA),
	// server.key (mode 0600) and ca.pem (the root, for clients). Required.
	Dir string
	// Names are the certificate's DNS names. The ServerTLS profile carries
	// DNS names only, so clients of a loopback server connect to
	// "localhost". Required.
	Names []string
	// PublicURL is the base URL of the public listener, for the
	// certificate's CRL, OCSP and CA issuers URLs. Required.
	PublicURL string
}

// ServerTLS returns the operator API's TLS configuration: a certificate for
// cfg.Names from the platform's own issuing CA (profile ca.ServerTLS), kept
// in cfg.Dir and issued again when missing, for other names, or within 30
// days of its end.
func ServerTLS(ctx context.Context, p *registra.Platform, cfg ServerTLSConfig) (*tls.Config, error) {
	if cfg.Dir == "" || len(cfg.Names) == 0 || cfg.PublicURL == "" {
		return nil, &FieldError{Field: "ServerTLSConfig", Rule: "Dir, Names and PublicURL are required"}
	}
	dir, names, publicURL := cfg.Dir, cfg.Names, cfg.PublicURL
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	certPath, keyPath := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	h := p.Hierarchy()
	if err := atomicfile.Write(filepath.Join(dir, "ca.pem"), pemCerts(h.Root()), 0o644); err != nil {
		return nil, err
	}
	if pair, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && usable(pair.Leaf, h, names) {
		return tlsConfig(pair), nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("httpapi: loading %s: %w", certPath, err)
	}

	iss, err := ca.NewIssuer(ca.Config{
		Hierarchy: h,
		PolicyOID: registra.DefaultPolicyOID,
		// ServerTLS carries no PDS; the issuer's configuration needs one.
		PDS:          []ca.PDSLocation{{URL: "https://localhost/pds/en.pdf", Language: "en"}},
		CRLURL:       publicURL + "/crl/issuing.crl",
		OCSPURL:      publicURL + "/ocsp",
		CAIssuersURL: publicURL + "/ca/issuing.crt",
	})
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	issued, err := iss.Issue(ctx, ca.Request{Profile: ca.ServerTLS, PublicKey: key.Public(), DNSNames: names})
	if err != nil {
		return nil, fmt.Errorf("httpapi: issuing the server certificate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(certPath, pemCerts(append([]*x509.Certificate{issued.Certificate}, issued.Chain[:len(issued.Chain)-1]...)...), 0o644); err != nil {
		return nil, err
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	return tlsConfig(pair), nil
}

// usable reports whether leaf was issued by h's issuing CA for names and is
// not near its end.
func usable(leaf *x509.Certificate, h *ca.Hierarchy, names []string) bool {
	return leaf != nil && leaf.CheckSignatureFrom(h.Issuing()) == nil &&
		slices.Equal(leaf.DNSNames, names) && time.Until(leaf.NotAfter) > renewBefore
}

func tlsConfig(pair tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

func pemCerts(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}
