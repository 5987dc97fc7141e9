package lifecycle

import "time"

// Requester is who asked for a revocation (Manuale operatore, "Product
// Revocation": "Revocation type (requester): Owner, certifier, interested
// third party"). The zero value is unset.
type Requester uint8

// Requesters.
const (
	requesterUnset Requester = iota
	// RequesterOwner is the certificate's holder.
	RequesterOwner
	// RequesterCertifier is the certification authority, acting ex officio.
	RequesterCertifier
	// RequesterThirdParty is an interested third party, such as the
	// organisation that authorised a role.
	RequesterThirdParty
)

var requesterNames = []string{"", "owner", "certifier", "third_party"}

// Requesters returns every requester.
func Requesters() []Requester {
	return []Requester{RequesterOwner, RequesterCertifier, RequesterThirdParty}
}

// String returns the wire name, such as "third_party".
func (r Requester) String() string { return wireName("Requester", requesterNames, int(r)) }

// ParseRequester returns the requester whose wire name is s.
func ParseRequester(s string) (Requester, error) {
	i, err := parseWire("requester", requesterNames, s)
	return Requester(i), err
}

// Motivation is the revocation reason the manual offers ("Motivation:
// Contract withdrawal, key compromised, role or function revoked, device
// unusable, certified data change, office procedure"). [Motivation.Reason]
// maps it to the RFC 5280 code. The zero value is unset.
type Motivation uint8

// Motivations, in the manual's order.
const (
	motivationUnset Motivation = iota
	// MotivationContractWithdrawal: the holder withdraws from the contract
	// (the contract must be attached).
	MotivationContractWithdrawal
	// MotivationKeyCompromise: the private key or the device's PIN is
	// known to someone else.
	MotivationKeyCompromise
	// MotivationRoleRevoked: the role or function the certificate states
	// was withdrawn.
	MotivationRoleRevoked
	// MotivationDeviceUnusable: the device holding the key is lost, broken
	// or blocked.
	MotivationDeviceUnusable
	// MotivationCertifiedDataChange: data the certificate states changed.
	MotivationCertifiedDataChange
	// MotivationOfficeProcedure: the certifier revokes by its own procedure
	// (an authority's order, an issuance error, the end of a suspension
	// under [HoldEndRevoke]).
	MotivationOfficeProcedure
)

var motivationNames = []string{"", "contract_withdrawal", "key_compromise", "role_revoked",
	"device_unusable", "certified_data_change", "office_procedure"}

// Motivations returns every motivation in the manual's order.
func Motivations() []Motivation {
	return []Motivation{MotivationContractWithdrawal, MotivationKeyCompromise, MotivationRoleRevoked,
		MotivationDeviceUnusable, MotivationCertifiedDataChange, MotivationOfficeProcedure}
}

// String returns the wire name, such as "key_compromise".
func (m Motivation) String() string { return wireName("Motivation", motivationNames, int(m)) }

// ParseMotivation returns the motivation whose wire name is s.
func ParseMotivation(s string) (Motivation, error) {
	i, err := parseWire("motivation", motivationNames, s)
	return Motivation(i), err
}

// Reason returns the RFC 5280 §5.3.1 code that goes on the CRL for m. This is
// the one mapping table (DESIGN.md "X.509 mapping"); where DESIGN.md allows
// two codes, the choice and its reason are given:
//
//	motivation             code  name                  why
//	contract_withdrawal     5    cessationOfOperation  the holder stops using the service; the key is not suspect
//	key_compromise          1    keyCompromise         RFC 5280 §5.3.1; relying parties must distrust past signatures
//	role_revoked            9    privilegeWithdrawn    the role (a privilege the certificate asserts) was withdrawn; the holder's identity is unchanged
//	device_unusable         4    superseded            the holder gets a new certificate on a new device; the old key is not suspect
//	certified_data_change   3    affiliationChanged    the subject's name or other certified information changed
//	office_procedure        0    unspecified           no finer reason applies; the CRL entry then carries no reasonCode (RFC 5280 §5.3.1)
//
// Suspension is certificateHold (6) and reactivation removeFromCRL (8) in a
// delta CRL; neither is a motivation.
func (m Motivation) Reason() Reason {
	switch m {
	case MotivationContractWithdrawal:
		return ReasonCessationOfOperation
	case MotivationKeyCompromise:
		return ReasonKeyCompromise
	case MotivationRoleRevoked:
		return ReasonPrivilegeWithdrawn
	case MotivationDeviceUnusable:
		return ReasonSuperseded
	case MotivationCertifiedDataChange:
		return ReasonAffiliationChanged
	default:
		return ReasonUnspecified
	}
}

