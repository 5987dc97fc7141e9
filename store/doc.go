// Package store keeps registra's durable state: organisations with their
// unit trees, operators with their sealed credentials and sessions, holder
// identities, orders, products, status changes with their SLA
// deadlines, CRL entries and numbers, publication receipts, evidence and
// envelope references, the applicants' recognition steps in progress,
// issuance intents, leases and the hash-chained audit trail.
//
// # Shape
//
// The platform talks to the state through one interface, [Store] (see
// STORE.md): a write is a [Batch] of typed commands (one Go type per write,
// each with a stable [MessageType] byte, as Nomad's FSM does) with
// preconditions (ExpectVersion, the expected status of a [ChangeStatus],
// lease fencing) and an optional idempotency key, applied atomically; reads
// go through a consistent [Snapshot]. The conformance suite in
// store/storetest is written against the interface, so that a second
// backend (PostgreSQL) is an addition, not a rewrite.
//
// # The embedded backend
//
// [Open] returns a [Node]: in-memory tables with an index for every search
// filter of the partner manual (go-memdb's model — one writer, lock-free
// consistent read transactions — kept in copy-on-write B+trees whose
// entries cost 16 bytes, see db.go and BENCHMARKS.md), made durable by
// hashicorp/raft with
// raft-wal as its log, single node by default and a cluster when peers are
// given. A write returns only after its entry is committed (on a quorum)
// and applied. Raft snapshots hold the whole state and let the log be
// compacted. Blobs (documents, signed forms, certificates, envelopes) live
// beside the log, named by SHA-256, and are verified on every read. Large
// ones are made durable by [BlobStore.Put] before the batch that refers to
// them; small ones may instead travel in that batch ([PutBlobs]), in its
// log entry: every node writes them as it applies the entry, and a
// snapshot makes them durable before the log behind it is compacted, so a
// write costs one fsync (the log's) instead of two.
//
// # Rules
//
//   - Hot state is narrow: suspend, reactivate and revoke rewrite the
//     [StatusRecord] (three index entries), never the order or product.
//   - The time-driven transitions have their own narrow [Schedule] record
//     (suspension end, notAfter), kept by the store in step with the status
//     and the product, so the scheduler reads what is due
//     ([Snapshot.HoldsEnding], [Snapshot.Expiring]) instead of scanning.
//   - Secrets never reach the store in clear: [Credentials.Sealed] is sealed
//     by the caller; a [Session] is kept under the SHA-256 of its token.
//   - Only suspended and revoked certificates have a [CRLEntry]; the store
//     keeps them in step with the status, so a CRL build is one ordered
//     range scan ([Snapshot.CRLEntries]).
//   - CRL numbers are reserved before signing and the served pointer only
//     moves up.
//   - Same input, same answer: invalid UTF-8, NUL bytes and over-long values
//     are refused with a [*FieldError] wrapping [ErrInvalidInput], before
//     anything is proposed; times come back in UTC, truncated to
//     microseconds.
//   - Nothing slow or external happens inside a write.
//   - The audit trail has no global hot row: events are appended in the
//     business batch ([AppendAudit]) and sealed into the SHA-256 chain
//     later ([SealAudit]). The node proposing a seal computes the range and
//     the chain hashes from its committed state and puts them in the
//     command, so the log holds the chain as it was sealed: an event edited
//     in the log (or in a snapshot) is named by [Snapshot.VerifyAudit] as an
//     [*AuditChainError], since replaying it no longer matches the recorded
//     hash (the first such event is kept in the state as well).
//
// Idempotency keys are kept for [IdempotencyWindow] at least; batches that
// carry a key drop a few expired ones as they commit.
//
// The store does not decide transitions (package lifecycle does), does not
// replicate the blobs of [BlobStore.Put] between cluster nodes (each node's
// blob directory must be filled by the caller or shared; those of
// [PutBlobs] reach every node that applies their entry, though not one
// brought up to date by a snapshot), and does not forward writes from a
// follower to the leader: a follower answers [ErrNotLeader].
package store
