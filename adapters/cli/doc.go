// Package cli is the `registra` command tree (issue #11): local
// administration of a data directory, and a client of the HTTP API for every
// action of an operator. Package main in cmd/registra is a thin wrapper that
// calls [Run] and exits with the code it returns.
//
// # Commands
//
// Local commands work on a data directory or on files, without a server:
//
//	registra init --data DIR            create the CA hierarchy and the first admin
//	registra serve --data DIR           run the platform's API and public listener
//	registra audit verify --data DIR    check the audit trail's hash chain
//	registra evidence verify BUNDLE     check a sealed recognition bundle offline
//	registra envelope open FILE         open an activation-code envelope
//	registra crl show FILE|URL          summarise a CRL
//
// Client commands talk to the operator API (`registra login` first): orders,
// recognition, issuance, suspension, reactivation, revocation, envelope
// resend, search, products and operators. The session token is kept in the
// user's configuration directory (os.UserConfigDir()/registra/session.json),
// mode 0600.
//
// # Output
//
// People get aligned tables; --json prints the API's JSON for scripts.
// Refusals are one line on standard error: "registra: <what>: <why>", the
// server's RFC 9457 problem details included (title, detail and the fields
// concerned).
//
// # Exit codes
//
//	0  success
//	1  refused by the platform, or a check failed (a broken audit chain, a
//	   bundle that does not verify, a wrong passphrase)
//	2  usage error: unknown command or flag, missing or malformed argument
//	3  the server cannot be reached
//
// [ExitCode] maps an error to its code through one table from the sentinel
// errors of the root package and every building block (STYLE §2.6); a test
// fails when a sentinel has no row.
//
// # What the package does not do
//
// It imports no other adapter: the HSM key manager and the HTTP server reach
// it through [Config.Keys] and [Config.Serve], which cmd/registra wires. It
// makes no decision the library could make: each command decodes its flags,
// makes one library or API call, and prints the result.
package cli
