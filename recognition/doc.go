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
//     the signed form, the recognition report (a scan, or a .p7m signed by
//     the officer) and the document images are uploaded, with the
//     recognising officer's details when a plain operator uploads them.
//   - [LiveID]: in person; the RAO signs the recognition report as a CAdES
//     .p7m, which must be signed in the acting RAO's name (the tax code the
//     platform registered for them, [Operator].TaxCode); then the
//     applicant signs the request form with a one-shot certificate
//     authorised by an OTP ([OTPSigner]).
//   - [VideoID]: remote; the video provider's session record arrives through
//     an HMAC-authenticated, replay-protected callback, followed by the same
//     OTP signature.
//   - [SignID]: the applicant signs the form with an existing qualified
//     signature; the .p7m is verified (signature, chain, signing time,
//     revocation from a supplied CRL or the distribution point,
//     QcCompliance, nonRepudiation), the signer is matched with the
//     applicant (serialNumber TINIT-<tax code>, given name, surname) and the
//     file and its content are scanned by an antivirus [Scanner] ([ClamAV]
//     over clamd's INSTREAM; without one, [NoScanner] makes Sign ID
//     unavailable).
//   - [SPID]: remote; a SAML response from the configured identity provider
//     is verified with github.com/crewjam/saml and its attributes are
//     matched with the applicant; the form is then signed by OTP, and
//     products so recognised are usage-limited.
//
// Uploads are sniffed, never trusted by name: JPEG, PNG, PDF and .p7m only,
// each within a size limit, and identity documents as front and back or one
// image with both sides.
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
// Signing times are the signer's claim (no RFC 3161 timestamps are
// required); revocation is checked on CRLs, not OCSP; trust anchors are
// given by the caller (loading the EU trusted lists is out of scope); and
// github.com/crewjam/saml checks SAML validity windows against the process
// clock, to which SPID adds its own check with the configured clock.
//
// It does not store anything, issue the holder's certificate, or send mail:
// the one-shot certificate comes through [OneShotIssuer], OTPs go out
// through [Sender], and the root package stores the sealed bundle and moves
// the order from to_identify to to_issue.
package recognition
