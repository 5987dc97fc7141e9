package crl

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Signer signs CRLs and OCSP responses. The CRL signer is the issuing CA;
// the OCSP signer is its delegated responder.
//
// STYLE.md sketches crl.Signer as SignCRL(ctx, *x509.RevocationList); a
// million-entry x509.RevocationList costs about a gigabyte, so the
// streaming encoder signs the TBS bytes it built instead. *ca.Issuer
// satisfies this interface through [KeySigner] or its own method.
type Signer interface {
	// Certificate returns the signer's certificate.
	Certificate() *x509.Certificate
	// Sign signs digest (the message itself for Ed25519, with opts
	// crypto.Hash(0)) like crypto.Signer.Sign, honouring ctx.
	Sign(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error)
}

// KeySigner is a [Signer] made of a certificate and a crypto.Signer that
// holds its private key (a software key, or an HSM key through crypto11).
type KeySigner struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

var _ Signer = KeySigner{}

// Certificate returns s.Cert.
func (s KeySigner) Certificate() *x509.Certificate { return s.Cert }

// Sign checks ctx before and after the signature: crypto.Signer takes no
// context (STYLE.md §2.5).
func (s KeySigner) Sign(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sig, err := s.Key.Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("crl: signing: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sig, nil
}

// sigAlg is the signature algorithm a public key signs with.
type sigAlg struct {
	alg  x509.SignatureAlgorithm
	hash crypto.Hash
	oid  asn1.ObjectIdentifier
	null bool // parameters NULL (RSA PKCS#1 v1.5, RFC 4055 §5)
}

var (
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// sigAlgFor picks the algorithm Go's x509 package would pick for the key,
// so that our CRLs are byte-identical to x509.CreateRevocationList's.
func sigAlgFor(pub crypto.PublicKey) (sigAlg, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return sigAlg{x509.SHA256WithRSA, crypto.SHA256, oidSHA256WithRSA, true}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return sigAlg{x509.ECDSAWithSHA256, crypto.SHA256, oidECDSAWithSHA256, false}, nil
		case elliptic.P384():
			return sigAlg{x509.ECDSAWithSHA384, crypto.SHA384, oidECDSAWithSHA384, false}, nil
		case elliptic.P521():
			return sigAlg{x509.ECDSAWithSHA512, crypto.SHA512, oidECDSAWithSHA512, false}, nil
		}
	case ed25519.PublicKey:
		return sigAlg{x509.PureEd25519, crypto.Hash(0), oidEd25519, false}, nil
	}
	return sigAlg{}, &FieldError{Field: "signer", Rule: fmt.Sprintf("unsupported public key type %T", pub)}
}

// addAlgorithmIdentifier appends the AlgorithmIdentifier (RFC 5280 §4.1.1.2).
func (a sigAlg) addAlgorithmIdentifier(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(a.oid)
		if a.null {
			b.AddASN1NULL()
		}
	})
}

// sign hashes msg as the algorithm requires and signs it.
func (a sigAlg) sign(ctx context.Context, s Signer, msg []byte) ([]byte, error) {
	digest := msg
	if a.hash != 0 {
		h := a.hash.New()
		h.Write(msg)
		digest = h.Sum(nil)
	}
	return s.Sign(ctx, digest, a.hash)
}
