// Package registra is an embeddable PKI and registration authority for
// platforms that issue qualified electronic-signature certificates through
// partner operators and let holders manage them.
//
// The building blocks are independent packages, each with one job:
//
//   - [github.com/registra-pki/registra/ca]: the CA hierarchy, certificate
//     profiles, pre-issuance linting and signing through a key manager.
//   - lifecycle: statuses, transitions, permissions and SLA deadlines.
//   - crl: CRLs, their publication schedule and OCSP.
//   - envelope: activation codes and passphrase envelopes.
//   - recognition: the identification methods and sealed evidence.
//   - access: organisations, operators, roles and multi-factor login.
//   - store: durable state in indexed in-memory tables replicated by Raft.
//
// This root package wires them into a [Platform]; adapters (HTTP, CLI, mail,
// HSM) translate between one outside world and the library, each operation
// being one Platform method.
//
// # Opening a platform
//
// [Open] opens a data directory: the store (a single Raft node by default),
// the CA hierarchy (software keys unless [Config.KeyManager] names an HSM),
// and the vault's key-encryption key; operators' credentials (secrets
// sealed under that key), unit trees and sessions are in the store, so they
// are replicated and survive a restart. A fresh
// directory is empty: [Platform.Bootstrap] creates the first organisation and
// its admin and returns the admin's TOTP enrolment. Operators log in with a
// password and a TOTP code ([Platform.Login]); [Platform.Authenticate] turns
// the session token into the [Actor] every workflow method takes (a
// session's last use is written at most once a minute, so it ends idle up
// to a minute early).
//
// Passwords and the verifiable activation codes are kept as Argon2id hashes,
// 64 MiB each at the default cost. No more of them run at once than
// [Config.SlowHashes] (the number of CPUs by default), so that a flood of
// logins cannot exhaust the machine's memory; the others wait in order. A
// password hash that would wait behind [HashQueuePerSlot] other password
// hashes per slot is refused with [ErrBusy] without changing anything (no
// failed login counts, no audit event); the hashes of an issuance always
// wait their turn. 64
// logins at once peak at about 0.3 GiB of memory instead of 4 GiB
// (BENCHMARKS.md).
//
// # The workflow
//
// A request goes draft → to_identify → to_issue → active, then active ⇄
// suspended → revoked, or expired (Manuale operatore, "Product
// Management"):
//
//	CreateDraft, UpdateDraft, DeleteOrder   the request (operator)
//	Submit                                  draft → to_identify
//	RecordRecognition                       to_identify → to_issue (IR, RAO), from a sealed evidence bundle
//	Recognise                               the same, from uploaded artefacts (Offline, Sign ID): verified,
//	                                        then sealed with the platform's evidence key (ca.EvidenceSeal)
//	Issue                                   to_issue → active (RAO): two-phase issuance, codes, envelope
//	Suspend, Reactivate, Revoke             active ⇄ suspended → revoked (RAO)
//	ResendEnvelope                          the same codes under a new passphrase (RAO)
//	Search, List, GetOrder, GetProduct      reading, in the operator's organisation
//
// Every method authorises twice, in this order: through package access (the
// permission of the action's row in lifecycle's table, in the operator's
// organisation) and through lifecycle's [lifecycle.Machine] (the action must
// apply to the current status). An object of another organisation does not
// exist for the operator ([ErrNotFound], never [ErrPermission]); admins manage
// organisations, units and operators everywhere but never reach orders. Input
// is validated before anything is written: the applicant's tax code
// (checksum, omocodia, consistency with names, birth date, sex and place),
// e-mail and mobile formats and uniqueness among holder identities (a used
// e-mail gets an alias proposal), document dates, the privacy consent, and
// the product options the catalogue allows for the recognition method
// ([DefaultCatalogue]).
//
// # Audit and time
//
// Every action appends an audit event (who, organisation, what, when, object,
// status before and after, the SHA-256 of the inputs, never a secret) in the
// same store batch as the change; a refused authorisation is audited as a
// refusal and changes nothing else; other refusals change nothing at all.
// [Platform.Run] (or one pass, [Platform.RunDue]) releases holds at their end
// date, expires products after notAfter (reading the store's schedule
// indexes, not scanning), deletes expired sessions and seals the audit trail
// into its SHA-256 chain, under a store lease so that one node of a cluster
// does it;
// [Platform.VerifyAudit] names the first altered, removed or reordered
// event. Every change of revocation status is stored pending publication
// with its SLA deadline (normal 24 h, immediate 1 h) for the CRL publisher.
//
// # Errors
//
// Methods return errors wrapping one of [ErrNotFound], [ErrPermission],
// [ErrTransition], [ErrInvalidInput] (often a [*FieldError] naming the field),
// [ErrConflict] and [ErrUnauthenticated]; the building blocks' own errors stay
// in the chain ([*Error]). Adapters map the sentinels with errors.Is.
//
// # Publication
//
// Every change of revocation status is committed with its SLA deadline and
// an audit event naming it; the CRL scheduler of package crl reads that
// change log, publishes full and delta CRLs before the deadlines (inside
// [Platform.Run], or one pass with [Platform.PublishCRLs]), records each
// change's publication in the store, and serves the CRLs through
// [Platform.CRLHandler]; [Platform.OCSPHandler] answers OCSP from the live
// status in the store, a suspension being revoked/certificateHold at once.
//
// # What it does not do yet
//
// The CRL reconciliation scans each organisation's suspended and revoked
// orders (the store has no index by change sequence yet). One-shot certificates for the OTP form
// signature of recognition are not issued through the platform: the store
// has no record for a certificate outside a product.
package registra
