// Package crl publishes revocation status: full and delta CRLs (RFC 5280),
// a scheduler that keeps the publication promises of the operator manual
// (normal changes on a CRL within 24 hours, immediate ones within one hour),
// publication sinks, receipts proving when each change was published, a
// status-at-a-time view, and an OCSP responder (RFC 6960).
//
// # CRLs
//
// [Build] is a streaming DER encoder built on golang.org/x/crypto/cryptobyte:
// it reads entries in ascending serial order from an iterator and never holds
// them as Go values, so a million-entry CRL costs tens of megabytes instead
// of the gigabyte x509.CreateRevocationList needs. Suspension is listed as
// certificateHold; reactivation removes the entry from the next full CRL and
// lists it as removeFromCRL in the delta CRL (RFC 5280 §5.3.1, §5.2.4);
// revoked entries stay after the certificate expires and every CRL carries
// the ExpiredCertsOnCRL extension (ITU-T X.509 §9.6.2.9) saying so.
//
// # Safety before publishing
//
// The [Scheduler] refuses to publish a CRL that drops a revoked or held
// serial (the entries are reconciled with an independent read of the status
// records while they stream), verifies the signature after signing, checks
// that the CRL number is greater than the last one published, and lints the
// result with zlint's RFC 5280 and community revocation-list lints. CRL
// numbers come from a durable per-scope counter reserved before signing
// (RFC 5280 §5.2.3): complete and delta CRLs share one sequence.
//
// # Deadlines and receipts
//
// Every pending status change carries the deadline of its publication mode.
// Immediate changes are coalesced for a short window (5 seconds by default)
// and published on a delta CRL; normal ones ride along with the next
// publication and at the latest one margin before their deadline; a cadence
// reissues full and delta CRLs before their nextUpdate. After a restart the
// pending changes are read back from the [Source] and published at once when
// overdue. Each change gets a [Receipt] (requested-at, mode, deadline,
// published-at, first CRL number) and [SLA] summarises them per mode.
// [Scheduler.Collector] exposes the same figures as Prometheus metrics; the
// HTTP adapter registers it.
//
// # Sinks and OCSP
//
// [HTTPSink] serves the current full and delta CRL; [DirSink] writes them to
// a directory atomically; [Publisher] is the interface for further sinks.
// [Responder] answers OCSP requests from the live status: a suspended
// certificate is revoked with reason certificateHold at once, and good again
// after reactivation. It encodes BasicOCSPResponse itself so that the nonce
// sits in responseExtensions (RFC 6960 §4.4.1), where OpenSSL looks for it.
//
// # Wiring
//
// The root package satisfies [Source] and [Journal] from the store
// (STORE.md: CRL entries streamed in serial order, CRL numbers reserved
// durably per scope before signing, receipts), [StatusSource] from the
// live status records, and [Signer] from the issuing CA and its delegated
// OCSP responder ([KeySigner] wraps a certificate and a crypto.Signer). It
// calls [Scheduler.Notify] after committing a status change and runs
// [Scheduler.Run] under the scope's singleton lease. [Timeline] needs the
// published CRLs and the change log, which the store keeps.
//
// # What this package does not do
//
// It does not decide statuses, reasons or deadlines (package lifecycle does),
// nor store anything (the store satisfies [Source] and [Journal]); it
// imports no other registra package.
package crl
