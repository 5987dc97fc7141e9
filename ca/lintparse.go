package ca

import (
	"bytes"
	"crypto/sha256"
	"math/big"
	"strings"
	"time"

	zasn1 "github.com/zmap/zcrypto/encoding/asn1"
	zx509 "github.com/zmap/zcrypto/x509"
	zpkix "github.com/zmap/zcrypto/x509/pkix"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Parsing only what differs.
//
// zlint lints a zcrypto certificate, and zcrypto's ParseCertificate
// (reflection-based encoding/asn1, every extension decoded, five
// fingerprints and a re-encoding of the TBS) costs about two signatures.
// Certificates of one shape (lintshape.go) differ only in the serial
// number, the validity instants, the subject values, the public key, the
// value of the subject key identifier and the signature; everything zcrypto
// derives from the rest is the same. So the first certificate of a shape is
// parsed twice: once for its lints, once to keep untouched as the shape's
// base. Later certificates of the shape start from a copy of the base and
// have exactly those parts parsed (the subject and the key with zcrypto's
// own decoders; the serial, validity, signature bits and key identifier
// with cryptobyte, following zcrypto's decoder step by step for their
// canonical DER forms), and the fields zcrypto derives from them
// recomputed (fingerprints, validity period, validation level). TestDerivedParseEqualsZcrypto checks field by
// field (reflect.DeepEqual, unexported fields included) that the result is
// what zcrypto's ParseCertificate returns, for every profile and several
// holders and keys.
//
// Whatever the copy shares with the base (issuer, extensions other than the
// subject key identifier, their decoded forms) is only read by lints. A
// certificate whose parts are not in the canonical form this relies on
// (non-minimal serial, validity not in whole seconds with Z, key or
// signature bits not byte-aligned, an outer signature algorithm other than
// the TBS's, a subject equal to the issuer, which makes zcrypto check a
// self-signature) is parsed in full.

// zcryptoParseBase is a shape's base: a pristine zcrypto parse of the
// shape's first certificate, never handed to a lint (lints may fill
// zcrypto's private caches, such as the parsed common name).
type zcryptoParseBase struct {
	cert *zx509.Certificate
	ski  int    // index of the subject key identifier in cert.Extensions
	key  string // its ExtensionsMap key
	// policyLevel is zcrypto's validation level of the base's policies,
	// and hasPolicies whether it has a certificatePolicies extension.
	policyLevel zx509.CertValidationLevel
	hasPolicies bool
}

// newParseBase parses der, a shape's first certificate, and returns its
// base, or nil when later certificates of the shape cannot be derived from
// it.
func newParseBase(der []byte) *zcryptoParseBase {
	c, err := zx509.ParseCertificate(der)
	if err != nil || c.SelfSigned || bytes.Equal(c.RawSubject, c.RawIssuer) {
		return nil
	}
	// zcrypto re-encodes the TBS for FingerprintNoCT; the derivation relies
	// on the re-encoding being the identity, checked here for the parts the
	// shape pins and per certificate for the others.
	if !c.FingerprintNoCT.Equal(zx509.SHA256Fingerprint(c.RawTBSCertificate)) {
		return nil
	}
	b := &zcryptoParseBase{cert: c, ski: -1}
	for i, e := range c.Extensions {
		if e.Id.Equal(oidSKIZ) {
			if b.ski >= 0 {
				return nil
			}
			b.ski, b.key = i, e.Id.String()
		}
		if e.Id.Equal(oidCertificatePoliciesZ) {
			b.hasPolicies = true
		}
	}
	if b.ski < 0 {
		return nil
	}
	b.policyLevel = maxValidationLevel(c.PolicyIdentifiers)
	return b
}

var (
	oidSKIZ                 = zasn1.ObjectIdentifier{2, 5, 29, 14}
	oidCertificatePoliciesZ = zasn1.ObjectIdentifier{2, 5, 29, 32}
)

// maxValidationLevel is zcrypto's getMaxCertValidationLevel, from its
// exported tables.
func maxValidationLevel(oids []zasn1.ObjectIdentifier) zx509.CertValidationLevel {
	level := zx509.UnknownValidationLevel
	for _, oid := range oids {
		s := oid.String()
		if _, ok := zx509.ExtendedValidationOIDs[s]; ok {
			return zx509.EV
		} else if _, ok := zx509.OrganizationValidationOIDs[s]; ok {
			level = max(level, zx509.OV)
		} else if _, ok := zx509.DomainValidationOIDs[s]; ok {
			level = max(level, zx509.DV)
		}
	}
	return level
}

// derive returns der parsed as zcrypto would, from the base of der's shape,
// or nil when der must be parsed in full.
func (b *zcryptoParseBase) derive(der []byte) *zx509.Certificate {
	in := cryptobyte.String(der)
	var cert, tbsBody cryptobyte.String
	var tbs, outerAlg, tbsAlg, serialElem, validityElem, subject, spki, ext3, sigElem []byte
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() {
		return nil
	}
	if !cert.ReadASN1Element((*cryptobyte.String)(&tbs), cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element((*cryptobyte.String)(&outerAlg), cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element((*cryptobyte.String)(&sigElem), cbasn1.BIT_STRING) || !cert.Empty() {
		return nil
	}
	t := cryptobyte.String(tbs)
	if !t.ReadASN1(&tbsBody, cbasn1.SEQUENCE) ||
		!tbsBody.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbsBody.ReadASN1Element((*cryptobyte.String)(&serialElem), cbasn1.INTEGER) ||
		!tbsBody.ReadASN1Element((*cryptobyte.String)(&tbsAlg), cbasn1.SEQUENCE) ||
		!tbsBody.SkipASN1(cbasn1.SEQUENCE) || // issuer
		!tbsBody.ReadASN1Element((*cryptobyte.String)(&validityElem), cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1Element((*cryptobyte.String)(&subject), cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1Element((*cryptobyte.String)(&spki), cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1Element((*cryptobyte.String)(&ext3), cbasn1.Tag(3).Constructed().ContextSpecific()) ||
		!tbsBody.Empty() {
		return nil
	}
	base := b.cert
	// The outer algorithm is not in the shape: it must be the TBS's, which is
	// (RFC 5280 §4.1.1.2), for zcrypto to decode it as it did the base's.
	if !bytes.Equal(outerAlg, tbsAlg) || bytes.Equal(subject, base.RawIssuer) {
		return nil
	}
	skiExt := findExtension(ext3, oidSubjectKeyID)
	if skiExt == nil {
		return nil
	}

	c := *base
	c.Raw, c.RawTBSCertificate, c.RawSubjectPublicKeyInfo, c.RawSubject = der, tbs, spki, subject
	c.FingerprintMD5 = zx509.MD5Fingerprint(der)
	c.FingerprintSHA1 = zx509.SHA1Fingerprint(der)
	c.FingerprintSHA256 = zx509.SHA256Fingerprint(der)
	c.SPKIFingerprint = zx509.SHA256Fingerprint(spki)
	c.TBSCertificateFingerprint = zx509.SHA256Fingerprint(tbs)
	c.FingerprintNoCT = c.TBSCertificateFingerprint
	h := sha256.New()
	h.Write(spki)
	h.Write(subject)
	c.SPKISubjectFingerprint = h.Sum(nil)

	// The signature, serial and validity are read the way zcrypto's decoder
	// reads their canonical DER forms; anything else is parsed in full.
	sigBits := cryptobyte.String(sigElem)
	var sigContent cryptobyte.String
	if !sigBits.ReadASN1(&sigContent, cbasn1.BIT_STRING) || len(sigContent) == 0 || sigContent[0] != 0 {
		return nil
	}
	c.Signature = sigContent[1:]

	serialDER := cryptobyte.String(serialElem)
	var serial cryptobyte.String
	if !serialDER.ReadASN1(&serial, cbasn1.INTEGER) || len(serial) == 0 || serial[0]&0x80 != 0 ||
		len(serial) > 1 && serial[0] == 0 && serial[1]&0x80 == 0 {
		return nil
	}
	c.SerialNumber = new(big.Int).SetBytes(serial)

	validity := cryptobyte.String(validityElem)
	var times cryptobyte.String
	var ok bool
	if !validity.ReadASN1(&times, cbasn1.SEQUENCE) {
		return nil
	}
	if c.NotBefore, ok = readCanonicalTime(&times); !ok {
		return nil
	}
	if c.NotAfter, ok = readCanonicalTime(&times); !ok || !times.Empty() {
		return nil
	}
	c.ValidityPeriod = int(c.NotAfter.Sub(c.NotBefore).Seconds())

	var rdn zpkix.RDNSequence
	if rest, err := zasn1.Unmarshal(subject, &rdn); err != nil || len(rest) > 0 {
		return nil
	}
	c.Subject = zpkix.Name{}
	c.Subject.FillFromRDNSequence(&rdn)

	if !byteAlignedKey(spki) {
		return nil
	}
	pub, err := zx509.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil
	}
	c.PublicKey = pub

	// The shape pins the extension's OID and criticality: only its value
	// differs from the base's.
	e := base.Extensions[b.ski]
	ext := cryptobyte.String(skiExt)
	var body, value, keyID cryptobyte.String
	if !ext.ReadASN1(&body, cbasn1.SEQUENCE) || !body.SkipASN1(cbasn1.OBJECT_IDENTIFIER) ||
		!body.SkipOptionalASN1(cbasn1.BOOLEAN) || !body.ReadASN1(&value, cbasn1.OCTET_STRING) || !body.Empty() {
		return nil
	}
	e.Value = []byte(value)
	if !value.ReadASN1(&keyID, cbasn1.OCTET_STRING) || !value.Empty() {
		return nil
	}
	c.SubjectKeyId = bytes.Clone(keyID)
	c.Extensions = make([]zpkix.Extension, len(base.Extensions))
	copy(c.Extensions, base.Extensions)
	c.Extensions[b.ski] = e
	c.ExtensionsMap = make(map[string]zpkix.Extension, len(base.ExtensionsMap))
	for k, x := range base.ExtensionsMap {
		c.ExtensionsMap[k] = x
	}
	c.ExtensionsMap[b.key] = e

	if b.hasPolicies {
		c.ValidationLevel = b.policyLevel
		if c.ValidationLevel == zx509.UnknownValidationLevel {
			c.ValidationLevel = fallbackValidationLevel(&c)
		}
	}
	return &c
}

// fallbackValidationLevel is the part of zcrypto's parse that guesses a
// validation level from the subject when the policies say nothing.
func fallbackValidationLevel(c *zx509.Certificate) zx509.CertValidationLevel {
	s := c.Subject
	if (len(s.Organization) > 0 && s.Organization[0] == s.CommonName) ||
		(len(s.OrganizationalUnit) > 0 && strings.Contains(s.OrganizationalUnit[0], "Domain Control Validated")) {
		if len(s.Locality) == 0 && len(s.Province) == 0 && len(s.PostalCode) == 0 {
			return zx509.DV
		}
	} else if len(s.Organization) > 0 && s.Organization[0] == "Persona Not Validated" &&
		strings.Contains(c.Issuer.CommonName, "StartCom") {
		return zx509.DV
	}
	return zx509.UnknownValidationLevel
}

// findExtension returns the DER of the one extension with the given OID
// (without tag and length) inside a [3] EXPLICIT Extensions element, or nil
// when there is none, more than one, or the element is malformed.
func findExtension(ext3 []byte, oid []byte) []byte {
	in := cryptobyte.String(ext3)
	var wrapped, list cryptobyte.String
	if !in.ReadASN1(&wrapped, cbasn1.Tag(3).Constructed().ContextSpecific()) || !wrapped.ReadASN1(&list, cbasn1.SEQUENCE) || !wrapped.Empty() {
		return nil
	}
	var found []byte
	for !list.Empty() {
		var elem, body, id cryptobyte.String
		if !list.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
			return nil
		}
		body = elem
		if !body.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&id, cbasn1.OBJECT_IDENTIFIER) {
			return nil
		}
		if bytes.Equal(id, oid) {
			if found != nil {
				return nil
			}
			found = elem
		}
	}
	return found
}

// readCanonicalTime reads a validity instant in the form zcrypto parses
// and re-encodes unchanged: UTCTime YYMMDDhhmmssZ (1950 to 2049) or
// GeneralizedTime YYYYMMDDhhmmssZ (other years), with zcrypto's parsing
// steps (time.Parse, the round-trip check, the UTCTime century rule).
func readCanonicalTime(s *cryptobyte.String) (time.Time, bool) {
	var raw cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&raw, &tag) {
		return time.Time{}, false
	}
	v := string(raw)
	switch {
	case tag == cbasn1.UTCTime && len(v) == 13 && v[12] == 'Z':
		const layout = "060102150405Z0700"
		t, err := time.Parse(layout, v)
		if err != nil || t.Format(layout) != v {
			return time.Time{}, false
		}
		if t.Year() >= 2050 {
			t = t.AddDate(-100, 0, 0)
		}
		return t, true
	case tag == cbasn1.GeneralizedTime && len(v) == 15 && v[14] == 'Z':
		const layout = "20060102150405Z0700"
		t, err := time.Parse(layout, v)
		if err != nil || t.Format(layout) != v || t.Year() >= 1950 && t.Year() < 2050 {
			return time.Time{}, false
		}
		return t, true
	}
	return time.Time{}, false
}

// byteAlignedKey reports whether the subjectPublicKey BIT STRING of a DER
// SubjectPublicKeyInfo has no unused bits.
func byteAlignedKey(spki []byte) bool {
	in := cryptobyte.String(spki)
	var body, bits cryptobyte.String
	return in.ReadASN1(&body, cbasn1.SEQUENCE) && body.SkipASN1(cbasn1.SEQUENCE) &&
		body.ReadASN1(&bits, cbasn1.BIT_STRING) && len(bits) > 0 && bits[0] == 0
}
