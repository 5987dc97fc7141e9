//go:build !cgo

package hsmtest

import (
	"testing"

	"github.com/registra-pki/registra/adapters/hsm"
	"github.com/registra-pki/registra/internal/testutil"
)

// ModulePath is the SoftHSM2 module installed by Debian's softhsm2 package.
const ModulePath = "/usr/lib/softhsm/libsofthsm2.so"

// The PINs of every token made here.
const (
	PIN   = "1234"
	SOPIN = "5678"
)

// Token is a SoftHSM2 token for one test. Built without cgo there is none.
type Token struct {
	Label  string
	Config hsm.Config
	Dir    string
	Conf   string
}

// New skips the test on a developer machine and fails it under CI=true:
// PKCS#11 needs cgo.
func New(t testing.TB) *Token {
	t.Helper()
	msg := "hsmtest: SoftHSM2 tests need cgo (this test binary was built with CGO_ENABLED=0)"
	if testutil.InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil
}

// Open cannot happen without cgo.
func (tk *Token) Open(t testing.TB) *hsm.Token { t.Helper(); New(t); return nil }

// Reinit cannot happen without cgo.
func (tk *Token) Reinit(t testing.TB, _ string) { t.Helper(); New(t) }

// Remove cannot happen without cgo.
func (tk *Token) Remove(t testing.TB) { t.Helper(); New(t) }

// Objects cannot happen without cgo.
func (tk *Token) Objects(t testing.TB) []Object { t.Helper(); New(t); return nil }

// Isolated skips or fails like New.
func Isolated(t *testing.T) bool { t.Helper(); New(t); return false }

// PKCS11Tool cannot happen without cgo.
func PKCS11Tool(t testing.TB, _ *Token, _ ...string) []byte { t.Helper(); New(t); return nil }
