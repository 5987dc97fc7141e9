package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.step.sm/crypto/x509util"

	"github.com/registra-pki/registra/internal/taxcode"
)

// Holder is the person a certificate is issued to, as the registration
// authority recorded them.
type Holder struct {
	// TaxCode is the holder's Italian tax code (codice fiscale), checked
	// for format and check character and against the names. It becomes
	// the subject serialNumber TINIT-<tax code> (ETSI EN 319 412-1 §5.1.3).
	TaxCode string
	// GivenName and Surname are the holder's names as on the identity
	// document; both required, at most 64 characters each.
	GivenName, Surname string
	// IUT is the holder's unique identifier on the platform; it becomes
	// the subject dnQualifier. Required; printable characters (X.520
	// PrintableString), at most 64.
	IUT string
	// Country is the subject C. Zero means "IT".
	Country string
	// Organization, OrganizationIdentifier and Title are the role data;
	// all three are required by the [Role] profile and ignored by the
	// others. OrganizationIdentifier follows ETSI EN 319 412-1 §5.1.4
	// (e.g. "VATIT-01234567890").
	Organization, OrganizationIdentifier, Title string
}

// Request asks for one certificate. Exactly one of CSR and PublicKey is
// set.
type Request struct {
	// Profile is the kind of certificate, usually one of the package-level
	// profiles.
	Profile Profile
	// Holder is the subject, for natural-person and role profiles.
	Holder Holder
	// CSR is a PKCS #10 request, DER or PEM, for keys made on the holder's
	// device. Its signature and key are checked; its subject and
	// extensions are ignored: the certificate content comes from Holder
	// and Profile only.
	CSR []byte
	// PublicKey is a key generated elsewhere (for remote signature, in the
	// HSM). RSA of at least 2048 bits or ECDSA on P-256, P-384 or P-521.
	PublicKey crypto.PublicKey
	// Validity is the requested lifetime. Zero means the profile's
	// default. It must lie within the profile's bounds and end no later
	// than the issuing CA certificate.
	Validity time.Duration
	// CommonName is the CN of service profiles ([OCSPSigner], [EvidenceSeal],
	// [ServerTLS]). Zero means the first DNS name.
	CommonName string
	// DNSNames are the subjectAltName DNS names of [ServerTLS].
	DNSNames []string
}

// maxNameLength is ub-common-name and the recommended bound for givenName
// and surname (RFC 5280 Appendix A.1).
const maxNameLength = 64

// subjectFor validates the holder data the profile needs and builds the
// subject. It returns the parsed tax code too (zero for service profiles).
func subjectFor(req *Request, caOrg, caCountry string) (x509util.Subject, error) {
	p := req.Profile
	if p.Subject == ServiceSubject {
		cn := req.CommonName
		if cn == "" && len(req.DNSNames) > 0 {
			cn = req.DNSNames[0]
		}
		if err := checkName("CommonName", cn); err != nil {
			return x509util.Subject{}, err
		}
		return x509util.Subject{Country: []string{caCountry}, Organization: []string{caOrg}, CommonName: cn}, nil
	}
	h := req.Holder
	if err := checkName("Holder.GivenName", h.GivenName); err != nil {
		return x509util.Subject{}, err
	}
	if err := checkName("Holder.Surname", h.Surname); err != nil {
		return x509util.Subject{}, err
	}
	code, err := taxcode.Parse(h.TaxCode)
	if err != nil {
		return x509util.Subject{}, &FieldError{Field: "Holder.TaxCode", Rule: "not a valid tax code", Err: err}
	}
	if err := code.Check(taxcode.Person{Surname: h.Surname, GivenName: h.GivenName}); err != nil {
		return x509util.Subject{}, &FieldError{Field: "Holder.TaxCode", Rule: "does not match the holder's names", Err: err}
	}
	if h.IUT == "" {
		return x509util.Subject{}, fieldErr("Holder.IUT", "must not be empty")
	}
	if len(h.IUT) > maxNameLength || !isPrintableString(h.IUT) {
		return x509util.Subject{}, fieldErr("Holder.IUT", "must be at most 64 PrintableString characters (X.520 dnQualifier)")
	}
	country := h.Country
	if country == "" {
		country = "IT"
	}
	if !isCountryCode(country) {
		return x509util.Subject{}, fieldErr("Holder.Country", "must be two upper-case letters (ISO 3166-1 alpha-2)")
	}
	given, surname := strings.TrimSpace(h.GivenName), strings.TrimSpace(h.Surname)
	cn := given + " " + surname
	if utf8.RuneCountInString(cn) > maxNameLength {
		return x509util.Subject{}, fieldErr("Holder.Surname", "given name and surname together exceed 64 characters (ub-common-name)")
	}
	s := x509util.Subject{
		Country:      []string{country},
		CommonName:   cn,
		SerialNumber: "TINIT-" + code.String(),
		ExtraNames: []x509util.DistinguishedName{
			{Type: x509util.ObjectIdentifier(OIDGivenName), Value: given},
			{Type: x509util.ObjectIdentifier(OIDSurname), Value: surname},
			{Type: x509util.ObjectIdentifier(OIDDNQualifier), Value: h.IUT},
		},
	}
	if p.Subject == RoleSubject {
		if err := checkName("Holder.Organization", h.Organization); err != nil {
			return x509util.Subject{}, err
		}
		if !isOrganizationIdentifier(h.OrganizationIdentifier) {
			return x509util.Subject{}, fieldErr("Holder.OrganizationIdentifier", "must be <VAT|NTR|PSD|LEI><country>-<identifier> (ETSI EN 319 412-1 §5.1.4)")
		}
		if err := checkName("Holder.Title", h.Title); err != nil {
			return x509util.Subject{}, err
		}
		s.Organization = []string{strings.TrimSpace(h.Organization)}
		s.ExtraNames = append(s.ExtraNames,
			x509util.DistinguishedName{Type: x509util.ObjectIdentifier(OIDOrganizationIdentifier), Value: h.OrganizationIdentifier},
			x509util.DistinguishedName{Type: x509util.ObjectIdentifier(OIDTitle), Value: strings.TrimSpace(h.Title)},
		)
	}
	return s, nil
}

