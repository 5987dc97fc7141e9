package hsm_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/hsm"
)

func TestParseConfigURI(t *testing.T) {
	t.Parallel()
	const mod = "/usr/lib/softhsm/libsofthsm2.so"
	tests := []struct {
		name    string
		in      string
		want    hsm.Config
		wantErr error
	}{
		{name: "pin file", in: "pkcs11:token=registra?module-path=" + mod + "&pin-source=/etc/registra/hsm.pin",
			want: hsm.Config{ModulePath: mod, TokenLabel: "registra", PINFile: "/etc/registra/hsm.pin"}},
		{name: "pin file URI", in: "pkcs11:token=registra?module-path=" + mod + "&pin-source=file:///etc/registra/hsm.pin",
			want: hsm.Config{ModulePath: mod, TokenLabel: "registra", PINFile: "/etc/registra/hsm.pin"}},
		{name: "pin variable and pool", in: "pkcs11:token=my%20token?module-path=" + mod + "&x-pin-env=REGISTRA_HSM_PIN&x-max-sessions=32&x-pool-wait-timeout=5s",
			want: hsm.Config{ModulePath: mod, TokenLabel: "my token", PINEnv: "REGISTRA_HSM_PIN", MaxSessions: 32, PoolWaitTimeout: 5 * time.Second}},
		{name: "smallstep style", in: "pkcs11:module-path=" + mod + ";token=registra;max-sessions=8?pin-source=/run/pin",
			want: hsm.Config{ModulePath: mod, TokenLabel: "registra", PINFile: "/run/pin", MaxSessions: 8}},
		{name: "pin value", in: "pkcs11:token=registra?module-path=" + mod + "&pin-value=1234", wantErr: hsm.ErrInvalidInput},
		{name: "module name", in: "pkcs11:token=registra?module-name=softhsm2", wantErr: hsm.ErrInvalidInput},
		{name: "slot", in: "pkcs11:slot-id=1?module-path=" + mod, wantErr: hsm.ErrInvalidInput},
		{name: "repeated", in: "pkcs11:token=a;token=b", wantErr: hsm.ErrInvalidInput},
		{name: "bad number", in: "pkcs11:token=a?x-max-sessions=many", wantErr: hsm.ErrInvalidInput},
		{name: "bad duration", in: "pkcs11:token=a?x-pool-wait-timeout=5", wantErr: hsm.ErrInvalidInput},
		{name: "bad file URI", in: "pkcs11:token=a?pin-source=file:pin", wantErr: hsm.ErrInvalidInput},
		{name: "other scheme", in: "softkms:token=a", wantErr: hsm.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := hsm.ParseConfigURI(tc.in)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, hsm.Config{}, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.NoError(t, got.Validate())
		})
	}
	t.Run("message", func(t *testing.T) {
		_, err := hsm.ParseConfigURI("pkcs11:token=registra?pin-value=1234")
		assert.EqualError(t, err, "hsm: URI: pin-value is refused: give the PIN through pin-source (a file) or x-pin-env")
	})
}

// FuzzParseConfigURI checks that parsing never panics and that a parsed
// configuration never carries a PIN value. Seeds:
// testdata/fuzz/FuzzParseConfigURI.
func FuzzParseConfigURI(f *testing.F) {
	f.Add("pkcs11:token=registra?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/etc/pin")
	f.Add("pkcs11:module-path=/m.so;token=t;max-sessions=8?x-pin-env=P&x-pool-wait-timeout=1s")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := hsm.ParseConfigURI(s)
		if err != nil {
			assert.ErrorIs(t, err, hsm.ErrInvalidInput)
			return
		}
		_ = c.Validate() // must not panic either
	})
}
