package recognition

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Object identifiers for qualified certificates (ETSI EN 319 412-5) and
// person names (X.520).
var (
	oidQCStatements = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3} // RFC 3739 §3.2.6
	oidQcCompliance = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}       // ETSI EN 319 412-5 §4.2.1
	oidGivenName    = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname      = asn1.ObjectIdentifier{2, 5, 4, 4}
)

// trustPolicy is how a signed document is verified.
type trustPolicy struct {
	// Roots are the trust anchors. Required.
	Roots *x509.CertPool
	// Intermediates supplements the certificates embedded in the .p7m.
	Intermediates *x509.CertPool
	// CRLs gives the issuer's CRL. Nil skips the revocation check (only
	// for signatures whose certificate was issued moments ago, such as the
	// one-shot certificate).
	CRLs CRLSource
	// RequireQualified requires QcCompliance and nonRepudiation.
	RequireQualified bool
	// MaxSignatureAge is how long before now the signing time may be.
	MaxSignatureAge time.Duration
	// MaxClockSkew is how far after now the signing time may be.
	MaxClockSkew time.Duration
}

// verifiedSignature is the outcome of verifySigned.
type verifiedSignature struct {
	msg   *signedMessage
	chain []*x509.Certificate
}

// verifySigned verifies a .p7m and records every check: format, signature,
// signing-certificate binding, chain, validity now, signing time,
// revocation and (when required) qualified status and key usage. It returns
// nil when the file does not even parse; otherwise the message, whatever
// the other checks found.
func (r *recorder) verifySigned(ctx context.Context, kind ArtefactKind, d Digest, der []byte, p trustPolicy, now time.Time) *verifiedSignature {
	subject := subjectOf(kind, d)
	msg, ce := parseSignedMessage(der)
	if ce != nil {
		r.fail(ce, subject, "")
		return nil
	}
	signer := msg.Signer
	who := "signer " + signer.Subject.String() + " serial " + signer.SerialNumber.String()
	r.record(CheckSignature, subject, who, "", msg.checkSignature())
	r.record(CheckSigningCertificate, subject, who, "", msg.checkSigningCertificate())

	out := &verifiedSignature{msg: msg}
	// The chain is built at now, or at the end of the signer's validity if
	// it has expired, so that an expired signer is reported once, by the
	// validity check, and the chain check reports only chain problems.
	at := now
	if at.After(signer.NotAfter) {
		at = signer.NotAfter
	}
	if at.Before(signer.NotBefore) {
		at = signer.NotBefore
	}
	inter := x509.NewCertPool()
	if p.Intermediates != nil {
		inter = p.Intermediates.Clone()
	}
	for _, c := range msg.Certificates {
		inter.AddCert(c)
	}
	chains, err := signer.Verify(x509.VerifyOptions{
		Roots: p.Roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		r.fail(&CheckError{Check: CheckChain, Kind: ErrChain, Detail: who, Err: err}, subject, "trust anchors")
	} else {
		out.chain = chains[0]
		r.pass(CheckChain, subject, chainNames(chains[0]), "")
	}

	var validity *CheckError
	if now.Before(signer.NotBefore) || now.After(signer.NotAfter) {
		validity = &CheckError{Check: CheckValidity, Kind: ErrValidity,
			Detail: fmt.Sprintf("%s valid %s to %s", who, stamp(signer.NotBefore), stamp(signer.NotAfter))}
	}
	r.record(CheckValidity, subject, stamp(now), "", validity)

	r.record(CheckSigningTime, subject, stamp(now), stamp(msg.SigningTime), checkSigningTime(msg, p, now))

	if p.CRLs != nil {
		if out.chain == nil || len(out.chain) < 2 {
			r.fail(&CheckError{Check: CheckRevocation, Kind: ErrRevoked, Detail: "status unknown: no verified issuer"}, subject, "")
		} else {
			crl, ce := checkRevocation(ctx, p.CRLs, signer, out.chain[1], now)
			against := "crl of " + out.chain[1].Subject.String()
			if crl != nil {
				against += " sha256:" + r.add(KindRevocationList, "", MediaCRL, crl).String()
			}
			r.record(CheckRevocation, subject, against, "", ce)
		}
	}
	if p.RequireQualified {
		r.record(CheckQualified, subject, "QcCompliance 0.4.0.1862.1.1", "", checkQualified(signer))
		var ku *CheckError
		if signer.KeyUsage&x509.KeyUsageContentCommitment == 0 {
			ku = &CheckError{Check: CheckKeyUsage, Kind: ErrNotQualified, Detail: who + " lacks nonRepudiation"}
		}
		r.record(CheckKeyUsage, subject, "nonRepudiation", "", ku)
	}
	return out
}

// checkSigningTime requires a signing time within the signer's validity,
// not after now plus the allowed skew and not older than the allowed age.
// The signing time is the signer's claim (no timestamp token), so it is
// bounded by now on both sides.
func checkSigningTime(msg *signedMessage, p trustPolicy, now time.Time) *CheckError {
	fail := func(detail string) *CheckError {
		return &CheckError{Check: CheckSigningTime, Kind: ErrSigningTime, Detail: detail}
	}
	st, c := msg.SigningTime, msg.Signer
	switch {
	case st.IsZero():
		return fail("signing-time attribute missing")
	case st.Before(c.NotBefore) || st.After(c.NotAfter):
		return fail(fmt.Sprintf("signed at %s, outside the certificate validity %s to %s", stamp(st), stamp(c.NotBefore), stamp(c.NotAfter)))
	case st.After(now.Add(p.MaxClockSkew)):
		return fail(fmt.Sprintf("signed at %s, in the future", stamp(st)))
	case st.Before(now.Add(-p.MaxSignatureAge)):
		return fail(fmt.Sprintf("signed at %s, more than %s ago", stamp(st), p.MaxSignatureAge))
	}
	return nil
}

// checkQualified requires the QcCompliance statement (ETSI EN 319 412-5
// §4.2.1): the issuer claims the certificate is an EU qualified certificate.
func checkQualified(c *x509.Certificate) *CheckError {
	fail := func(detail string, err error) *CheckError {
		return &CheckError{Check: CheckQualified, Kind: ErrNotQualified, Detail: detail, Err: err}
	}
	ids, err := qcStatementIDs(c)
	if err != nil {
		return fail("qcStatements malformed", err)
	}
	if !slices.ContainsFunc(ids, func(id asn1.ObjectIdentifier) bool { return id.Equal(oidQcCompliance) }) {
		return fail("certificate has no QcCompliance statement", nil)
	}
	return nil
}

// qcStatementIDs returns the statement IDs of the QCStatements extension.
func qcStatementIDs(c *x509.Certificate) ([]asn1.ObjectIdentifier, error) {
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidQCStatements) {
			continue
		}
		var stmts []struct {
			ID   asn1.ObjectIdentifier
			Info asn1.RawValue `asn1:"optional"`
		}
		rest, err := asn1.Unmarshal(ext.Value, &stmts)
		if err != nil {
			return nil, err
		}
		if len(rest) > 0 {
			return nil, errors.New("trailing data")
		}
		ids := make([]asn1.ObjectIdentifier, len(stmts))
		for i, s := range stmts {
			ids[i] = s.ID
		}
		return ids, nil
	}
	return nil, nil
}

