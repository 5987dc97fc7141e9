package ca

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"go.step.sm/crypto/x509util"
)

// templateInput is everything a certificate template is built from: the
// profile, the request's subject and key, and the issuer's URLs and policy.
type templateInput struct {
	profile   Profile
	subject   x509util.Subject
	publicKey crypto.PublicKey
	serial    *big.Int
	notBefore time.Time
	notAfter  time.Time
	sigAlg    x509.SignatureAlgorithm
	dnsNames  []string

	policyOID      asn1.ObjectIdentifier
	cpsURL         string
	pds            []PDSLocation
	retentionYears int
	crlURL         string
	ocspURL        string
	caIssuers      string

	// extensions, when not nil, are the profileExtensions of this input,
	// computed earlier (the issuer keeps them per profile).
	extensions []x509util.Extension
}

// extensionKey is what profileExtensions depends on besides the issuer's
// configuration, which is fixed for an issuer.
type extensionKey struct {
	qualified, sscd, caPolicy, ocspNoCheck bool
	notice                                 string
}

func (p Profile) extensionKey() extensionKey {
	return extensionKey{qualified: p.Qualified, sscd: p.SSCD, caPolicy: p.CAPolicy, ocspNoCheck: p.OCSPNoCheck, notice: p.UsageLimitation}
}

// profileExtensions encodes the extensions that are the same for every
// certificate of a profile from one issuer: certificatePolicies,
// qcStatements and ocsp-nocheck.
func profileExtensions(in templateInput) ([]x509util.Extension, error) {
	p := in.profile
	exts := []x509util.Extension{}
	var policies []PolicyInformation
	if p.CAPolicy && len(in.policyOID) > 0 {
		policies = append(policies, PolicyInformation{Policy: in.policyOID, CPS: in.cpsURL, UserNotice: p.UsageLimitation})
	}
	if p.Qualified {
		policies = append(policies, PolicyInformation{Policy: OIDQCPNaturalQSCD})
	}
	if len(policies) > 0 {
		ext, err := certificatePoliciesExtension(policies)
		if err != nil {
			return nil, err
		}
		exts = append(exts, x509util.Extension{ID: x509util.ObjectIdentifier(ext.Id), Value: ext.Value})
	}
	if p.Qualified {
		q := QCStatements{
			Compliance:     true,
			SSCD:           p.SSCD,
			RetentionYears: in.retentionYears,
			Types:          []asn1.ObjectIdentifier{OIDQcTypeESign},
			PDS:            in.pds,
			Semantics:      OIDSemanticsNatural,
		}
		ext, err := q.Extension()
		if err != nil {
			return nil, err
		}
		exts = append(exts, x509util.Extension{ID: x509util.ObjectIdentifier(ext.Id), Value: ext.Value})
	}
	if p.OCSPNoCheck {
		ext := ocspNoCheckExtension()
		exts = append(exts, x509util.Extension{ID: x509util.ObjectIdentifier(ext.Id), Value: ext.Value})
	}
	return exts, nil
}

// buildTemplate turns a profile and a request into an x509 template through
// go.step.sm/crypto/x509util. It is a pure function of its input.
func buildTemplate(in templateInput) (*x509.Certificate, error) {
	p := in.profile
	c := &x509util.Certificate{
		Subject:            in.subject,
		PublicKey:          in.publicKey,
		SerialNumber:       x509util.SerialNumber{Int: in.serial},
		NotBefore:          in.notBefore,
		NotAfter:           in.notAfter,
		KeyUsage:           x509util.KeyUsage(p.KeyUsage),
		ExtKeyUsage:        x509util.ExtKeyUsage(p.ExtKeyUsage),
		SignatureAlgorithm: x509util.SignatureAlgorithm(in.sigAlg),
	}
	if p.DNSNames {
		c.DNSNames = in.dnsNames
	}
	if p.Revocable {
		// ETSI EN 319 412-2 §4.3.11: CRL distribution point; §4.4.1: AIA
		// with OCSP and caIssuers.
		if in.crlURL != "" {
			c.CRLDistributionPoints = []string{in.crlURL}
		}
		if in.ocspURL != "" {
			c.OCSPServer = []string{in.ocspURL}
		}
	}
	if in.caIssuers != "" {
		c.IssuingCertificateURL = []string{in.caIssuers}
	}
	exts := in.extensions
	if exts == nil {
		var err error
		if exts, err = profileExtensions(in); err != nil {
			return nil, err
		}
	}
	c.Extensions = exts
	t := c.GetCertificate()
	skid, err := x509util.GenerateSubjectKeyID(in.publicKey)
	if err != nil {
		return nil, fmt.Errorf("ca: subject key id: %w", err)
	}
	t.SubjectKeyId = skid
	return t, nil
}
