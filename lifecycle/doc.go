// Package lifecycle holds the statuses of registra's orders and products, the
// actions that move them, the permission each action needs, and the rules for
// suspension, revocation, expiry and publication deadlines. It is pure: no I/O,
// no clock (every decision takes `now` as an argument), no package-level mutable
// state.
//
// # Statuses and the transition table
//
// A request moves through consecutive statuses (Manuale operatore, "Product
// Management": "until a step has been completed, it is not possible to move to
// the next one"):
//
//	none → draft → to_identify → to_issue → active ⇄ suspended
//	                                          active, suspended → revoked
//	                                          active, suspended → expired
//	draft, to_identify, to_issue → deleted
//
// [Table] is the one place that names, for every [Action], the statuses it
// applies to, the resulting status and the [Permission] it needs. The HTTP API,
// the CLI and the documentation read it; [Machine] is built from it. In v1 an
// order carries one product and its status is the product's status.
//
// # Who may act
//
// [Machine.Apply] checks, in this order: that the action, the current state
// and the actor are well formed ([ErrInvalidInput]); that the actor holds the action's permission
// ([ErrPermission]); that the action applies to the current status
// ([ErrTransition]); then the action's input ([ErrInvalidInput]). A refused
// action returns a zero [Transition] and changes nothing.
//
// Operators act through the permissions their roles grant. The role table
// lives in package access (roles are an access concept); the permission names
// are the shared vocabulary: access spells them as the same strings as
// [Permission]'s constants. Neither package imports the other, so each pins its
// side in a golden file (lifecycle/testdata/permissions.golden,
// access/testdata/roles.golden) and each package's tests read the other's file.
// Holders (the self-service portal guide) may suspend and revoke their own
// certificate, as requester "owner" only. The platform's scheduler, acting as
// [ActorSystem], alone ends suspensions and expires certificates.
//
// # Suspension, revocation and publication
//
// Suspension puts the certificate on hold (RFC 5280 reason certificateHold)
// until an end date in the future and not after the certificate's notAfter.
// When the end date comes, [Config.HoldEnd] decides: release (the default, as
// the manual says) or revoke. Revocation is permanent: eIDAS forbids
// reinstating a revoked qualified certificate. It names a [Requester], a
// manual [Motivation] (mapped to an RFC 5280 [Reason] in one table, see
// [Motivation.Reason]), a [Publication] mode, notes, and the withdrawn contract
// when the motivation is contract withdrawal. Revoking a suspended certificate
// dates the revocation back to the start of the suspension (the Italian rule;
// [Config.DateRevocationAtRequest] turns it off).
//
// Every transition that changes what a CRL or OCSP responder must say yields a
// [PendingChange] carrying its SLA deadline: normal publication within 24 hours,
// immediate within 1 hour (both configurable). [Machine.NextEvent] and
// [Machine.Due] tell a scheduler which automatic action (hold end, expiry) is
// due and when.
//
// # What the package does not do
//
// It does not decide organisation scoping (package access does), store
// anything, publish CRLs (package crl), or read the clock.
package lifecycle