// subjectAttr returns the first subject attribute of the given type.
func subjectAttr(c *x509.Certificate, oid asn1.ObjectIdentifier) string {
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oid) {
			if s, ok := n.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// matchSigner compares the signer certificate with the applicant: the
// subject serialNumber must be TINIT-<tax code> (ETSI EN 319 412-1 §5.1.3),
// and givenName and surname must match after folding case and accents.
func (r *recorder) matchSigner(subject string, c *x509.Certificate, a Applicant) {
	var ce *CheckError
	if !sameTaxCode(c.Subject.SerialNumber, a.TaxCode) {
		ce = &CheckError{Check: CheckTaxCode, Kind: ErrIdentityMismatch,
			Detail: fmt.Sprintf("signer serialNumber %q is not TINIT-%s", c.Subject.SerialNumber, a.TaxCode)}
	}
	r.record(CheckTaxCode, subject, "applicant.tax_code", "", ce)

	given, surname := subjectAttr(c, oidGivenName), subjectAttr(c, oidSurname)
	ce = nil
	if !sameName(given, a.GivenName) || !sameName(surname, a.Surname) {
		ce = &CheckError{Check: CheckPersonName, Kind: ErrIdentityMismatch,
			Detail: fmt.Sprintf("signer %q %q is not applicant %q %q", given, surname, a.GivenName, a.Surname)}
	}
	r.record(CheckPersonName, subject, "applicant.given_name, applicant.surname", "", ce)
}

func chainNames(chain []*x509.Certificate) string {
	names := make([]string, len(chain))
	for i, c := range chain {
		names[i] = c.Subject.CommonName
	}
	return strings.Join(names, " < ")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
