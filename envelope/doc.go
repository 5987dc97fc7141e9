// Package envelope makes a holder's activation codes, keeps them at rest,
// and seals them in envelopes the holder opens with a passphrase
// (Manuale operatore, "Remote signature issuance", "Device signature
// issuance" and "Encrypted enveloped resend"; issue #7).
//
// # Codes
//
// A [Scheme] lists the codes a product kind comes with ([RemoteSignature]:
// signing PIN and emergency code; [DeviceSignature]: PIN, PUK and emergency
// code). [Scheme.Generate] draws each character uniformly from the code's
// alphabet with crypto/rand, rejecting bytes that would bias the draw.
// [Code] and [Passphrase] are string types that print, log and marshal as
// [Redacted]: a code or passphrase cannot reach a log line or an error
// message by accident.
//
// # Vault
//
// A [Vault] turns codes into a [Record] for the store: AES-256-GCM under a
// key-encryption key ([KEK]: a 0600 [KeyFile] by default, an HSM key with
// the HSM adapter), with the product ID as associated data. Verifiable
// codes (PIN, emergency code) are also kept as Argon2id hashes, made inside
// the config's [Gate] (a bound on the hashes running at once) and checked by
// [Record.Verify] without any key. A resend opens the record and seals the
// same codes under the new passphrase; nothing else reads them back.
//
// # Envelopes
//
// The same codes go into two envelopes, both sealed with the passphrase
// [PassphrasePolicy] accepts (the holder's tax code, or a custom one):
//
//   - [CMS]: a DER CMS EnvelopedData (.p7m, RFC 5652) with one password
//     recipient (RFC 3211): PBKDF2-HMAC-SHA256, AES-256 in the RFC 3211 key
//     wrap, AES-256-CBC content. Any CMS tool opens it, e.g.
//     `openssl cms -decrypt -inform DER -pwri_password P`.
//   - [PDF]: a PDF 2.0 document encrypted with AES-256 (security handler
//     revision 6), with the codes laid out for a person in Italian and
//     English.
//
// # Interoperability
//
// The key wrap is RFC 3211's PWRI-KEK (§2.3: length byte, check value,
// padding, two CBC passes), not the AES key wrap of RFC 3394. openssl cms
// opens what [CMS.Seal] writes, and [CMS.Open] opens what `openssl cms
// -encrypt -pwri_password P` writes (OpenSSL 3.0: PBKDF2 with the default
// hmacWithSHA1 PRF, an 8-byte salt, 2,048 iterations, the content cipher as
// KEK cipher), in DER, streamed BER or PEM. testdata/vectors holds
// conformance vectors that run both ways against openssl.
//
// Open follows age's contract: a wrong passphrase returns an error wrapping
// [ErrWrongPassphrase]; any other error is fatal; no partial result is ever
// returned.
//
// # What the package does not do
//
// It stores nothing (the store keeps [Record] bytes), and sends nothing: a
// [Mailer] (adapters/mail) receives a [Delivery] of sealed envelopes and an
// address, never a passphrase or a code in clear.
package envelope
