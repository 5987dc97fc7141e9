// Package crltest holds test support for package crl: a small CA hierarchy
// made with crypto/x509 (root, issuing CA, delegated OCSP signer with
// id-kp-OCSPSigning and ocsp-nocheck, leaf certificates), and in-memory
// fakes of crl's consumer interfaces: [Store] (a [crl.Source] and
// [crl.StatusSource] with a change log) and [Journal] (CRL numbers, head
// and receipts, surviving a simulated restart). Import it only from tests.
package crltest
