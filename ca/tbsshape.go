package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/fips140"
	"crypto/sha1" //nolint:gosec // subject key identifier, RFC 5280 §4.2.1.2 method (1)
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Rendering each profile once.
//
// Every certificate of one profile from one issuer has the same TBS except
// for the serial number, the validity instants, the subject, the public key
// and the subject key identifier. The first certificate of a profile is
// built the long way: the x509util template is rendered and
// x509.CreateCertificate marshals the TBS (captureTBS). The issuer then
// takes that TBS apart into a tbsSkeleton, rebuilds the same TBS from the
// skeleton and the request's values, and keeps the skeleton only if the
// rebuilt TBS is byte for byte the one Go made. Later certificates of the
// profile are assembled from the skeleton with cryptobyte; the subject is
// encoded as x509.CreateCertificate encodes it (subject.go).
//
// Sign hands softcas the rendered template with the subject and every
// extension pre-encoded (RawSubject, ExtraExtensions, in the TBS's order),
// so x509.CreateCertificate re-encodes nothing it would encode differently,
// and Sign still refuses any certificate whose TBS is not the linted one.
// Profiles whose subjectAltName depends on the request (DNSNames) always
// take the long way.

// skeletonKey is what a profile's TBS skeleton depends on besides the
// issuer, which is fixed for an [Issuer].
type skeletonKey struct {
	ext         extensionKey
	keyUsage    x509.KeyUsage
	extKeyUsage string
	revocable   bool
}

func (p Profile) skeletonKey() skeletonKey {
	var eku strings.Builder
	for _, u := range p.ExtKeyUsage {
		eku.WriteString(strconv.Itoa(int(u)))
		eku.WriteByte(',')
	}
	return skeletonKey{ext: p.extensionKey(), keyUsage: p.KeyUsage, extKeyUsage: eku.String(), revocable: p.Revocable}
}

// tbsSkeleton is a profile's TBS with the per-certificate values taken out.
type tbsSkeleton struct {
	template  *x509.Certificate // the rendered x509util template of the first certificate
	version   []byte            // [0] EXPLICIT INTEGER, the whole element
	sigAlg    []byte            // AlgorithmIdentifier element
	issuer    []byte            // issuer Name element
	exts      []pkix.Extension  // every extension in TBS order; exts[ski].Value is per certificate
	ski       int               // index of the subject key identifier in exts
	before    []byte            // DER of the extensions before the SKI
	after     []byte            // DER of the extensions after the SKI
	skiPrefix []byte            // the SKI extension's OID and criticality, as encoded
}

// oidSKI is id-ce-subjectKeyIdentifier (RFC 5280 §4.2.1.2).
var oidSKI = asn1.ObjectIdentifier{2, 5, 29, 14}

