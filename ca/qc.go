package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

// Object identifiers used by the profiles.
var (
	// OIDQCStatements is the qcStatements extension (RFC 3739 §3.2.6).
	OIDQCStatements = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	// OIDQcCompliance is esi4-qcStatement-1, id-etsi-qcs-QcCompliance (ETSI EN 319 412-5 §4.2.1).
	OIDQcCompliance = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}
	// OIDQcRetentionPeriod is esi4-qcStatement-3, id-etsi-qcs-QcRetentionPeriod (ETSI EN 319 412-5 §4.3.3).
	OIDQcRetentionPeriod = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 3}
	// OIDQcSSCD is esi4-qcStatement-4, id-etsi-qcs-QcSSCD (ETSI EN 319 412-5 §4.2.2).
	OIDQcSSCD = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}
	// OIDQcPDS is esi4-qcStatement-5, id-etsi-qcs-QcPDS (ETSI EN 319 412-5 §4.3.4).
	OIDQcPDS = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 5}
	// OIDQcType is esi4-qcStatement-6, id-etsi-qcs-QcType (ETSI EN 319 412-5 §4.2.3).
	OIDQcType = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}
	// OIDQcTypeESign is id-etsi-qct-esign: a certificate for electronic signatures (ETSI EN 319 412-5 §4.2.3).
	OIDQcTypeESign = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1}
	// OIDPKIXQCSyntaxV2 is id-qcs-pkixQCSyntax-v2, which carries the semantics identifier (RFC 3739 §3.2.6.1).
	OIDPKIXQCSyntaxV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 11, 2}
	// OIDSemanticsNatural is id-etsi-qcs-semanticsId-Natural: the subject serialNumber
	// is a natural person identifier such as TINIT-<tax code> (ETSI EN 319 412-1 §5.1.3).
	OIDSemanticsNatural = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 1}
	// OIDQCPNaturalQSCD is QCP-n-qscd: qualified certificate for a natural
	// person with the key in a QSCD (ETSI EN 319 411-2 §5.3, required by ETSI EN 319 412-2 §4.3.3).
	OIDQCPNaturalQSCD = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 2}
	// OIDCertificatePolicies is the certificatePolicies extension (RFC 5280 §4.2.1.4).
	OIDCertificatePolicies = asn1.ObjectIdentifier{2, 5, 29, 32}
	// OIDPolicyQualifierCPS is id-qt-cps (RFC 5280 §4.2.1.4).
	OIDPolicyQualifierCPS = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 1}
	// OIDPolicyQualifierUserNotice is id-qt-unotice (RFC 5280 §4.2.1.4).
	OIDPolicyQualifierUserNotice = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 2}
	// OIDOCSPNoCheck is id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
	OIDOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	// OIDOrganizationIdentifier is the organizationIdentifier attribute (X.520; ETSI EN 319 412-1 §5.1.4).
	OIDOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
	// OIDGivenName is the givenName attribute (X.520).
	OIDGivenName = asn1.ObjectIdentifier{2, 5, 4, 42}
	// OIDSurname is the surname attribute (X.520).
	OIDSurname = asn1.ObjectIdentifier{2, 5, 4, 4}
	// OIDTitle is the title attribute (X.520).
	OIDTitle = asn1.ObjectIdentifier{2, 5, 4, 12}
	// OIDDNQualifier is the dnQualifier attribute (X.520), which carries the holder's IUT.
	OIDDNQualifier = asn1.ObjectIdentifier{2, 5, 4, 46}
)

// PDSLocation is one PKI Disclosure Statement: an https URL and the
// two-letter ISO 639-1 language of the document (ETSI EN 319 412-5 §4.3.4).
type PDSLocation struct {
	// URL is where the statement is published; https only.
	URL string `asn1:"ia5"`
	// Language is the ISO 639-1 code of the statement, lower case.
	Language string `asn1:"printable"`
}

