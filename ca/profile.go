package ca

import (
	"crypto/x509"
	"slices"
	"time"
)

// SubjectKind says how a profile builds the subject name.
type SubjectKind int

// The subject kinds.
const (
	// NaturalPersonSubject: C, givenName, surname, CN, serialNumber
	// TINIT-<tax code> and dnQualifier (the IUT), from [Holder] (ETSI EN
	// 319 412-2 §4.2.4, ETSI EN 319 412-1 §5.1.3).
	NaturalPersonSubject SubjectKind = iota + 1
	// RoleSubject: a natural person subject plus O, organizationIdentifier
	// and title (ETSI EN 319 412-2 §4.2.4).
	RoleSubject
	// ServiceSubject: C, O and CN of the CA's organisation, for the OCSP
	// signer and TLS servers.
	ServiceSubject
)

// String returns the kind's name.
func (k SubjectKind) String() string {
	switch k {
	case NaturalPersonSubject:
		return "natural-person"
	case RoleSubject:
		return "role"
	case ServiceSubject:
		return "service"
	default:
		return "unknown"
	}
}

// Profile describes one kind of certificate: what goes in the subject, the
// key usages, the policies, the qualified-certificate statements and the
// validity. The package-level values ([QualifiedNaturalPerson], [Role],
// [OneShot], [Authentication], [UsageLimited], [OCSPSigner], [ServerTLS],
// [EvidenceSeal])
// are the profiles registra issues; a platform may copy one and change its
// validity for a catalogue product. The URLs, policy OID and PDS that a
// profile refers to come from the [Issuer]'s [Config].
type Profile struct {
	// Name identifies the profile in stores and logs; it never changes.
	Name string
	// Citation names the clauses the profile implements.
	Citation string
	// Subject says how the subject name is built.
	Subject SubjectKind
	// KeyUsage is the keyUsage extension (always critical, RFC 5280
	// §4.2.1.3).
	KeyUsage x509.KeyUsage
	// ExtKeyUsage is the extKeyUsage extension; empty means none.
	ExtKeyUsage []x509.ExtKeyUsage
	// DefaultValidity is used when the request gives none.
	DefaultValidity time.Duration
	// MinValidity and MaxValidity bound a requested validity.
	MinValidity, MaxValidity time.Duration
	// Qualified adds the qcStatements extension (QcCompliance, QcType esign,
	// QcPDS, QcRetentionPeriod, the natural-person semantics identifier) and
	// the QCP-n-qscd policy (ETSI EN 319 412-5 §4, ETSI EN 319 412-2
	// §4.3.3).
	Qualified bool
	// SSCD adds QcSSCD: the key is in a qualified signature creation device
	// (ETSI EN 319 412-5 §4.2.2).
	SSCD bool
	// CAPolicy adds the CA's own certificate policy OID, with its CPS URI
	// when the Config has one (ETSI EN 319 412-2 §4.3.3).
	CAPolicy bool
	// UsageLimitation, when set, is the explicit text of a user notice on
	// the CA's policy (RFC 5280 §4.2.1.4), at most 200 characters.
	UsageLimitation string
	// Revocable adds the CRL distribution point and the OCSP access method
	// (ETSI EN 319 412-2 §4.3.11 and §4.4.1).
	Revocable bool
	// OCSPNoCheck adds id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
	OCSPNoCheck bool
	// DNSNames requires DNS names in the request and puts them in the
	// subjectAltName (RFC 5280 §4.2.1.6).
	DNSNames bool
}

const (
	day  = 24 * time.Hour
	year = 365 * day
)

// SPIDLimitation is the user notice of [UsageLimited]: products whose holder
// was identified through SPID cannot be used to request a SPID identity
// (partner manual, "SPID Recognition Product Request").
const SPIDLimitation = "Certificato non utilizzabile per richiedere un'identità digitale SPID. " +
	"This certificate cannot be used to obtain a SPID digital identity."

