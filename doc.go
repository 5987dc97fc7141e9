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
//   - store: durable state in go-memdb tables replicated by Raft.
//
// This root package wires them into a Platform; adapters (HTTP, CLI, mail,
// HSM) translate between one outside world and the library.
package registra