// QCStatements is the value of the qcStatements extension of a qualified
// certificate (RFC 3739 §3.2.6; ETSI EN 319 412-5 §4). Each field is one
// statement; zero fields are omitted.
//
// The encoding is
//
//	QCStatements ::= SEQUENCE OF QCStatement
//	QCStatement  ::= SEQUENCE { statementId OBJECT IDENTIFIER, statementInfo ANY OPTIONAL }
//
// with the statements written in the order of the fields below.
type QCStatements struct {
	// Compliance: the certificate is an EU qualified certificate
	// (QcCompliance, §4.2.1; no statementInfo).
	Compliance bool
	// SSCD: the private key resides in a qualified signature creation
	// device (QcSSCD, §4.2.2; no statementInfo).
	SSCD bool
	// RetentionYears: how many years after expiry the CA keeps the
	// registration information (QcRetentionPeriod, §4.3.3; INTEGER).
	RetentionYears int
	// Types: the kinds of qualified certificate, e.g. [OIDQcTypeESign]
	// (QcType, §4.2.3; SEQUENCE OF OBJECT IDENTIFIER).
	Types []asn1.ObjectIdentifier
	// PDS: where the PKI Disclosure Statements are (QcPDS, §4.3.4; SEQUENCE
	// OF PdsLocation).
	PDS []PDSLocation
	// Semantics: the semantics identifier of the subject's serialNumber,
	// e.g. [OIDSemanticsNatural] (pkixQCSyntax-v2, RFC 3739 §3.2.6.1,
	// ETSI EN 319 412-1 §5.1; SemanticsInformation with only
	// semanticsIdentifier).
	Semantics asn1.ObjectIdentifier
}

type qcStatement struct {
	ID   asn1.ObjectIdentifier
	Info asn1.RawValue `asn1:"optional"`
}

type semanticsInformation struct {
	Identifier asn1.ObjectIdentifier `asn1:"optional"`
}

// Marshal returns the DER value of the extension.
func (q QCStatements) Marshal() ([]byte, error) {
	var list []qcStatement
	add := func(id asn1.ObjectIdentifier, info any) error {
		st := qcStatement{ID: id}
		if info != nil {
			b, err := asn1.Marshal(info)
			if err != nil {
				return err
			}
			st.Info = asn1.RawValue{FullBytes: b}
		}
		list = append(list, st)
		return nil
	}
	// Statements without info, or with an int, cannot fail to encode.
	if q.Compliance {
		_ = add(OIDQcCompliance, nil)
	}
	if q.SSCD {
		_ = add(OIDQcSSCD, nil)
	}
	if q.RetentionYears > 0 {
		_ = add(OIDQcRetentionPeriod, q.RetentionYears)
	}
	if len(q.Types) > 0 {
		if err := add(OIDQcType, q.Types); err != nil {
			return nil, fmt.Errorf("ca: encoding QcType: %w", err)
		}
	}
	if len(q.PDS) > 0 {
		if err := add(OIDQcPDS, q.PDS); err != nil {
			return nil, fmt.Errorf("ca: encoding QcPDS: %w", err)
		}
	}
	if len(q.Semantics) > 0 {
		if err := add(OIDPKIXQCSyntaxV2, semanticsInformation{Identifier: q.Semantics}); err != nil {
			return nil, fmt.Errorf("ca: encoding semantics identifier: %w", err)
		}
	}
	if len(list) == 0 {
		return nil, errors.New("ca: qcStatements: no statement")
	}
	return asn1.Marshal(list)
}

// Extension returns the non-critical qcStatements extension (ETSI EN 319
// 412-5 §4.1: it shall not be critical).
func (q QCStatements) Extension() (pkix.Extension, error) {
	v, err := q.Marshal()
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: OIDQCStatements, Value: v}, nil
}

