package recognition

import (
	"bytes"
	"crypto"
	"crypto/sha1" //nolint:gosec // ESS signingCertificate (v1) binds the certificate by SHA-1 (RFC 2634 §5.4); used only to compare, never to sign.
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"
)

// Object identifiers used in CMS signatures.
var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertificate   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12} // RFC 2634 §5.4
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47} // RFC 5035 §3

	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSA            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey    = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA25 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA38 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA51 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
)

// essCertIDv2 is ESSCertIDv2 of RFC 5035 §4 with the default hash
// algorithm (SHA-256) and without issuerSerial, as CAdES-BES allows.
type essCertIDv2 struct {
	CertHash []byte
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

// parsedESSCertID reads ESSCertIDv2 (hash algorithm optional) and ESSCertID.
type parsedESSCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

type parsedSigningCertificate struct {
	Certs    []parsedESSCertID
	Policies asn1.RawValue `asn1:"optional"`
}

// signCMS signs content as attached CMS SignedData (RFC 5652) with SHA-256,
// the contentType, messageDigest and signingTime attributes, and the CAdES
// signing-certificate-v2 attribute (ETSI EN 319 122-1 §5.2.2.3) that binds
// the signer certificate, so the result is a CAdES-BES .p7m. The signing
// time is the process clock's, as github.com/smallstep/pkcs7 reads it.
func signCMS(content []byte, cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("preparing signed data: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	h := DigestOf(cert.Raw)
	attr := pkcs7.Attribute{
		Type:  oidSigningCertificateV2,
		Value: signingCertificateV2{Certs: []essCertIDv2{{CertHash: h[:]}}},
	}
	cfg := pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{attr}}
	if len(chain) == 0 {
		err = sd.AddSigner(cert, key, cfg)
	} else {
		err = sd.AddSignerChain(cert, key, chain, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("encoding signed data: %w", err)
	}
	return der, nil
}

// cmsAttribute mirrors the attribute type of github.com/smallstep/pkcs7 so
// the signed attributes can be re-encoded as the DER SET that was signed.
type cmsAttribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

// signedMessage is a parsed attached CMS SignedData with one signer.
type signedMessage struct {
	p7           *pkcs7.PKCS7
	Content      []byte
	Signer       *x509.Certificate
	Certificates []*x509.Certificate
	SigningTime  time.Time // zero when the attribute is absent
	attrs        []cmsAttribute
}

// parseSignedMessage parses a .p7m: DER or BER CMS SignedData with exactly
// one signer, its certificate and the content attached. Anything else is a
// format failure.
func parseSignedMessage(der []byte) (*signedMessage, *CheckError) {
	fail := func(detail string, err error) *CheckError {
		return &CheckError{Check: CheckFormat, Kind: ErrFormat, Detail: detail, Err: err}
	}
	if !looksLikeSignedData(der) {
		return nil, fail("not CMS SignedData", nil)
	}
	p7, err := parsePKCS7(der)
	if err != nil {
		return nil, fail("parsing CMS", err)
	}
	if len(p7.Signers) != 1 {
		return nil, fail(fmt.Sprintf("%d signers, want exactly 1", len(p7.Signers)), nil)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fail("signer certificate not included", nil)
	}
	if len(p7.Content) == 0 {
		return nil, fail("content not attached", nil)
	}
	si := p7.Signers[0]
	if len(si.AuthenticatedAttributes) == 0 {
		return nil, fail("no signed attributes", nil)
	}
	m := &signedMessage{p7: p7, Content: p7.Content, Signer: signer, Certificates: p7.Certificates}
	for _, a := range si.AuthenticatedAttributes {
		m.attrs = append(m.attrs, cmsAttribute{Type: a.Type, Value: a.Value})
	}
	var st time.Time
	if err := m.attribute(oidSigningTime, &st); err == nil {
		m.SigningTime = st.UTC()
	}
	return m, nil
}

// parsePKCS7 wraps pkcs7.Parse. The input is first checked to be one
// well-formed BER element, with every child inside its parent and at most
// maxBERDepth levels: pkcs7's BER-to-DER conversion re-reads overlapping
// children and takes exponential time on crafted input (found by FuzzP7M).
// A panic in pkcs7 becomes an error.
func parsePKCS7(der []byte) (p7 *pkcs7.PKCS7, err error) {
	rest, err := checkBER(der, 0)
	if err != nil {
		return nil, fmt.Errorf("malformed BER: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("malformed BER: trailing data")
	}
	defer func() {
		if r := recover(); r != nil {
			p7, err = nil, fmt.Errorf("malformed CMS: %v", r)
		}
	}()
	return pkcs7.Parse(der)
}

// maxBERDepth bounds the nesting of a .p7m; real CMS files nest about 15
// levels (ContentInfo, SignedData, certificates, names, extensions).
const maxBERDepth = 48

// checkBER walks one BER element (X.690 §8.1) in linear time and returns
// the bytes after it: tags in low or high form, definite lengths of up to
// four bytes without leading zeros, indefinite lengths on constructed
// elements only, terminated by end-of-contents; children exactly fill a
// definite parent.
func checkBER(b []byte, depth int) ([]byte, error) {
	if depth > maxBERDepth {
		return nil, errors.New("nested too deeply")
	}
	if len(b) < 2 {
		return nil, errors.New("truncated element")
	}
	constructed := b[0]&0x20 != 0
	i := 1
	if b[0]&0x1F == 0x1F {
		for ; i < len(b) && b[i]&0x80 != 0; i++ {
			if i > 4 {
				return nil, errors.New("tag too long")
			}
		}
		i++
	}
	if i >= len(b) {
		return nil, errors.New("truncated header")
	}
	l := b[i]
	i++
	switch {
	case l == 0x80:
		if !constructed {
			return nil, errors.New("indefinite length on a primitive element")
		}
		rest := b[i:]
		for {
			if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
				return rest[2:], nil
			}
			var err error
			if rest, err = checkBER(rest, depth+1); err != nil {
				return nil, err
			}
		}
	case l > 0x80:
		n := int(l & 0x7F)
		if n > 4 || i+n > len(b) || b[i] == 0 {
			return nil, errors.New("bad length")
		}
		length := 0
		for _, c := range b[i : i+n] {
			length = length<<8 | int(c)
		}
		i += n
		if length < 0 || length > len(b)-i {
			return nil, errors.New("length beyond the data")
		}
		return checkContent(b[i:i+length], b[i+length:], constructed, depth)
	default:
		if int(l) > len(b)-i {
			return nil, errors.New("length beyond the data")
		}
		return checkContent(b[i:i+int(l)], b[i+int(l):], constructed, depth)
	}
}

// checkContent checks that the children of a constructed element fill its
// content exactly.
func checkContent(content, rest []byte, constructed bool, depth int) ([]byte, error) {
	for constructed && len(content) > 0 {
		var err error
		if content, err = checkBER(content, depth+1); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// looksLikeSignedData reports whether b starts as a ContentInfo of type
// signedData (RFC 5652 §3), the shape of a .p7m.
func looksLikeSignedData(b []byte) bool {
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Rest        asn1.RawContent
	}
	// A BER file with indefinite lengths does not unmarshal with
	// encoding/asn1; look for the OID right after the outer header then.
	if _, err := asn1.Unmarshal(b, &ci); err == nil {
		return ci.ContentType.Equal(oidSignedData)
	}
	oid, _ := asn1.Marshal(oidSignedData)
	return len(b) > 2+len(oid) && b[0] == 0x30 && bytes.Contains(b[:min(len(b), 8+len(oid))], oid)
}

func (m *signedMessage) attribute(oid asn1.ObjectIdentifier, out any) error {
	for _, a := range m.attrs {
		if a.Type.Equal(oid) {
			var set []asn1.RawValue
			if _, err := asn1.UnmarshalWithParams(a.Value.FullBytes, &set, "set"); err != nil {
				return err
			}
			if len(set) != 1 {
				return fmt.Errorf("attribute %v has %d values", oid, len(set))
			}
			rest, err := asn1.Unmarshal(set[0].FullBytes, out)
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				return errors.New("trailing data in attribute")
			}
			return nil
		}
	}
	return errAttributeAbsent
}

var errAttributeAbsent = errors.New("attribute absent")

// checkSignature verifies the content type, the message digest and the
// signature over the signed attributes (RFC 5652 §5.4, §11).
func (m *signedMessage) checkSignature() *CheckError {
	fail := func(detail string, err error) *CheckError {
		return &CheckError{Check: CheckSignature, Kind: ErrSignature, Detail: detail, Err: err}
	}
	si := m.p7.Signers[0]
	hash, ok := hashForOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		return fail(fmt.Sprintf("digest algorithm %v not accepted", si.DigestAlgorithm.Algorithm), nil)
	}
	var ct asn1.ObjectIdentifier
	if err := m.attribute(oidContentType, &ct); err != nil || !ct.Equal(oidData) {
		return fail("content-type attribute missing or not id-data", err)
	}
	var digest []byte
	if err := m.attribute(oidMessageDigest, &digest); err != nil {
		return fail("message-digest attribute missing", err)
	}
	h := hash.New()
	h.Write(m.Content)
	if subtle.ConstantTimeCompare(h.Sum(nil), digest) != 1 {
		return fail("content does not match the signed message digest", nil)
	}
	alg, ok := signatureAlgorithm(si.DigestEncryptionAlgorithm.Algorithm, hash, m.Signer)
	if !ok {
		return fail(fmt.Sprintf("signature algorithm %v not accepted", si.DigestEncryptionAlgorithm.Algorithm), nil)
	}
	signed, err := marshalSignedAttributes(m.attrs)
	if err != nil {
		return fail("encoding signed attributes", err)
	}
	if err := m.Signer.CheckSignature(alg, signed, si.EncryptedDigest); err != nil {
		return fail("signature over the signed attributes", err)
	}
	return nil
}

// checkSigningCertificate verifies the CAdES signing-certificate(-v2)
// attribute, which binds the signature to the signer certificate (ETSI EN
// 319 122-1 §5.2.2.3). It is required.
func (m *signedMessage) checkSigningCertificate() *CheckError {
	fail := func(detail string) *CheckError {
		return &CheckError{Check: CheckSigningCertificate, Kind: ErrSignature, Detail: detail}
	}
	var sc parsedSigningCertificate
	err := m.attribute(oidSigningCertificateV2, &sc)
	v2 := err == nil
	if errors.Is(err, errAttributeAbsent) {
		err = m.attribute(oidSigningCertificate, &sc)
	}
	if err != nil {
		return fail("signing-certificate attribute missing or malformed")
	}
	if len(sc.Certs) == 0 {
		return fail("signing-certificate attribute lists no certificate")
	}
	id := sc.Certs[0]
	var want []byte
	switch {
	case !v2:
		s := sha1.Sum(m.Signer.Raw) //nolint:gosec // see import
		want = s[:]
	case len(id.HashAlgorithm.Algorithm) == 0 || id.HashAlgorithm.Algorithm.Equal(oidSHA256):
		s := DigestOf(m.Signer.Raw)
		want = s[:]
	default:
		hash, ok := hashForOID(id.HashAlgorithm.Algorithm)
		if !ok {
			return fail(fmt.Sprintf("hash algorithm %v not accepted", id.HashAlgorithm.Algorithm))
		}
		h := hash.New()
		h.Write(m.Signer.Raw)
		want = h.Sum(nil)
	}
	if subtle.ConstantTimeCompare(want, id.CertHash) != 1 {
		return fail("signing-certificate hash does not match the signer certificate")
	}
	return nil
}

// marshalSignedAttributes returns the DER SET OF attributes over which the
// signature is computed (RFC 5652 §5.4: the [0] IMPLICIT tag is replaced by
// the SET tag). encoding/asn1 sorts a SET OF as DER requires.
func marshalSignedAttributes(attrs []cmsAttribute) ([]byte, error) {
	b, err := asn1.Marshal(struct {
		A []cmsAttribute `asn1:"set"`
	}{A: attrs})
	if err != nil {
		return nil, err
	}
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	return raw.Bytes, nil
}

func hashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

// signatureAlgorithm maps a SignerInfo signature algorithm and digest to an
// x509 algorithm. SHA-1 and RSA-PSS are not accepted.
func signatureAlgorithm(oid asn1.ObjectIdentifier, hash crypto.Hash, cert *x509.Certificate) (x509.SignatureAlgorithm, bool) {
	rsaAlg := map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA256: x509.SHA256WithRSA, crypto.SHA384: x509.SHA384WithRSA, crypto.SHA512: x509.SHA512WithRSA}
	ecAlg := map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA256: x509.ECDSAWithSHA256, crypto.SHA384: x509.ECDSAWithSHA384, crypto.SHA512: x509.ECDSAWithSHA512}
	switch {
	case oid.Equal(oidRSA),
		oid.Equal(oidSHA256WithRSA) && hash == crypto.SHA256,
		oid.Equal(oidSHA384WithRSA) && hash == crypto.SHA384,
		oid.Equal(oidSHA512WithRSA) && hash == crypto.SHA512:
		return rsaAlg[hash], cert.PublicKeyAlgorithm == x509.RSA
	case oid.Equal(oidECPublicKey),
		oid.Equal(oidECDSAWithSHA25) && hash == crypto.SHA256,
		oid.Equal(oidECDSAWithSHA38) && hash == crypto.SHA384,
		oid.Equal(oidECDSAWithSHA51) && hash == crypto.SHA512:
		return ecAlg[hash], cert.PublicKeyAlgorithm == x509.ECDSA
	}
	return 0, false
}