// learnSkeleton takes apart tbs, made by x509.CreateCertificate from tmpl
// and in, and returns its skeleton, or nil when the TBS has a form the
// skeleton does not cover or the skeleton would not rebuild it exactly.
func learnSkeleton(tmpl *x509.Certificate, tbs []byte, in templateInput) *tbsSkeleton {
	s := &tbsSkeleton{template: cloneTemplate(tmpl), ski: -1}
	outer := cryptobyte.String(tbs)
	var body cryptobyte.String
	var version, sigAlg, issuer, ext3 cryptobyte.String
	if !outer.ReadASN1(&body, cbasn1.SEQUENCE) || !outer.Empty() ||
		!body.ReadASN1Element(&version, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!body.SkipASN1(cbasn1.INTEGER) ||
		!body.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!body.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!body.SkipASN1(cbasn1.SEQUENCE) || // validity
		!body.SkipASN1(cbasn1.SEQUENCE) || // subject
		!body.SkipASN1(cbasn1.SEQUENCE) || // subjectPublicKeyInfo
		!body.ReadASN1(&ext3, cbasn1.Tag(3).Constructed().ContextSpecific()) || !body.Empty() {
		return nil
	}
	var list cryptobyte.String
	if !ext3.ReadASN1(&list, cbasn1.SEQUENCE) || !ext3.Empty() {
		return nil
	}
	s.version, s.sigAlg, s.issuer = bytes.Clone(version), bytes.Clone(sigAlg), bytes.Clone(issuer)
	for !list.Empty() {
		var elem cryptobyte.String
		if !list.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
			return nil
		}
		var e pkix.Extension
		if rest, err := asn1.Unmarshal(elem, &e); err != nil || len(rest) > 0 {
			return nil
		}
		if e.Id.Equal(oidSKI) {
			if s.ski >= 0 {
				return nil
			}
			s.ski = len(s.exts)
			body := cryptobyte.String(elem)
			var inner, value cryptobyte.String
			if !body.ReadASN1(&inner, cbasn1.SEQUENCE) {
				return nil
			}
			prefix := inner
			if !inner.SkipASN1(cbasn1.OBJECT_IDENTIFIER) || !inner.SkipOptionalASN1(cbasn1.BOOLEAN) ||
				!inner.ReadASN1Element(&value, cbasn1.OCTET_STRING) || !inner.Empty() {
				return nil
			}
			s.skiPrefix = bytes.Clone(prefix[:len(prefix)-len(value)])
		} else if s.ski < 0 {
			s.before = append(s.before, elem...)
		} else {
			s.after = append(s.after, elem...)
		}
		s.exts = append(s.exts, e)
	}
	if s.ski < 0 {
		return nil
	}
	_, again, _, err := s.build(in)
	if err != nil || !bytes.Equal(again, tbs) {
		return nil
	}
	return s
}

// build returns the template Sign hands to softcas, the TBS it will
// produce for in, and the subject as a string (pkix.Name.String).
func (s *tbsSkeleton) build(in templateInput) (*x509.Certificate, []byte, string, error) {
	t := *s.template
	t.SerialNumber = in.serial
	t.NotBefore, t.NotAfter = in.notBefore, in.notAfter
	t.PublicKey = in.publicKey
	in.subject.Set(&t)
	// The encoding x509.CreateCertificate makes when RawSubject is empty.
	rdns := t.Subject.ToRDNSequence()
	rawSubject, err := marshalRDNSequence(rdns)
	if err != nil {
		return nil, nil, "", err
	}
	// pkix.Name.String, which adds Names only when ExtraNames is nil.
	subject := rdns.String()
	if t.Subject.ExtraNames == nil && len(t.Subject.Names) > 0 {
		subject = t.Subject.String()
	}
	t.RawSubject = rawSubject
	spki, err := marshalPublicKey(in.publicKey)
	if err != nil {
		return nil, nil, "", err
	}
	ski, err := subjectKeyID(spki)
	if err != nil {
		return nil, nil, "", err
	}
	t.SubjectKeyId = ski
	skiValue := appendTLV(make([]byte, 0, 2+len(ski)), 0x04, ski) // OCTET STRING
	t.ExtraExtensions = slices.Clone(s.exts)
	t.ExtraExtensions[s.ski].Value = skiValue

	serial := in.serial.Bytes()
	if len(serial) == 0 || serial[0]&0x80 != 0 {
		serial = append([]byte{0}, serial...) // INTEGER content of a positive number
	}
	var validity []byte
	if validity, err = appendTime(validity, in.notBefore); err != nil {
		return nil, nil, "", err
	}
	if validity, err = appendTime(validity, in.notAfter); err != nil {
		return nil, nil, "", err
	}
	skiExt := make([]byte, 0, 40)
	skiExt = append(skiExt, s.skiPrefix...)
	skiExt = appendTLV(skiExt, 0x04, skiValue)
	exts := make([]byte, 0, len(s.before)+len(s.after)+len(skiExt)+8)
	exts = append(exts, s.before...)
	exts = appendTLV(exts, 0x30, skiExt)
	exts = append(exts, s.after...)

	body := make([]byte, 0, len(s.version)+len(serial)+len(s.sigAlg)+len(s.issuer)+len(validity)+
		len(rawSubject)+len(spki)+len(exts)+32)
	body = append(body, s.version...)
	body = appendTLV(body, 0x02, serial)
	body = append(body, s.sigAlg...)
	body = append(body, s.issuer...)
	body = appendTLV(body, 0x30, validity)
	body = append(body, rawSubject...)
	body = append(body, spki...)
	body = appendTLV(body, 0xa3, appendTLV(make([]byte, 0, len(exts)+4), 0x30, exts))
	tbs := appendTLV(make([]byte, 0, len(body)+4), 0x30, body)
	return &t, tbs, subject, nil
}

