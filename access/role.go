package access

import (
	"fmt"
	"slices"
)

// Permission names something an operator may do. The workflow permissions
// are spelt exactly as package lifecycle's Permission constants (the root
// converts between the two types); the others are access's own.
type Permission string

// Workflow permissions, shared with lifecycle's transition table.
const (
	PermOrderCreate           Permission = "order.create"
	PermOrderUpdate           Permission = "order.update"
	PermOrderDelete           Permission = "order.delete"
	PermOrderSubmit           Permission = "order.submit"
	PermRecordRecognition     Permission = "order.record_recognition"
	PermProductIssue          Permission = "product.issue"
	PermProductSuspend        Permission = "product.suspend"
	PermProductReactivate     Permission = "product.reactivate"
	PermProductRevoke         Permission = "product.revoke"
	PermProductResendEnvelope Permission = "product.resend_envelope"
)

// Permissions of access's own.
const (
	// PermOrderRead reads and searches orders and products.
	PermOrderRead Permission = "order.read"
	// PermAuditRead reads the audit trail.
	PermAuditRead Permission = "audit.read"
	// PermOperatorManage creates, changes and disables operators.
	PermOperatorManage Permission = "operator.manage"
	// PermOrganisationManage creates and changes organisations.
	PermOrganisationManage Permission = "organisation.manage"
	// PermUnitManage creates and changes units.
	PermUnitManage Permission = "unit.manage"
	// PermCatalogueManage changes the product catalogue.
	PermCatalogueManage Permission = "catalogue.manage"
	// PermCAManage operates the certification authority (keys, CRLs).
	PermCAManage Permission = "ca.manage"
	// PermUploadOfflineRecognition records an Offline recognition by
	// uploading the artefacts (signed paper form, recognition report,
	// identity document images) when the uploader names the recognising
	// officer, an IR or RAO of their organisation (Manuale operatore,
	// "Offline Recognition Product Request": "Operator (no RAO): enters the
	// request, uploads the contract and the recognition report signed by the
	// RAO/IR (appropriately registered) also indicating personal
	// information"). It is narrower than [PermRecordRecognition], which
	// recognises by any method and records sealed bundles: the root's
	// Platform.Recognise accepts it for the Offline method only, and only
	// with the officer's details. lifecycle's table does not name it; the
	// root takes the record_recognition action on its behalf.
	PermUploadOfflineRecognition Permission = "order.upload_offline_recognition"
	// PermRelayRemoteRecognition takes the applicant's steps of a remote
	// recognition made by someone outside the platform: the video
	// provider's operator (Video ID) or the SPID identity provider. The
	// operator starts the applicant's form signature and the SPID login and
	// relays the provider's session record; the recognition is the
	// provider's, and the evidence says so (Manuale operatore, "Video ID
	// Identification Process": "After the operator, IR or RAO enters the
	// holder's data, the holder receives an e-mail ... to perform the
	// recognition with a video operator"). Like
	// [PermUploadOfflineRecognition] it is narrower than
	// [PermRecordRecognition]: the root accepts it for Video ID and SPID
	// only; lifecycle's table does not name it.
	PermRelayRemoteRecognition Permission = "order.relay_remote_recognition"
)

// Role is an operator profile (Manuale operatore, "Introduction": users "may
// have different entitlements and permissions"). Wire names are stable.
type Role uint8

// Roles, each granting more than the one before, except admin.
const (
	roleInvalid Role = iota
	// RoleOperator enters, edits, submits and deletes requests, and uploads
	// an Offline recognition made by a named IR or RAO.
	RoleOperator
	// RoleIR, the registration officer, also recognises applicants.
	RoleIR
	// RoleRAO also issues, suspends, reactivates, revokes and resends
	// envelopes.
	RoleRAO
	// RoleMasterRAO also manages the organisation's operators and reads
	// its audit trail.
	RoleMasterRAO
	// RoleAdmin manages organisations, units, the catalogue, the CA and
	// operators, across organisations; it takes no part in the workflow.
	RoleAdmin
)

var roleNames = []string{"", "operator", "ir", "rao", "master_rao", "admin"}

// Roles returns every role.
func Roles() []Role {
	return []Role{RoleOperator, RoleIR, RoleRAO, RoleMasterRAO, RoleAdmin}
}