// ParseQCStatements decodes the value of a qcStatements extension.
// Statements it does not know are ignored; a statement that appears twice or
// is malformed is an error.
func ParseQCStatements(der []byte) (QCStatements, error) {
	var q QCStatements
	var list []qcStatement
	rest, err := asn1.Unmarshal(der, &list)
	if err != nil {
		return q, fmt.Errorf("ca: parsing qcStatements: %w", err)
	}
	if len(rest) > 0 {
		return q, errors.New("ca: parsing qcStatements: trailing data")
	}
	seen := map[string]bool{}
	for _, st := range list {
		key := st.ID.String()
		if seen[key] {
			return QCStatements{}, fmt.Errorf("ca: parsing qcStatements: statement %s appears twice", key)
		}
		seen[key] = true
		info := st.Info.FullBytes
		var err error
		switch {
		case st.ID.Equal(OIDQcCompliance):
			q.Compliance = true
		case st.ID.Equal(OIDQcSSCD):
			q.SSCD = true
		case st.ID.Equal(OIDQcRetentionPeriod):
			err = unmarshalAll(info, &q.RetentionYears)
		case st.ID.Equal(OIDQcType):
			err = unmarshalAll(info, &q.Types)
		case st.ID.Equal(OIDQcPDS):
			err = unmarshalAll(info, &q.PDS)
		case st.ID.Equal(OIDPKIXQCSyntaxV2):
			var si semanticsInformation
			err = unmarshalAll(info, &si)
			q.Semantics = si.Identifier
		}
		if err != nil {
			return QCStatements{}, fmt.Errorf("ca: parsing qcStatement %s: %w", key, err)
		}
	}
	return q, nil
}

func unmarshalAll(der []byte, v any) error {
	if len(der) == 0 {
		return errors.New("missing statementInfo")
	}
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errors.New("trailing data")
	}
	return nil
}

// PolicyInformation is one entry of the certificatePolicies extension
// (RFC 5280 §4.2.1.4), with the two qualifiers RFC 5280 defines.
type PolicyInformation struct {
	// Policy is the policy OID.
	Policy asn1.ObjectIdentifier
	// CPS is the URI of the certification practice statement (id-qt-cps);
	// empty means none.
	CPS string
	// UserNotice is the explicitText of a user notice (id-qt-unotice),
	// encoded as UTF8String as RFC 5280 §4.2.1.4 recommends, at most 200
	// characters; empty means none.
	UserNotice string
}

type policyInformation struct {
	Policy     asn1.ObjectIdentifier
	Qualifiers []policyQualifierInfo `asn1:"optional,omitempty"`
}

type policyQualifierInfo struct {
	ID        asn1.ObjectIdentifier
	Qualifier asn1.RawValue
}

type userNotice struct {
	ExplicitText string `asn1:"utf8"`
}

// certificatePoliciesExtension encodes the non-critical certificatePolicies
// extension.
func certificatePoliciesExtension(policies []PolicyInformation) (pkix.Extension, error) {
	list := make([]policyInformation, 0, len(policies))
	for _, p := range policies {
		pi := policyInformation{Policy: p.Policy}
		if p.CPS != "" {
			b, err := asn1.MarshalWithParams(p.CPS, "ia5")
			if err != nil {
				return pkix.Extension{}, fmt.Errorf("ca: encoding CPS URI: %w", err)
			}
			pi.Qualifiers = append(pi.Qualifiers, policyQualifierInfo{ID: OIDPolicyQualifierCPS, Qualifier: asn1.RawValue{FullBytes: b}})
		}
		if p.UserNotice != "" {
			b, err := asn1.Marshal(userNotice{ExplicitText: p.UserNotice})
			if err != nil {
				return pkix.Extension{}, fmt.Errorf("ca: encoding user notice: %w", err)
			}
			pi.Qualifiers = append(pi.Qualifiers, policyQualifierInfo{ID: OIDPolicyQualifierUserNotice, Qualifier: asn1.RawValue{FullBytes: b}})
		}
		list = append(list, pi)
	}
	v, err := asn1.Marshal(list)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("ca: encoding certificatePolicies: %w", err)
	}
	return pkix.Extension{Id: OIDCertificatePolicies, Value: v}, nil
}

// ocspNoCheckExtension is id-pkix-ocsp-nocheck with a NULL value (RFC 6960
// §4.2.2.2.1).
func ocspNoCheckExtension() pkix.Extension {
	return pkix.Extension{Id: OIDOCSPNoCheck, Value: asn1NULL}
}
