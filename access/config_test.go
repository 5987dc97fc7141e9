package access_test

import (
	"errors"
	"testing"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := access.Config{Issuer: "registra", Password: cheap}
	tests := []struct {
		name  string
		mut   func(*access.Config)
		field string
	}{
		{name: "valid", mut: func(*access.Config) {}},
		{name: "defaults", mut: func(c *access.Config) { c.Password = access.PasswordParams{} }},
		{name: "no issuer", mut: func(c *access.Config) { c.Issuer = "" }, field: "Config.Issuer"},
		{name: "issuer with newline", mut: func(c *access.Config) { c.Issuer = "a\nb" }, field: "Config.Issuer"},
		{name: "negative window", mut: func(c *access.Config) { c.TOTPWindow = -1 }, field: "Config.TOTPWindow"},
		{name: "wide window", mut: func(c *access.Config) { c.TOTPWindow = 4 }, field: "Config.TOTPWindow"},
		{name: "negative failures", mut: func(c *access.Config) { c.MaxFailures = -1 }, field: "Config.MaxFailures"},
		{name: "negative lockout", mut: func(c *access.Config) { c.Lockout = -time.Second }, field: "Config.Lockout"},
		{name: "negative lifetime", mut: func(c *access.Config) { c.SessionLifetime = -time.Second }, field: "Config.SessionLifetime"},
		{name: "idle beyond lifetime", mut: func(c *access.Config) { c.SessionLifetime = time.Minute }, field: "Config.SessionIdle"},
		{name: "memory too big", mut: func(c *access.Config) { c.Password.Memory = 2 << 20 }, field: "Config.Password.Memory"},
		{name: "salt too short", mut: func(c *access.Config) { c.Password.SaltLength = 4 }, field: "Config.Password.SaltLength"},
		{name: "key too long", mut: func(c *access.Config) { c.Password.KeyLength = 128 }, field: "Config.Password.KeyLength"},
		{name: "weak policy", mut: func(c *access.Config) { c.Policy.MinLength = 6 }, field: "Config.Policy.MinLength"},
		{name: "policy max below min", mut: func(c *access.Config) { c.Policy.MaxLength = 10 }, field: "Config.Policy.MaxLength"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tc.mut(&cfg)
			err := cfg.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, access.ErrInvalidInput)
			fe, ok := errors.AsType[*access.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
			a, err := access.NewAuthenticator(cfg)
			assert.Nil(t, a)
			assert.ErrorIs(t, err, access.ErrInvalidInput)
		})
	}
}

func TestSetPassword(t *testing.T) {
	t.Parallel()
	a := newAuth(t, nil)
	op := operator("rossi", "ACME", access.RoleRAO)
	op.Credentials.Failures = 3
	op.Credentials.LockedUntil = base.Add(time.Hour)
	_, err := a.SetPassword(t.Context(), op, "short")
	require.ErrorIs(t, err, access.ErrInvalidInput)
	got, err := a.SetPassword(t.Context(), op, goodPassword)
	require.NoError(t, err)
	assert.Zero(t, got.Credentials.Failures)
	assert.Zero(t, got.Credentials.LockedUntil)
	ok, err := access.VerifyPassword(got.Credentials.PasswordHash, goodPassword)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Empty(t, op.Credentials.PasswordHash, "the input record is not modified")

	got, err = a.CheckPassword(t.Context(), got, goodPassword, base.Add(2*time.Hour))
	require.NoError(t, err)
	bad, err := a.CheckPassword(t.Context(), got, "nope nope nope", base.Add(2*time.Hour))
	require.ErrorIs(t, err, access.ErrAuthentication)
	assert.Equal(t, 1, bad.Credentials.Failures)
}