// Publication is how fast a status change must reach the CRL (Manuale
// operatore, "Product Revocation": "Normal: the Certifying Body has a
// commitment to publish the updated revocation list within the next 24
// hours, Immediate must occur within 1 hour"). The zero value means "the
// default": for revocations the [Matrix] decides, otherwise normal.
type Publication uint8

// Publication modes.
const (
	// PublicationDefault asks for the default mode.
	PublicationDefault Publication = iota
	// PublicationNormal: within [Config.NormalPublication] (24 h).
	PublicationNormal
	// PublicationImmediate: within [Config.ImmediatePublication] (1 h).
	PublicationImmediate
)

var publicationNames = []string{"default", "normal", "immediate"}

// String returns the wire name, such as "immediate".
func (p Publication) String() string { return wireName("Publication", publicationNames, int(p)) }

// ParsePublication returns the mode whose wire name is s.
func ParsePublication(s string) (Publication, error) {
	i, err := parseWire("publication", publicationNames, s)
	return Publication(i), err
}

// MatrixRule is one cell of the requester × motivation matrix.
type MatrixRule struct {
	// Allowed reports whether the requester may give the motivation.
	Allowed bool
	// Default is the publication mode used when the request asks for
	// [PublicationDefault].
	Default Publication
	// Forced reports that no other mode than Default may be asked for.
	Forced bool
}

// Matrix returns the rule for a revocation requested by req with
// motivation m. The matrix (issue #5; ETSI EN 319 411-1 REV-6.2.4 on who may
// request revocation):
//
//	                       owner       certifier   third_party
//	contract_withdrawal    normal      normal      -
//	key_compromise         immediate!  immediate!  immediate!
//	role_revoked           normal      normal      immediate
//	device_unusable        normal      -           -
//	certified_data_change  normal      normal      normal
//	office_procedure       -           normal      -
//
// "-" is refused; "!" means the mode is forced (a key compromise is always
// published immediately, since every hour on the CRL's old version lets a
// forged signature pass). Only the holder knows their device is unusable;
// only the certifier applies its office procedures; a third party is not a
// party to the holder's contract. A third party withdrawing a role is
// published immediately by default because signatures in the organisation's
// name must stop at once.
func Matrix(req Requester, m Motivation) MatrixRule {
	normal := MatrixRule{Allowed: true, Default: PublicationNormal}
	switch m {
	case MotivationKeyCompromise:
		if req == RequesterOwner || req == RequesterCertifier || req == RequesterThirdParty {
			return MatrixRule{Allowed: true, Default: PublicationImmediate, Forced: true}
		}
	case MotivationContractWithdrawal:
		if req == RequesterOwner || req == RequesterCertifier {
			return normal
		}
	case MotivationRoleRevoked:
		switch req {
		case RequesterOwner, RequesterCertifier:
			return normal
		case RequesterThirdParty:
			return MatrixRule{Allowed: true, Default: PublicationImmediate}
		}
	case MotivationDeviceUnusable:
		if req == RequesterOwner {
			return normal
		}
	case MotivationCertifiedDataChange:
		if req == RequesterOwner || req == RequesterCertifier || req == RequesterThirdParty {
			return normal
		}
	case MotivationOfficeProcedure:
		if req == RequesterCertifier {
			return normal
		}
	}
	return MatrixRule{}
}

// RevokeRequest is the input of [ActionRevoke].
type RevokeRequest struct {
	// Requester is who asked for the revocation. Required; a holder may
	// only be [RequesterOwner].
	Requester Requester
	// Motivation is the manual's reason. Required; [Matrix] must allow it
	// for Requester.
	Motivation Motivation
	// Notes are free text for the record. Optional, at most
	// [Config.MaxNotes] bytes of UTF-8 without control characters other
	// than newline and tab.
	Notes string
	// Contract references the uploaded contract being withdrawn (for
	// example the blob's SHA-256). Required for
	// [MotivationContractWithdrawal], optional otherwise.
	Contract string
}

// Revocation records a revocation in a [State].
type Revocation struct {
	// Requester, Motivation, Notes and Contract are as requested.
	Requester  Requester
	Motivation Motivation
	Notes      string
	Contract   string
	// Reason is the RFC 5280 code ([Motivation.Reason]).
	Reason Reason
	// RequestedAt is when the revocation was recorded.
	RequestedAt time.Time
	// RevocationTime is the time that goes on the CRL: the start of the
	// suspension for a suspended certificate (unless
	// [Config.DateRevocationAtRequest]), RequestedAt otherwise.
	RevocationTime time.Time
	// Publication is the mode applied.
	Publication Publication
	// By is the ID of the actor who recorded it.
	By string
}
