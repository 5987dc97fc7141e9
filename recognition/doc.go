// Package recognition identifies the applicant before a qualified
// certificate is issued, with one of the five methods of the partner manual,
// and keeps the proof as a sealed evidence bundle that anyone can check
// decades later, offline.
//
// # Methods
//
// Each [Method] has its [Requirements] (steps, artefacts, roles) and a
// [Verifier]:
//
//   - [Offline]: the applicant was seen in person and signed the paper form;
//     the signed form, the recognition report and the document images are
//     uploaded, with the recognising officer's details when a plain operator
//     uploads them.
//   - [LiveID]: in person; the RAO signs the recognition report as a CAdES
//     .p7m, which must be signed with the acting RAO's certificate; then the
//     applicant signs the request form with a one-shot certificate
//     authorised by an OTP ([OTPSigner]).
//   - [VideoID]: remote; the video provider's session record arrives through
//     an HMAC-authenticated, replay-protected callback, followed by the same
//     OTP signature.
//   - [SignID]: the applicant signs the form with an existing qualified
//     signature; the .p7m is verified (signature, chain, signing time,
//     revocation, QcCompliance, nonRepudiation), the signer is matched with
//     the applicant (serialNumber TINIT-<tax code>, given name, surname) and
//     the file is scanned by an antivirus [Scanner].
//   - [SPID]: remote; a SAML response from the configured identity provider
//     is verified with github.com/crewjam/saml and its attributes are
//     matched with the applicant; products so recognised are usage-limited.
//
// # Evidence
//
// A successful verification returns [Evidence]: a [Manifest] (method,
// applicant snapshot, operator and role, unit, timestamps, consents, the
// SHA-256 of each artefact and every check run, in the manner of Boulder's
// ValidationRecord) and the artefacts stored by hash. [Sealer.Seal] signs
// the canonical manifest as CMS SignedData (CAdES-BES, signing time
// included) with the platform's evidence key; [VerifySealed] checks a
// [Sealed] bundle from the bundle and the CA roots alone, and any changed
// byte of the manifest or of an artefact fails it.
//
// # Errors
//
// Bad input is a [*FieldError] (or an [*InputError] listing several), which
// unwraps to [ErrInvalidInput], and nothing is sent, issued or recorded.
// Failed checks are [*CheckError] values, one per check and named by it,
// unwrapping to [ErrVerification] and to the kind (for example
// [ErrRevoked] or [ErrIdentityMismatch]); when several checks fail, the
// [*VerificationError] returned carries all of them.
//
// # What the package does not do
//
// It does not store anything, issue the holder's certificate, or send mail:
// the one-shot certificate comes through [OneShotIssuer], OTPs go out
// through [Sender], and the root package stores the sealed bundle and moves
// the order from to_identify to to_issue.
package recognition
