package lifecycle

import (
	"slices"
)

// Permission names what an actor must be allowed to do to take an action. The
// names are the vocabulary shared with package access, whose role table grants
// them as plain strings spelt identically; testdata/permissions.golden pins the
// list so both sides notice a change.
type Permission string

// Permissions named by [Table].
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
	// PermSchedule is held only by [ActorSystem], the platform's scheduler;
	// no role grants it, and an operator listing it in Grants is ignored.
	PermSchedule Permission = "lifecycle.schedule"
)

// Permissions returns every permission named by [Table], sorted, without
// duplicates.
func Permissions() []Permission {
	var out []Permission
	for _, r := range Table() {
		out = append(out, r.Permission)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ActorKind says who is acting.
type ActorKind uint8

// Actor kinds. The zero value is not a kind: an [Actor] must say who it is.
const (
	actorInvalid ActorKind = iota
	// ActorOperator is an operator of a partner organisation, acting
	// through the permissions of their roles.
	ActorOperator
	// ActorHolder is the certificate's holder in the self-service portal,
	// acting on their own product (the root checks ownership).
	ActorHolder
	// ActorSystem is the platform's scheduler (hold end, expiry).
	ActorSystem
)

var actorKindNames = []string{"", "operator", "holder", "system"}

// String returns the kind's wire name.
func (k ActorKind) String() string { return wireName("ActorKind", actorKindNames, int(k)) }

// Actor is who takes an action. The root builds it from the authenticated
// operator (Grants are the permissions of their roles, from package access),
// from the holder's session, or as [System] for scheduled actions.
type Actor struct {
	// Kind says whether an operator, a holder or the system acts.
	Kind ActorKind
	// ID identifies the actor in audit records and in [Suspension.By] and
	// [Revocation.By]. Required.
	ID string
	// Grants are the permissions an operator's roles grant. Ignored for
	// holders and the system, whose rights are fixed by [Table].
	Grants []Permission
}

// System returns the scheduler's actor.
func System() Actor { return Actor{Kind: ActorSystem, ID: "system"} }

// may reports whether a may take an action described by r.
func (a Actor) may(r Row) bool {
	switch a.Kind {
	case ActorSystem:
		return r.Permission == PermSchedule
	case ActorHolder:
		return r.Holder
	case ActorOperator:
		return r.Permission != PermSchedule && slices.Contains(a.Grants, r.Permission)
	default:
		return false
	}
}
