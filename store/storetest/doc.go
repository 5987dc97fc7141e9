// Package storetest is the conformance suite of the store.Store interface
// (STORE.md "store/storetest"). Each backend's tests call [Run] with a
// function that opens a fresh, empty store; every group checks the
// invariants of the store when it ends. Import it only from tests.
package storetest
