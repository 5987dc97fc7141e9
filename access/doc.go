// Package access holds who may use registra and what they may do:
// organisations (client codes) with main and secondary units, operators and
// their roles, the permissions each role grants, passwords, TOTP multi-factor
// authentication and sessions. Its decisions are pure: no clock (every
// decision takes `now` as an argument) and no I/O but the one lookup of
// [Authenticator.Login], through the [Directory] interface the store
// satisfies; records go in and come out as values, and the store persists
// them.
//
// # Roles and permissions
//
// The five roles of the partner manual ("Login and Dashboard", DESIGN.md) each
// grant a set of permissions; [RolePermissions] is the one table. operator
// enters requests, uploads an Offline recognition made by a named IR or
// RAO ([PermUploadOfflineRecognition]; Manuale operatore, "Offline
// Recognition Product Request") and relays the applicant's steps of a Video
// ID or SPID recognition, which the provider makes
// ([PermRelayRemoteRecognition]); ir (registration officer) also recognises
// applicants by any method and records sealed evidence; rao
// also issues, suspends, reactivates, revokes and resends envelopes;
// master_rao also manages the organisation's operators and reads its audit
// trail; admin manages organisations, units, the catalogue, the CA and
// operators of every organisation.
//
// Permission names are shared with package lifecycle, whose transition table
// names the permission each action needs: the strings are identical (for
// example "product.revoke"), so the root converts one type to the other. The
// packages may not import each other; testdata/roles.golden pins this role
// table, lifecycle/testdata/permissions.golden pins lifecycle's vocabulary, and
// each package's tests read the other's file: access checks that every
// lifecycle permission but the scheduler's is granted by some role, lifecycle
// runs its (status, action, role) table against this role table.
//
// # Organisations
//
// An operator acts only within their own organisation ([Authorize]); only
// admins act across organisations, and only with the administrative
// permissions (organisations, units, catalogue, CA, operators). Master RAOs
// manage their organisation's operators and may not create admins
// ([AuthorizeOperatorChange]).
//
// # Authentication
//
// Passwords are hashed with Argon2id (RFC 9106) and stored as PHC strings
// ([HashPassword], [ParsePasswordHash]). Operators log in with a password and
// a TOTP code (RFC 6238, github.com/pquerna/otp): enrolment returns an otpauth
// URI for authenticator apps; verification accepts a window of time steps,
// refuses a code whose step was already used, and locks the account after
// repeated failures. [Authenticator.Authenticate] returns the operator record
// to persist whether the attempt succeeded or not. Sessions are opaque random
// tokens of which only a SHA-256 hash is kept. Every hash and verification
// an [Authenticator] makes goes through the config's [Gate], which bounds how
// many run at once (each holds its 64 MiB); a refusal of the gate changes
// nothing and counts as no failure.
//
// Secrets ([Password], [TOTPSecret], [Passcode], [SessionToken],
// [ProvisioningURI], [PasswordHash]) are named types that print and log as
// "[REDACTED]"; Reveal returns the value for the one place that needs it.
//
// # What the package does not do
//
// It does not store records, rate-limit by network address, send codes, or
// check passwords against breach lists; callers do.
package access
