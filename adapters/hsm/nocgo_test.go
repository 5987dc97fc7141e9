//go:build !cgo

package hsm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/registra-pki/registra/adapters/hsm"
)

// TestOpenWithoutCgo checks the CGO_ENABLED=0 build: a valid configuration
// fails with ErrNoCgo, an invalid one still names its bad fields.
func TestOpenWithoutCgo(t *testing.T) {
	t.Parallel()
	tok, err := hsm.Open(t.Context(), hsm.Config{ModulePath: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "registra", PINEnv: "PIN"})
	assert.ErrorIs(t, err, hsm.ErrNoCgo)
	assert.Nil(t, tok)
	_, err = hsm.Open(t.Context(), hsm.Config{})
	assert.ErrorIs(t, err, hsm.ErrInvalidInput)
}
