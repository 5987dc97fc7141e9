package ca

import "crypto/x509"

// EvidenceSeal is the certificate of the platform's evidence-sealing key,
// with which package recognition's Sealer signs the manifests of recognition
// evidence bundles (issue #8) so that anyone can check them later, offline,
// against the CA chain:
//
//   - subject: C, O and CN of the CA's organisation, as for the other
//     service certificates; it names the platform, not a person;
//   - keyUsage digitalSignature and nonRepudiation (contentCommitment),
//     critical: the seal is a signature on data whose content the platform
//     commits to, which is what RFC 5280 §4.2.1.3 reserves nonRepudiation
//     for, and ETSI EN 319 412-3 §4.3.2 sets for the seals of legal persons;
//     recognition.SealerConfig accepts either bit;
//   - no extKeyUsage: RFC 5280 §4.2.1.12 makes the extension optional and,
//     when present, restrictive. id-kp-documentSigning (1.3.6.1.5.5.7.3.36,
//     RFC 9336 §3) would add nothing a verifier checks here (VerifySealed
//     checks keyUsage and the chain), while Go's x509 verification of the
//     chain treats an absent extension as "any", so one profile serves every
//     verifier without an unknown-EKU special case;
//   - not qualified (no qcStatements, no QCP policy): the evidence seal
//     proves the bundle's integrity and origin for the RA's records, it is
//     not a qualified electronic seal under eIDAS;
//   - no CRL distribution point or OCSP pointer: the store keeps no record
//     of it to revoke (like [OCSPSigner], whose status clients do not ask);
//     a compromised key is replaced by a new certificate, and bundles are
//     judged by their signing time (recognition.VerifySealed);
//   - validity: 3 years by default, from 1 day to 10 years, never past the
//     issuing CA's notAfter; the platform issues a new one on open once the
//     old one has expired.
var EvidenceSeal = Profile{
	Name:            "evidence-seal",
	Citation:        "RFC 5280 §4.2.1.3, §4.2.1.12; ETSI EN 319 412-3 §4.3.2; issue #8",
	Subject:         ServiceSubject,
	KeyUsage:        x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	DefaultValidity: 3 * year,
	MinValidity:     day,
	MaxValidity:     10 * year,
}
