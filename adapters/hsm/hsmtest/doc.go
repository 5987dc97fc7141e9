// Package hsmtest gives tests a fresh SoftHSM2 token, for package hsm and
// for every package whose tests run on the HSM key manager:
//
//	tk := hsmtest.New(t)   // a new token, user PIN in a PIN file
//	tok := tk.Open(t)      // an *hsm.Token, closed when the test ends
//	objs := tk.Objects(t)  // what pkcs11-tool sees in the token
//
// A Token is a go.step.sm/crypto/kms/apiv1.KeyManager, so another package's
// test runs its code on the HSM by handing it over, for example a CA
// hierarchy with its keys in the token:
//
//	names := ca.KeyNames{Root: "pkcs11:object=root", Issuing: "pkcs11:object=issuing", OCSP: "pkcs11:object=ocsp"}
//	iss := catest.NewIssuer(t, catest.WithKeyManager(tok, names))
//
// Without SoftHSM2 the test is skipped on a developer machine, with the
// Debian package to install (softhsm2; opensc for [Token.Objects]), and
// fails under CI=true, where `make test` installs them.
//
// # One token store per test process
//
// SoftHSM2 reads SOFTHSM2_CONF from the environment, and scans its token
// directory, once per process, in C_Initialize, and a module stays
// initialised while any crypto11 context uses it: a token directory per test
// (t.TempDir with its own SOFTHSM2_CONF) cannot work. So the first New of a
// test binary makes one directory for the process (in os.TempDir, named
// registra-softhsm-<pid>-…; directories of exited processes are swept),
// points SOFTHSM2_CONF at it, and creates and opens an anchor token that
// stays open, so the module is never finalised. Every New then initialises
// a token in the free slot in-process (C_InitToken, C_InitPIN through a
// second handle on the same module), with a label unique in the process.
// Tokens of parallel tests are thus independent, and a wrong-PIN test gets a
// token no one is logged into.
//
// Removing a token's directory breaks token lookups for the rest of the
// process (see [Token.Remove]); such tests run in a child process through
// [Isolated].
package hsmtest
