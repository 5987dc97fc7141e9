// Package hsm keeps registra's keys in a PKCS#11 token: the CA keys, the
// OCSP signer, the evidence-sealing key, the remote-signature keys of
// holders, and the AES key-encryption key of the code vault. A qualified CA
// keeps its keys in an HSM and generates holder keys inside it (issue #9).
//
// [Open] takes a [Config] (module path, token label, and the name of an
// environment variable or file holding the PIN, plus the session pool size
// and wait timeout) and returns a [Token]. A server or `registra init` fills
// the Config from its settings, or from one token URI with [ParseConfigURI]
// ("pkcs11:token=registra?module-path=…&pin-source=/etc/registra/hsm.pin").
// A Token is a go.step.sm/crypto/kms/apiv1.KeyManager, so package ca and the
// others take it where they take the software key manager, unchanged, and
// its [KEK] values are envelope.KEK key-encryption keys for the code vault.
//
// # Key names
//
// Keys are named by PKCS#11 URIs (RFC 7512) with an object (CKA_LABEL) and
// an id (CKA_ID): "pkcs11:object=ca-root;id=%4A%2F…". CreateKey returns the
// canonical name to store; CreateSigner and GetPublicKey take it back. See
// [KeyName] for the parsing rules.
//
// # Guarantees
//
//   - Keys are generated in the token: ECDSA P-256 and P-384, RSA 3072 and
//     4096. Private and secret keys are created sensitive and not
//     extractable; no API of this package exports or wraps a key.
//   - Key handles are cached by name, so a signature costs one PKCS#11
//     C_SignInit/C_Sign pair and no object search (SoftHSM2 searches with a
//     linear scan).
//   - Sessions come from a pool of Config.MaxSessions; an operation waits at
//     most Config.PoolWaitTimeout for one and then fails with [ErrBusy]
//     instead of hanging on a stuck HSM.
//   - Every failure is an *[Error] or *[FieldError] unwrapping to one of this
//     package's sentinels ([ErrModule], [ErrUnknownToken], [ErrWrongPIN],
//     [ErrNotFound], [ErrTokenGone], …) with crypto11's or the module's error
//     kept in the chain. A failed signature never returns signature bytes,
//     so a caller never records as signed what was not.
//   - When a token disappears while open (removed, re-initialised, device
//     lost), operations fail with [ErrTokenGone]: the Token asks the slot
//     (C_GetTokenInfo) whenever the module reports an ambiguous error, since
//     SoftHSM2 answers a removed token's keys with CKR_OBJECT_HANDLE_INVALID,
//     as it does for a single deleted key.
//
// It deliberately does not initialise tokens, set PINs, import or export
// keys, or store certificates in the token: those belong to the HSM's own
// tools.
//
// # crypto11 directly, not smallstep's kms/pkcs11
//
// The package is built on github.com/ThalesGroup/crypto11 v1.6.2 directly.
// go.step.sm/crypto/kms/pkcs11 wraps the same library (so the two never
// collide), but it does not fit this job:
//
//   - it hides its crypto11.Context, and the code vault needs an AES key and
//     AES-GCM in the token (SecretKey.NewGCM) from the same logged-in
//     context: a second context on the same token would share the login and
//     skip the PIN check;
//   - it searches the token on every CreateSigner (no handle cache);
//   - it takes the PIN in the URI (pin-value) and offers no session pool
//     wait timeout;
//   - its errors are github.com/pkg/errors strings (its own "not found" test
//     matches a message), where this package needs sentinels;
//   - it registers itself in a global registry from init(), which
//     registra's style avoids.
//
// What this package keeps from it: the apiv1.KeyManager and
// apiv1.KeyDeleter interfaces, RFC 7512 names with object and id, P-256 as
// the default key, and the nil-options guard for RSA signers.
//
// # One module per process
//
// A PKCS#11 library is initialised once per process. crypto11 counts
// references per module path and shares the initialised module between
// contexts; this package resolves symbolic links in the path so that
// /usr/lib/softhsm/libsofthsm2.so and its target are one module (otherwise
// the second C_Initialize fails with CKR_CRYPTOKI_ALREADY_INITIALIZED,
// reported as [ErrModule]). The PKCS#11 login state is per token and
// process: open each token once and share the Token. SoftHSM2 reads its
// configuration (SOFTHSM2_CONF) and its token directory when the module is
// initialised; see package hsmtest for what that means for tests.
//
// # Building
//
// PKCS#11 modules are C libraries, so the package needs cgo. Built with
// CGO_ENABLED=0 it keeps its API but [Open] fails with [ErrNoCgo], and the
// rest of registra builds without cgo.
package hsm