// QualifiedNaturalPerson is the qualified signature certificate of a natural
// person, with the key in a QSCD (remote signature in the HSM, or on a
// device).
//
//   - subject: C, givenName, surname, CN, serialNumber TINIT-<tax code>,
//     dnQualifier = IUT (ETSI EN 319 412-2 §4.2.4; ETSI EN 319 412-1 §5.1.3);
//   - keyUsage nonRepudiation, critical (ETSI EN 319 412-2 §4.3.2);
//   - certificatePolicies: the CA's policy and QCP-n-qscd 0.4.0.194112.1.2
//     (ETSI EN 319 412-2 §4.3.3, ETSI EN 319 411-2 §5.3);
//   - qcStatements: QcCompliance, QcSSCD, QcType esign, QcPDS,
//     QcRetentionPeriod, semantics id-etsi-qcs-semanticsId-Natural
//     (ETSI EN 319 412-5 §4.2.1, §4.2.2, §4.2.3, §4.3.4, §4.3.3; ETSI EN 319
//     412-1 §5.1);
//   - CRL distribution point, AIA caIssuers and OCSP (ETSI EN 319 412-2
//     §4.3.11, §4.4.1);
//   - validity: 3 years by default, from 1 day to 6 years, never past the
//     issuing CA's notAfter (issue #3).
var QualifiedNaturalPerson = Profile{
	Name:            "qualified",
	Citation:        "ETSI EN 319 412-2 §4.2-4.4; ETSI EN 319 412-5 §4; ETSI EN 319 412-1 §5.1.3",
	Subject:         NaturalPersonSubject,
	KeyUsage:        x509.KeyUsageContentCommitment,
	DefaultValidity: 3 * year,
	MinValidity:     day,
	MaxValidity:     6 * year,
	Qualified:       true,
	SSCD:            true,
	CAPolicy:        true,
	Revocable:       true,
}

// Role is [QualifiedNaturalPerson] for a person acting in a role of an
// organisation: the subject adds O, organizationIdentifier (e.g.
// VATIT-01234567890, ETSI EN 319 412-1 §5.1.4) and title (ETSI EN 319 412-2
// §4.2.4). The RAO certificate of the partner manual is one.
var Role = Profile{
	Name:            "role",
	Citation:        "ETSI EN 319 412-2 §4.2.4; ETSI EN 319 412-1 §5.1.4; ETSI EN 319 412-5 §4",
	Subject:         RoleSubject,
	KeyUsage:        x509.KeyUsageContentCommitment,
	DefaultValidity: 3 * year,
	MinValidity:     day,
	MaxValidity:     6 * year,
	Qualified:       true,
	SSCD:            true,
	CAPolicy:        true,
	Revocable:       true,
}

// OneShot is the short-lived qualified certificate an applicant uses to sign
// one request form (Live ID, Video ID and SPID recognition in the partner
// manual): [QualifiedNaturalPerson] with a validity of one hour by default,
// from one minute to one hour.
var OneShot = Profile{
	Name:            "one-shot",
	Citation:        "ETSI EN 319 412-2 §4.2-4.4; ETSI EN 319 412-5 §4; partner manual, Live ID",
	Subject:         NaturalPersonSubject,
	KeyUsage:        x509.KeyUsageContentCommitment,
	DefaultValidity: time.Hour,
	MinValidity:     time.Minute,
	MaxValidity:     time.Hour,
	Qualified:       true,
	SSCD:            true,
	CAPolicy:        true,
	Revocable:       true,
}

// Authentication is the authentication certificate issued with the
// signature certificate of an on-device product (one operation, two
// certificates): the natural person subject, keyUsage digitalSignature
// (critical), extKeyUsage clientAuth, the CA's policy, CRL distribution point
// and AIA. It is not a qualified certificate: no qcStatements (ETSI EN 319
// 412-2 §4.3.2 keeps nonRepudiation for signatures).
var Authentication = Profile{
	Name:            "authentication",
	Citation:        "ETSI EN 319 412-2 §4.2.4, §4.3.2; RFC 5280 §4.2.1.12",
	Subject:         NaturalPersonSubject,
	KeyUsage:        x509.KeyUsageDigitalSignature,
	ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	DefaultValidity: 3 * year,
	MinValidity:     day,
	MaxValidity:     6 * year,
	CAPolicy:        true,
	Revocable:       true,
}

