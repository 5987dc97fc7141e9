package ca

import (
	"crypto/sha256"
	"fmt"
	"sync"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3/lint"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Running only the lints that apply.
//
// Certificates of one profile from one issuer share a shape: the same
// issuer, signature algorithm, subject attribute types and string types,
// key algorithm, validity time encodings and, except for the subject key
// identifier, the same extensions byte for byte. Whether a lint applies
// (its CheckApplies) depends only on such structural features for every
// lint in our sources (checked against zlint v3.7.3: they test for the
// presence of extensions, attributes, key types and encodings). So the first
// certificate of a shape runs every lint, the linter records which ones
// applied, and later certificates of the shape skip the others and call
// Execute directly on those that apply and are effective (CheckEffective
// reads NotBefore and is evaluated for every certificate).
//
// Lints in shapeOnly read nothing but what the shape pins (the extensions
// other than the subject key identifier's value, the issuer, the version):
// their verdict is a function of the shape and of the effective date,
// which is checked for every certificate. Their result for the shape is
// kept and reused. Every other applicable lint runs on every certificate.

// shapeOnly lists lints whose CheckApplies and Execute read only what the
// shape pins (checked against the zlint v3.7.3 sources):
//   - lints/etsi: the qcStatements extension through util.GetExtFromCert
//     and util.ParseQcStatem, plus the EKU for qctype_web and the policies
//     for qctype_smime. The PSD2 organizationIdentifier lints read the
//     subject and are not listed;
//   - lints/rfc e_issuer_dn_country_not_printable_string: Issuer.Country
//     and RawIssuer;
//   - e_ext_duplicate_extension: Version and the extension OIDs;
//   - e_ext_cannot_be_empty_sequence: the values of ten extensions, none of
//     them the subject key identifier (SAN is pinned: server certificates
//     get one shape per set of DNS names);
//   - e_distribution_point_incomplete: the CRL distribution points;
//   - e_cert_ext_invalid_der: the critical flag of every extension (the
//     subject key identifier's included, pinned) after decoding the
//     certificate with RawValue for every part but the serial, the
//     algorithm identifiers and the signature bits, which zcrypto's own
//     parse, already successful, decodes with the same decoder;
//   - the lints/rfc lints on key usage encoding and bits, extension
//     criticality (AKID, AIA, SKI, CRL DP, key usage), the issuer, unique
//     identifiers and version, AIA and CRL DP locations, duplicate
//     policies and notice references, and e_ecdsa_allowed_ku (the key
//     algorithm, which the shape pins, and the key usage). Lints that call
//     util.IsSubscriberCert or util.IsSelfSigned are not listed: zcrypto's
//     SelfSigned depends on the subject and the signature;
//   - e_subject_dn_country_not_printable_string and
//     e_subject_dn_serial_number_not_printable_string: whether the subject
//     has a (non-empty) country or serialNumber, and the string type of
//     those attributes. The shape pins the subject's attribute types,
//     string types and empty values; the subject itself decodes (zcrypto's
//     parse of it succeeded), so their RawRDNSequence decoding does too.
var shapeOnly = map[string]bool{
	"e_subject_dn_country_not_printable_string":       true,
	"e_subject_dn_serial_number_not_printable_string": true,
	"e_key_usage_incorrect_length":                    true,
	"e_incorrect_ku_encoding":                         true,
	"e_superfluous_ku_encoding":                       true,
	"e_ext_key_usage_without_bits":                    true,
	"e_ext_key_usage_cert_sign_without_ca":            true,
	"w_ext_key_usage_not_critical":                    true,
	"e_ecdsa_allowed_ku":                              true,
	"e_ext_authority_key_identifier_critical":         true,
	"e_ext_aia_marked_critical":                       true,
	"e_ext_subject_key_identifier_critical":           true,
	"w_ext_crl_distribution_marked_critical":          true,
	"e_issuer_field_empty":                            true,
	"e_cert_contains_unique_identifier":               true,
	"e_cert_unique_identifier_version_not_2_or_3":     true,
	"e_cert_extensions_version_not_3":                 true,
	"w_ext_aia_access_location_missing":               true,
	"w_distribution_point_missing_ldap_or_uri":        true,
	"e_ext_cert_policy_duplicate":                     true,
	"w_ext_cert_policy_contains_noticeref":            true,

	"e_issuer_dn_country_not_printable_string": true,
	"e_ext_duplicate_extension":                true,
	"e_ext_cannot_be_empty_sequence":           true,
	"e_distribution_point_incomplete":          true,
	"e_cert_ext_invalid_der":                   true,

	"e_qcstatem_etsi_present_qcs_critical": true,
	"e_qcstatem_etsi_type_as_statem":       true,
	"e_qcstatem_mandatory_etsi_statems":    true,
	"w_qcstatem_psd2_ncaid_eulist":         true,
	"e_qcstatem_psd2_ncaid_format":         true,
	"e_qcstatem_psd2_ncaname_valid":        true,
	"e_qcstatem_psd2_roles_present":        true,
	"e_qcstatem_psd2_roles_valid":          true,
	"e_qcstatem_psd2_valid":                true,
	"e_qcstatem_qccompliance_valid":        true,
	"e_qcstatem_qclimitvalue_valid":        true,
	"e_qcstatem_pds_must_have_https_only":  true,
	"w_qcstatem_qcpds_lang_case":           true,
	"e_qcstatem_qcpds_valid":               true,
	"e_qcstatem_qcretentionperiod_valid":   true,
	"e_qcstatem_qcsscd_valid":              true,
	"e_qcstatem_qctype_oneonly":            true,
	"e_qcstatem_qctype_smime":              true,
	"e_qcstatem_qctype_valid":              true,
	"e_qcstatem_qctype_web":                true,
	"e_duplicate_etsi_qcstatement":         true,
}

// maxShapes bounds the shape cache; past it, certificates of new shapes are
// linted in full and not remembered. Each profile and issuer gives one shape
// (server certificates one per set of DNS names).
const maxShapes = 512

// shapeEntry is what the linter learnt from the first certificate of a
// shape: which lints apply, and the results of the applicable
// shape-only lints.
type shapeEntry struct {
	applies []bool
	results []*lint.LintResult
	// base, when not nil, parses later certificates of the shape
	// (lintparse.go).
	base *zcryptoParseBase
}

type shapeCache struct {
	mu     sync.RWMutex
	shapes map[[32]byte]*shapeEntry
}

func (s *shapeCache) get(k [32]byte) *shapeEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.shapes[k]
}