// appendTime appends a validity instant as encoding/asn1 encodes it for
// x509.CreateCertificate: UTCTime from 1950 to 2049, GeneralizedTime
// otherwise (RFC 5280 §4.1.2.5), whole seconds, in UTC.
func appendTime(dst []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if y := t.Year(); y >= 1950 && y < 2050 {
		return appendTLV(dst, 0x17, t.AppendFormat(make([]byte, 0, 13), "060102150405Z0700")), nil
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, errors.New("ca: validity year out of range")
	}
	return appendTLV(dst, 0x18, t.AppendFormat(make([]byte, 0, 15), "20060102150405Z0700")), nil
}

// ecAlgorithmID returns the DER AlgorithmIdentifier of id-ecPublicKey with
// a named NIST curve (RFC 5480 §2.1.1), as x509.MarshalPKIXPublicKey writes
// it, or nil for another curve.
func ecAlgorithmID(curve string) []byte {
	switch curve {
	case "P-256":
		return []byte{0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	case "P-384":
		return []byte{0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}
	case "P-521":
		return []byte{0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}
	}
	return nil
}

// marshalPublicKey returns the DER SubjectPublicKeyInfo of pub as
// x509.MarshalPKIXPublicKey does, appending the DER directly for ECDSA
// keys on the NIST curves (TestMarshalPublicKeyMatchesX509).
func marshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	if k, ok := pub.(*ecdsa.PublicKey); ok && k.Curve != nil {
		if alg := ecAlgorithmID(k.Curve.Params().Name); alg != nil {
			point, err := k.Bytes()
			if err != nil {
				return nil, err
			}
			bits := make([]byte, 0, 1+len(point))
			bits = append(append(bits, 0), point...)
			content := make([]byte, 0, len(alg)+len(bits)+4)
			content = appendTLV(append(content, alg...), 0x03, bits)
			return appendTLV(make([]byte, 0, len(content)+4), 0x30, content), nil
		}
	}
	return x509.MarshalPKIXPublicKey(pub)
}

// subjectKeyID computes the subject key identifier of a DER
// SubjectPublicKeyInfo as x509util.GenerateSubjectKeyID does: SHA-1 of the
// subjectPublicKey bits (RFC 5280 §4.2.1.2), or the leftmost 160 bits of
// SHA-256 in FIPS 140-3 mode (RFC 7093 §2).
func subjectKeyID(spki []byte) ([]byte, error) {
	in := cryptobyte.String(spki)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !body.SkipASN1(cbasn1.SEQUENCE) {
		return nil, errors.New("ca: subject public key info")
	}
	var raw cryptobyte.String
	if !body.ReadASN1(&raw, cbasn1.BIT_STRING) || len(raw) == 0 || raw[0] != 0 {
		return nil, errors.New("ca: subject public key bits")
	}
	if fips140.Enabled() {
		h := sha256.Sum256(raw[1:])
		return h[:20], nil
	}
	h := sha1.Sum(raw[1:]) //nolint:gosec // RFC 5280 §4.2.1.2
	return h[:], nil
}

// skeleton returns the issuer's skeleton for p, or nil when p has none (yet).
func (i *Issuer) skeleton(p Profile) *tbsSkeleton {
	if p.DNSNames {
		return nil
	}
	if v, ok := i.skeletons.Load(p.skeletonKey()); ok {
		return v.(*tbsSkeleton)
	}
	return nil
}

// learn records the skeleton of a TBS built the long way, when p can have
// one. A skeleton that would not rebuild tbs exactly is not kept.
func (i *Issuer) learn(p Profile, tmpl *x509.Certificate, tbs []byte, in templateInput) {
	if p.DNSNames {
		return
	}
	if s := learnSkeleton(tmpl, tbs, in); s != nil {
		i.skeletons.LoadOrStore(p.skeletonKey(), s)
	}
}