// UsageLimited is [QualifiedNaturalPerson] for holders identified through
// SPID: the CA's policy carries a user notice ([SPIDLimitation]) stating that
// the certificate cannot be used to obtain a SPID identity (RFC 5280
// §4.2.1.4; partner manual, "SPID Recognition Product Request").
var UsageLimited = Profile{
	Name:            "usage-limited",
	Citation:        "ETSI EN 319 412-2 §4.3.3; RFC 5280 §4.2.1.4; partner manual, SPID",
	Subject:         NaturalPersonSubject,
	KeyUsage:        x509.KeyUsageContentCommitment,
	DefaultValidity: 3 * year,
	MinValidity:     day,
	MaxValidity:     6 * year,
	Qualified:       true,
	SSCD:            true,
	CAPolicy:        true,
	UsageLimitation: SPIDLimitation,
	Revocable:       true,
}

// OCSPSigner is the delegated OCSP responder certificate: keyUsage
// digitalSignature, extKeyUsage id-kp-OCSPSigning, id-pkix-ocsp-nocheck so
// that clients do not ask for its own status (RFC 6960 §4.2.2.2), one year
// by default.
var OCSPSigner = Profile{
	Name:            "ocsp-signer",
	Citation:        "RFC 6960 §4.2.2.2, §4.2.2.2.1",
	Subject:         ServiceSubject,
	KeyUsage:        x509.KeyUsageDigitalSignature,
	ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
	DefaultValidity: year,
	MinValidity:     day,
	MaxValidity:     3 * year,
	OCSPNoCheck:     true,
}

// ServerTLS is a TLS server certificate for the example server and the
// CRL/OCSP endpoints: keyUsage digitalSignature, extKeyUsage serverAuth, DNS
// names in the subjectAltName, 397 days at most (RFC 5280 §4.2.1.6,
// §4.2.1.12).
var ServerTLS = Profile{
	Name:            "server-tls",
	Citation:        "RFC 5280 §4.2.1.6, §4.2.1.12",
	Subject:         ServiceSubject,
	KeyUsage:        x509.KeyUsageDigitalSignature,
	ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	DefaultValidity: 397 * day,
	MinValidity:     time.Hour,
	MaxValidity:     397 * day,
	Revocable:       true,
	DNSNames:        true,
}

// Profiles returns the profiles registra defines, in a new slice.
func Profiles() []Profile {
	return []Profile{QualifiedNaturalPerson, Role, OneShot, Authentication, UsageLimited, OCSPSigner, ServerTLS, EvidenceSeal}
}

// ProfileByName returns the profile of [Profiles] with the given name.
func ProfileByName(name string) (Profile, bool) {
	i := slices.IndexFunc(Profiles(), func(p Profile) bool { return p.Name == name })
	if i < 0 {
		return Profile{}, false
	}
	return Profiles()[i], true
}

// validate checks the profile's own consistency.
func (p Profile) validate() error {
	switch {
	case p.Name == "":
		return fieldErr("Profile.Name", "must not be empty")
	case p.Subject < NaturalPersonSubject || p.Subject > ServiceSubject:
		return fieldErr("Profile.Subject", "unknown subject kind")
	case p.KeyUsage == 0:
		return fieldErr("Profile.KeyUsage", "must not be empty")
	case p.MinValidity <= 0 || p.MaxValidity < p.MinValidity:
		return fieldErr("Profile.MaxValidity", "validity bounds must satisfy 0 < MinValidity <= MaxValidity")
	case p.DefaultValidity < p.MinValidity || p.DefaultValidity > p.MaxValidity:
		return fieldErr("Profile.DefaultValidity", "must lie between MinValidity and MaxValidity")
	case p.Qualified && p.Subject == ServiceSubject:
		return fieldErr("Profile.Qualified", "qualified certificates are for natural persons")
	case len([]rune(p.UsageLimitation)) > 200:
		return fieldErr("Profile.UsageLimitation", "explicit text is limited to 200 characters (RFC 5280 §4.2.1.4)")
	case p.UsageLimitation != "" && !p.CAPolicy:
		return fieldErr("Profile.UsageLimitation", "needs CAPolicy: the notice qualifies the CA's policy")
	}
	return nil
}
