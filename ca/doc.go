// Package ca builds, lints and signs certificates from named profiles, with
// keys held by a key manager.
//
// # Hierarchy
//
// [OpenHierarchy] creates, or reopens, a CA hierarchy in a data directory:
// a root CA, an issuing CA (pathLenConstraint 0) that signs holder
// certificates and CRLs, and a delegated OCSP signer issued by the issuing
// CA. Keys come from a go.step.sm/crypto/kms/apiv1.KeyManager given in
// [HierarchyConfig]:
//
//   - nil: software keys (softkms), ECDSA P-256/P-384 or RSA-3072/4096,
//     written by this package as PKCS #8 PEM files, mode 0600, under
//     Dir/keys (optionally PBES2-encrypted with KeyPassword), because
//     softkms's CreateKey keeps nothing;
//   - a key manager that keeps its keys (adapters/hsm over PKCS #11):
//     CreateKey is called with [KeyNames] (e.g. pkcs11: URIs), the name it
//     returns is recorded, and the key is reopened with CreateSigner. The
//     private key never leaves the key manager.
//
// The data directory holds hierarchy.json (the manifest: format, version,
// key algorithm, each certificate file with its SHA-256 and each [KeyRef]),
// root.pem, issuing.pem, ocsp.pem and, for software keys, keys/*.key.
// Reopening checks all of it and refuses a corrupt or foreign manifest, an
// altered certificate or a key that does not match with a [*HierarchyError]
// wrapping [ErrHierarchy].
//
//	h, err := ca.OpenHierarchy(ctx, ca.HierarchyConfig{Dir: dir, Organization: "Example QTSP"})
//	h.Root(), h.Issuing(), h.OCSP()                 // *x509.Certificate
//	h.IssuingSigner(), h.OCSPSigner()               // crypto.Signer, for CRL and OCSP code
//	h.Chain()                                       // issuing, root
//
// # Issuance
//
// An [Issuer] ([NewIssuer] with a [Config]) issues in two phases, as DESIGN.md
// requires: [Issuer.Prepare] validates a [Request] (holder data plus a CSR
// or a public key), builds the certificate from its [Profile] through
// go.step.sm/crypto/x509util (rendered once per profile: later certificates
// are assembled from the first one's TBS with the request's values, see
// tbsshape.go), reserves a random serial (127 bits), and lints
// a throwaway-key signature of the exact TBS with zlint; the caller stores
// the [Ticket]; [Issuer.Sign] then signs that TBS with the issuing key through
// smallstep's cas/apiv1 + cas/softcas and checks the result carries the
// linted TBS. [Issuer.Issue] runs both; [Issuer.IssuePair] issues the
// signature and authentication certificates of an on-device product in one
// operation. [Issuer.SignCRL] lints and signs CRLs (it satisfies the
// crl package's Signer interface).
//
// # Profiles
//
// The profiles are package-level values citing their ETSI EN 319 412-2/-5
// clauses: [QualifiedNaturalPerson], [Role], [OneShot], [Authentication],
// [UsageLimited], [OCSPSigner], [ServerTLS], and [EvidenceSeal] for the platform's
// seal on recognition evidence. The qcStatements extension is
// the documented value [QCStatements], encoded with encoding/asn1.
//
// # Lints
//
// [Linter] wraps a zlint v3 registry filtered to the sources that govern
// signature certificates (RFC 5280, 3279, 5480, 5891, 8813, ETSI ESI) plus
// registra's own lints (package ca/lints/etsi); [Exclusions] is the one
// table of switched-off lints. Any error or fatal result refuses issuance
// with a [*LintError] that names every failing lint and unwraps to [ErrLint].
// Every certificate is linted; the linter runs only the lints that apply to
// the certificate's shape (profile, issuer, extensions), reuses the
// verdicts of the lints that read nothing but what the shape pins, and
// parses later certificates of a shape from the first one's zcrypto parse,
// re-parsing only what differs (see lintshape.go, lintparse.go and
// BENCHMARKS.md).
//
// # Errors
//
// Bad input is a [*FieldError] naming the field and the rule, wrapping
// [ErrInvalidInput]; nothing is issued. Other sentinels: [ErrLint],
// [ErrHierarchy], [ErrTicket], [ErrSigning].
//
// # What the package does not do
//
// It keeps no record of what it issued: serial uniqueness rests on 127
// random bits, and the store (through the root package) records every
// ticket before it is signed. It does not publish anything, answer OCSP or
// decide revocation: those belong to the crl and lifecycle packages.
// Nothing outside this package sees a smallstep type except the KeyManager.
package ca