func checkName(field, v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return fieldErr(field, "must not be empty")
	case !utf8.ValidString(v):
		return fieldErr(field, "must be valid UTF-8")
	case utf8.RuneCountInString(v) > maxNameLength:
		return fieldErr(field, "must be at most 64 characters")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fieldErr(field, "must not contain control characters")
		}
	}
	return nil
}

// isPrintableString reports whether s uses only the PrintableString
// alphabet (X.680 §41.4).
func isPrintableString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(" '()+,-./:=?", c) >= 0) {
			return false
		}
	}
	return true
}

func isCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func isOrganizationIdentifier(s string) bool {
	if len(s) < 7 || len(s) > maxNameLength || s[5] != '-' || !isPrintableString(s) {
		return false
	}
	switch s[:3] {
	case "VAT", "NTR", "PSD", "LEI":
	default:
		return false
	}
	return isCountryCode(s[3:5])
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// requestKey returns the public key of the request, from the CSR (after
// checking its signature) or as given, and applies the key policy.
func requestKey(req *Request) (crypto.PublicKey, error) {
	switch {
	case len(req.CSR) > 0 && req.PublicKey != nil:
		return nil, fieldErr("CSR", "set either CSR or PublicKey, not both")
	case len(req.CSR) == 0 && req.PublicKey == nil:
		return nil, fieldErr("PublicKey", "a CSR or a public key is required")
	case req.PublicKey != nil:
		if err := checkKeyPolicy("PublicKey", req.PublicKey); err != nil {
			return nil, err
		}
		return req.PublicKey, nil
	}
	csr, err := ParseCSR(req.CSR)
	if err != nil {
		return nil, err
	}
	return csr.PublicKey, nil
}

// ParseCertificate parses a certificate, DER or PEM ("CERTIFICATE"). Errors
// are [*FieldError]s on the field "certificate".
func ParseCertificate(b []byte) (*x509.Certificate, error) {
	der := b
	if block, _ := pem.Decode(b); block != nil {
		if block.Type != "CERTIFICATE" {
			return nil, fieldErr("certificate", fmt.Sprintf("PEM block is %q, not CERTIFICATE", block.Type))
		}
		der = block.Bytes
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fieldErr("certificate", "is not an X.509 certificate: "+err.Error())
	}
	return cert, nil
}

// ParseCSR parses a PKCS #10 request (DER, or PEM "CERTIFICATE REQUEST"),
// checks its self-signature (RFC 2986 §3: proof of possession) and applies
// the key policy. Errors are [*FieldError]s on the field "CSR".
func ParseCSR(b []byte) (*x509.CertificateRequest, error) {
	der := b
	if block, _ := pem.Decode(b); block != nil {
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fieldErr("CSR", fmt.Sprintf("PEM block is %q, not CERTIFICATE REQUEST", block.Type))
		}
		der = block.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, &FieldError{Field: "CSR", Rule: "malformed PKCS #10 request", Err: err}
	}
	if err := checkKeyPolicy("CSR", csr.PublicKey); err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, &FieldError{Field: "CSR", Rule: "signature does not verify", Err: err}
	}
	return csr, nil
}

// checkKeyPolicy refuses keys too weak or of a kind qualified signatures do
// not use (ETSI TS 119 312 §6: RSA of at least 2048 bits — issue #3 — and
// ECDSA on the NIST curves).
func checkKeyPolicy(field string, pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < 2048 {
			return fieldErr(field, "RSA key must have at least 2048 bits")
		}
		if k.N.BitLen() > 8192 {
			return fieldErr(field, "RSA key must have at most 8192 bits")
		}
		if k.E < 65537 || k.E%2 == 0 {
			return fieldErr(field, "RSA public exponent must be odd and at least 65537")
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fieldErr(field, "unsupported elliptic curve: use P-256, P-384 or P-521")
		}
	default:
		return fieldErr(field, fmt.Sprintf("unsupported key type %T: use RSA or ECDSA", pub))
	}
	return nil
}