func (s *shapeCache) put(k [32]byte, e *shapeEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.shapes) < maxShapes {
		s.shapes[k] = e
	}
}

// oidSubjectKeyID is the DER of 2.5.29.14 (without tag and length).
var oidSubjectKeyID = []byte{0x55, 0x1d, 0x0e}

// certificateShape hashes the structural features of a DER certificate (see
// the comment at the top of this file). ok is false when the certificate
// cannot be taken apart, and then nothing is cached.
func certificateShape(der []byte) (key [32]byte, ok bool) {
	// The features are appended to one buffer, on the stack for our
	// certificates, and hashed once.
	var stack [2048]byte
	h := stack[:0]
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return key, false
	}
	var version, sigAlg, issuer, validity, subject, spki cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&version, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.SkipASN1(cbasn1.INTEGER) ||
		!tbs.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1(&validity, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1(&subject, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1(&spki, cbasn1.SEQUENCE) {
		return key, false
	}
	h = append(h, version...)
	h = append(h, sigAlg...)
	h = append(h, issuer...)
	// Validity: only the time encodings (UTCTime or GeneralizedTime).
	for !validity.Empty() {
		var tag cbasn1.Tag
		var t cryptobyte.String
		if !validity.ReadAnyASN1(&t, &tag) {
			return key, false
		}
		h = append(h, byte(tag))
	}
	// Subject: attribute types, string types and emptiness, not values.
	for !subject.Empty() {
		var rdn cryptobyte.String
		if !subject.ReadASN1(&rdn, cbasn1.SET) {
			return key, false
		}
		h = append(h, '{')
		for !rdn.Empty() {
			var atv, oid cryptobyte.String
			var tag cbasn1.Tag
			var val cryptobyte.String
			if !rdn.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) || !atv.ReadAnyASN1(&val, &tag) {
				return key, false
			}
			h = append(h, oid...)
			h = append(h, byte(tag), boolByte(val.Empty()))
		}
	}
	// Key: the algorithm identifier (with the curve), not the key.
	var keyAlg cryptobyte.String
	if !spki.ReadASN1Element(&keyAlg, cbasn1.SEQUENCE) {
		return key, false
	}
	h = append(h, keyAlg...)
	// Everything after the key (unique IDs, extensions) byte for byte,
	// except the value of the subject key identifier.
	for !tbs.Empty() {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !tbs.ReadAnyASN1Element(&elem, &tag) {
			return key, false
		}
		if tag != cbasn1.Tag(3).Constructed().ContextSpecific() {
			h = append(h, elem...)
			continue
		}
		var wrapped, exts cryptobyte.String
		if !elem.ReadASN1(&wrapped, tag) || !wrapped.ReadASN1(&exts, cbasn1.SEQUENCE) {
			return key, false
		}
		for !exts.Empty() {
			var ext, body, oid cryptobyte.String
			if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
				return key, false
			}
			body = ext
			if !body.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) {
				return key, false
			}
			if string(oid) == string(oidSubjectKeyID) {
				// Everything but the value: the criticality, as encoded.
				h = append(h, "skid"...)
				var crit cryptobyte.String
				var critTag cbasn1.Tag
				if body.PeekASN1Tag(cbasn1.BOOLEAN) && !body.ReadAnyASN1Element(&crit, &critTag) {
					return key, false
				}
				h = append(h, crit...)
				continue
			}
			h = append(h, ext...)
		}
	}
	return sha256.Sum256(h), true
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// runLint runs one lint the way zlint's CertificateLint.Execute does
// (configure, CheckApplies, CheckEffective, Execute, a panic becomes a fatal
// result), but reports CheckApplies separately.
func runLint(cl *lint.CertificateLint, c *zx509.Certificate, cfg lint.Configuration) (applies bool, res *lint.LintResult) {
	defer func() {
		if r := recover(); r != nil {
			applies, res = true, &lint.LintResult{Status: lint.Fatal, Details: fmt.Sprintf("%s panicked: %v", cl.Name, r)}
		}
	}()
	li := cl.Lint()
	if err := cfg.MaybeConfigure(li, cl.Name); err != nil {
		return true, &lint.LintResult{Status: lint.Fatal, Details: err.Error()}
	}
	if !li.CheckApplies(c) {
		return false, &lint.LintResult{Status: lint.NA}
	}
	if !cl.CheckEffective(c) {
		return true, &lint.LintResult{Status: lint.NE}
	}
	return true, li.Execute(c)
}

// executeLint runs Execute of a lint already known to apply and to be
// effective; a panic becomes a fatal result.
func executeLint(cl *lint.CertificateLint, c *zx509.Certificate, cfg lint.Configuration) (res *lint.LintResult) {
	defer func() {
		if r := recover(); r != nil {
			res = &lint.LintResult{Status: lint.Fatal, Details: fmt.Sprintf("%s panicked: %v", cl.Name, r)}
		}
	}()
	li := cl.Lint()
	if err := cfg.MaybeConfigure(li, cl.Name); err != nil {
		return &lint.LintResult{Status: lint.Fatal, Details: err.Error()}
	}
	return li.Execute(c)
}