// String returns the role's wire name, such as "master_rao".
func (r Role) String() string {
	if r.Valid() {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", r)
}

// Valid reports whether r is a declared role.
func (r Role) Valid() bool { return r > roleInvalid && int(r) < len(roleNames) }

// ParseRole returns the role whose wire name is s.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if n != "" && n == s {
			return Role(i), nil
		}
	}
	return roleInvalid, &FieldError{Field: "role", Rule: fmt.Sprintf("unknown value %q", s)}
}

// MarshalText returns the wire name; unknown roles are refused.
func (r Role) MarshalText() ([]byte, error) {
	if !r.Valid() {
		return nil, &FieldError{Field: "role", Rule: "unknown value " + r.String()}
	}
	return []byte(r.String()), nil
}

// UnmarshalText parses a wire name.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// RolePermissions returns the permissions role grants, sorted; nil for an
// unknown role. Each call returns a fresh slice. See [grants] for the table.
func RolePermissions(role Role) []Permission {
	out := slices.Clone(grants(role))
	slices.Sort(out)
	return out
}

// grants is the one role table (issue #5; DESIGN.md "Operators log in ..."),
// each role written out in full so that it reads as the matrix it is:
//
//	operator    order.read order.create order.update order.delete order.submit order.upload_offline_recognition
//	            order.relay_remote_recognition
//	ir          operator's + order.record_recognition
//	rao         ir's + product.issue product.suspend product.reactivate product.revoke product.resend_envelope
//	master_rao  rao's + operator.manage audit.read
//	admin       organisation.manage unit.manage catalogue.manage ca.manage operator.manage audit.read
//
// The caller must not modify the result.
func grants(role Role) []Permission {
	switch role {
	case RoleOperator:
		return []Permission{PermOrderRead, PermOrderCreate, PermOrderUpdate, PermOrderDelete, PermOrderSubmit,
			PermUploadOfflineRecognition, PermRelayRemoteRecognition}
	case RoleIR:
		return []Permission{PermOrderRead, PermOrderCreate, PermOrderUpdate, PermOrderDelete, PermOrderSubmit,
			PermUploadOfflineRecognition, PermRelayRemoteRecognition, PermRecordRecognition}
	case RoleRAO:
		return []Permission{PermOrderRead, PermOrderCreate, PermOrderUpdate, PermOrderDelete, PermOrderSubmit,
			PermUploadOfflineRecognition, PermRelayRemoteRecognition, PermRecordRecognition,
			PermProductIssue, PermProductSuspend, PermProductReactivate, PermProductRevoke, PermProductResendEnvelope}
	case RoleMasterRAO:
		return []Permission{PermOrderRead, PermOrderCreate, PermOrderUpdate, PermOrderDelete, PermOrderSubmit,
			PermUploadOfflineRecognition, PermRelayRemoteRecognition, PermRecordRecognition,
			PermProductIssue, PermProductSuspend, PermProductReactivate, PermProductRevoke, PermProductResendEnvelope,
			PermOperatorManage, PermAuditRead}
	case RoleAdmin:
		return []Permission{PermOrganisationManage, PermUnitManage, PermCatalogueManage, PermCAManage,
			PermOperatorManage, PermAuditRead}
	}
	return nil
}

// Permissions returns the whole vocabulary: every permission some role
// grants, sorted.
func Permissions() []Permission {
	var out []Permission
	for _, r := range Roles() {
		out = append(out, RolePermissions(r)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// acrossOrganisations reports whether an admin may use p on another
// organisation's resources: the administrative permissions only, so that no
// one outside an organisation reads its orders or audit trail.
func acrossOrganisations(p Permission) bool {
	switch p {
	case PermOrganisationManage, PermUnitManage, PermCatalogueManage, PermCAManage, PermOperatorManage:
		return true
	}
	return false
}

// Grants reports whether any of roles grants p.
func Grants(roles []Role, p Permission) bool {
	for _, r := range roles {
		if slices.Contains(grants(r), p) {
			return true
		}
	}
	return false
}

// PermissionsOf returns the union of what roles grant, sorted: the Grants of
// the root's lifecycle actor.
func PermissionsOf(roles []Role) []Permission {
	var out []Permission
	for _, r := range roles {
		out = append(out, RolePermissions(r)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
