package hsm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/hsm"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	good := hsm.Config{ModulePath: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "registra", PINFile: "/etc/registra/hsm.pin"}
	with := func(edit func(c *hsm.Config)) hsm.Config {
		c := good
		edit(&c)
		return c
	}
	tests := []struct {
		name   string
		cfg    hsm.Config
		fields []string // bad fields, in order; none = valid
	}{
		{name: "valid with PIN file", cfg: good},
		{name: "valid with PIN variable", cfg: with(func(c *hsm.Config) { c.PINFile, c.PINEnv = "", "REGISTRA_HSM_PIN" })},
		{name: "valid with pool settings", cfg: with(func(c *hsm.Config) { c.MaxSessions, c.PoolWaitTimeout = 2, time.Second })},
		{name: "empty", cfg: hsm.Config{}, fields: []string{"ModulePath", "TokenLabel", "PINEnv"}},
		{name: "relative module", cfg: with(func(c *hsm.Config) { c.ModulePath = "libsofthsm2.so" }), fields: []string{"ModulePath"}},
		{name: "long label", cfg: with(func(c *hsm.Config) { c.TokenLabel = "123456789012345678901234567890123" }), fields: []string{"TokenLabel"}},
		{name: "two PIN sources", cfg: with(func(c *hsm.Config) { c.PINEnv = "X" }), fields: []string{"PINFile"}},
		{name: "bad variable name", cfg: with(func(c *hsm.Config) { c.PINFile, c.PINEnv = "", "PIN=1234" }), fields: []string{"PINEnv"}},
		{name: "one session", cfg: with(func(c *hsm.Config) { c.MaxSessions = 1 }), fields: []string{"MaxSessions"}},
		{name: "negative sessions", cfg: with(func(c *hsm.Config) { c.MaxSessions = -4 }), fields: []string{"MaxSessions"}},
		{name: "negative timeout", cfg: with(func(c *hsm.Config) { c.PoolWaitTimeout = -time.Second }), fields: []string{"PoolWaitTimeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if len(tc.fields) == 0 {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, hsm.ErrInvalidInput)
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				fe, ok := errors.AsType[*hsm.FieldError](e)
				require.True(t, ok, "%v", e)
				got = append(got, fe.Field)
			}
			assert.Equal(t, tc.fields, got)
		})
	}
	t.Run("message", func(t *testing.T) {
		err := with(func(c *hsm.Config) { c.ModulePath = "libsofthsm2.so" }).Validate()
		assert.EqualError(t, err, "hsm: ModulePath: must be an absolute path")
	})
}
