package lifecycle

// Reason is an RFC 5280 §5.3.1 CRLReason code, as it goes into a CRL entry's
// reasonCode extension or an OCSP response. Its String is the ASN.1 name.
type Reason int

// CRLReason codes (RFC 5280 §5.3.1). Value 7 is not used.
const (
	ReasonUnspecified          Reason = 0
	ReasonKeyCompromise        Reason = 1
	ReasonCACompromise         Reason = 2
	ReasonAffiliationChanged   Reason = 3
	ReasonSuperseded           Reason = 4
	ReasonCessationOfOperation Reason = 5
	ReasonCertificateHold      Reason = 6
	ReasonRemoveFromCRL        Reason = 8
	ReasonPrivilegeWithdrawn   Reason = 9
	ReasonAACompromise         Reason = 10
)

var reasonNames = []string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonCACompromise:         "cACompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonRemoveFromCRL:        "removeFromCRL",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	ReasonAACompromise:         "aACompromise",
}

// String returns the RFC 5280 ASN.1 name, such as "keyCompromise".
func (r Reason) String() string { return wireName("Reason", reasonNames, int(r)) }

// Valid reports whether r is a code RFC 5280 defines.
func (r Reason) Valid() bool { return r >= 0 && int(r) < len(reasonNames) && reasonNames[r] != "" }

// OmitInCRL reports whether a CRL entry should carry no reasonCode extension
// for r: RFC 5280 §5.3.1 says the extension SHOULD be absent rather than
// carry unspecified (0).
func (r Reason) OmitInCRL() bool { return r == ReasonUnspecified }
