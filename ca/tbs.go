package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	casapi "github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/softcas"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// errTBSCaptured stops x509.CreateCertificate once it has marshalled the TBS.
var errTBSCaptured = errors.New("ca: tbs captured")

// tbsCapture is a crypto.MessageSigner that records the message it is asked
// to sign (the DER TBSCertificate or TBSCertList) and refuses to sign it.
//
// Go does not export TBS marshalling, and x509.CreateCertificate verifies its
// own signature, which costs more than the signature itself. Capturing the
// TBS this way builds it with exactly the code that will later build the real
// certificate, at the cost of marshalling only; the throwaway signature for
// the lint certificate is then one plain Sign.
type tbsCapture struct {
	pub crypto.PublicKey
	tbs []byte
}

func (c *tbsCapture) Public() crypto.PublicKey { return c.pub }

func (c *tbsCapture) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errTBSCaptured
}

func (c *tbsCapture) SignMessage(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	c.tbs = bytes.Clone(msg)
	return nil, errTBSCaptured
}

// captureTBS returns the DER TBSCertificate x509.CreateCertificate would sign
// for template under parent, whose key is parentPub. The template must set
// SerialNumber, SubjectKeyId and SignatureAlgorithm, so that nothing in the
// TBS depends on randomness.
func captureTBS(template, parent *x509.Certificate, pub, parentPub crypto.PublicKey) ([]byte, error) {
	c := &tbsCapture{pub: parentPub}
	_, err := x509.CreateCertificate(rand.Reader, template, parent, pub, c)
	if !errors.Is(err, errTBSCaptured) {
		if err == nil {
			err = errors.New("certificate was signed by the capturing signer")
		}
		return nil, err
	}
	return c.tbs, nil
}

// throwaway is a key of the issuing CA's type, generated in memory and used
// only to sign lint certificates and lint CRLs, which are never published.
type throwaway struct {
	key crypto.Signer
}

func newThrowaway(alg KeyAlgorithm) (*throwaway, error) {
	var (
		key crypto.Signer
		err error
	)
	switch alg {
	case ECDSAP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA3072, RSA4096:
		// The signature only has to have the right form for the lints;
		// 2048 bits keeps the throwaway signature cheap.
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("ca: generating lint key: %w", err)
	}
	return &throwaway{key: key}, nil
}

// wrap signs tbs (a TBSCertificate or TBSCertList) with the throwaway key and
// returns the complete DER structure, with the signature algorithm copied from
// the TBS, as RFC 5280 §4.1.1.2 and §5.1.1.2 require.
func (t *throwaway) wrap(tbs []byte, sigAlg x509.SignatureAlgorithm, isCRL bool) ([]byte, error) {
	algID, err := tbsSignatureAlgorithm(tbs, isCRL)
	if err != nil {
		return nil, err
	}
	var h crypto.Hash
	switch sigAlg {
	case x509.ECDSAWithSHA384, x509.SHA384WithRSA:
		h = crypto.SHA384
	default:
		h = crypto.SHA256
	}
	sig, err := crypto.SignMessage(t.key, rand.Reader, tbs, h)
	if err != nil {
		return nil, fmt.Errorf("ca: signing lint certificate: %w", err)
	}
	bits := make([]byte, 0, 1+len(sig))
	bits = append(append(bits, 0), sig...) // BIT STRING content: no unused bits
	body := make([]byte, 0, len(tbs)+len(algID)+len(bits)+4)
	body = appendTLV(append(append(body, tbs...), algID...), 0x03, bits)
	return appendTLV(make([]byte, 0, len(body)+4), 0x30, body), nil
}

// tbsSignatureAlgorithm returns the raw AlgorithmIdentifier inside a
// TBSCertificate (after version and serialNumber) or a TBSCertList (after the
// optional version).
func tbsSignatureAlgorithm(tbs []byte, isCRL bool) ([]byte, error) {
	in := cryptobyte.String(tbs)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, errors.New("ca: tbs is not a sequence")
	}
	if isCRL {
		if body.PeekASN1Tag(cbasn1.INTEGER) && !body.SkipASN1(cbasn1.INTEGER) {
			return nil, errors.New("ca: tbs crl version")
		}
	} else {
		if !body.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !body.SkipASN1(cbasn1.INTEGER) {
			return nil, errors.New("ca: tbs certificate version or serial")
		}
	}
	var alg cryptobyte.String
	if !body.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		return nil, errors.New("ca: tbs signature algorithm")
	}
	return alg, nil
}

// signCertificate signs template under parent through smallstep's softcas
// (cas/apiv1), on a clone of the template because softcas writes into it,
// and checks that the certificate carries exactly wantTBS, the TBS that was
// linted. NotBefore and NotAfter must be set: softcas would otherwise read
// its own clock.
func signCertificate(ctx context.Context, template, parent *x509.Certificate, signer crypto.Signer, wantTBS []byte) (*x509.Certificate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cas, err := softcas.New(ctx, casapi.Options{
		CertificateChain: []*x509.Certificate{parent},
		Signer:           signer,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSigning, err)
	}
	tmpl := cloneTemplate(template)
	resp, err := cas.CreateCertificate(&casapi.CreateCertificateRequest{
		Template: tmpl,
		Lifetime: tmpl.NotAfter.Sub(tmpl.NotBefore),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSigning, err)
	}
	if !bytes.Equal(resp.Certificate.RawTBSCertificate, wantTBS) {
		return nil, fmt.Errorf("%w: signed certificate differs from the linted one", ErrSigning)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return resp.Certificate, nil
}

// cloneTemplate copies the fields of a template that softcas or x509 may
// write to (Issuer, NotBefore, NotAfter, SignatureAlgorithm, SerialNumber,
// SubjectKeyId). Slices are shared: nobody writes into them.
func cloneTemplate(t *x509.Certificate) *x509.Certificate {
	c := *t
	if t.SerialNumber != nil {
		c.SerialNumber = new(big.Int).Set(t.SerialNumber)
	}
	c.SubjectKeyId = bytes.Clone(t.SubjectKeyId)
	return &c
}

// asn1NULL is the DER encoding of NULL, the value of id-pkix-ocsp-nocheck.
var asn1NULL = asn1.NullBytes
