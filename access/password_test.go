package access_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/registra-pki/registra/access"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestArgon2idKnownAnswer checks the encoding against the reference
// implementation's test vector (phc-winner-argon2, src/test.c: argon2id,
// t=2, m=2^16, p=1, "password", "somesalt").
func TestArgon2idKnownAnswer(t *testing.T) {
	t.Parallel()
	const want = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	got, err := access.HashPassword("password", access.PasswordParams{Memory: 65536, Iterations: 2, Parallelism: 1, SaltLength: 8},
		strings.NewReader("somesalt"))
	require.NoError(t, err)
	assert.Equal(t, want, got.Reveal())
	ok, err := access.VerifyPassword(want, "password")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = access.VerifyPassword(want, "Password")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	h1, err := access.HashPassword(goodPassword, cheap, nil)
	require.NoError(t, err)
	h2, err := access.HashPassword(goodPassword, cheap, nil)
	require.NoError(t, err)
	assert.NotEqual(t, h1, h2, "a fresh salt each time")
	assert.True(t, strings.HasPrefix(h1.Reveal(), "$argon2id$v=19$m=64,t=1,p=1$"))
	p, err := access.ParsePasswordHash(h1)
	require.NoError(t, err)
	assert.Len(t, p.Salt, 16)
	assert.Len(t, p.Key, 32)
	assert.Equal(t, h1, p.Encode())

	assert.False(t, access.NeedsRehash(h1, cheap))
	assert.True(t, access.NeedsRehash(h1, access.PasswordParams{}), "defaults differ from the cheap test parameters")
	assert.True(t, access.NeedsRehash("garbage", cheap))

	_, err = access.HashPassword("x", access.PasswordParams{Memory: 4, Parallelism: 1}, nil)
	assert.ErrorIs(t, err, access.ErrInvalidInput)
	_, err = access.HashPassword("x", cheap, bytes.NewReader(nil))
	assert.Error(t, err, "a failing random source is an error")
	d := access.DefaultPasswordParams()
	assert.Equal(t, access.PasswordParams{Memory: 65536, Iterations: 3, Parallelism: 4, SaltLength: 16, KeyLength: 32}, d)
}

func TestParsePasswordHashRefuses(t *testing.T) {
	t.Parallel()
	const salt, key = "c29tZXNhbHQ", "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=65536,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=65536,t=2,p=1$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=2,m=65536,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=065536,t=2,p=1$" + salt + "$" + key},
		{"sign", "$argon2id$v=19$m=+65536,t=2,p=1$" + salt + "$" + key},
		{"huge memory", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{"zero iterations", "$argon2id$v=19$m=65536,t=0,p=1$" + salt + "$" + key},
		{"many iterations", "$argon2id$v=19$m=65536,t=65,p=1$" + salt + "$" + key},
		{"p over 255", "$argon2id$v=19$m=65536,t=2,p=256$" + salt + "$" + key},
		{"p zero", "$argon2id$v=19$m=65536,t=2,p=0$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "=$" + key},
		{"short salt", "$argon2id$v=19$m=65536,t=2,p=1$c29tZQ$" + key},
		{"short key", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$CTFhFdXPJO1aFaMa"},
		{"missing key", "$argon2id$v=19$m=65536,t=2,p=1$" + salt},
		{"extra field", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + key + "$x"},
		{"data parameter", "$argon2id$v=19$m=65536,t=2,p=1,data=abc$" + salt + "$" + key},
		{"url base64", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + strings.ReplaceAll(key, "O", "-")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := access.ParsePasswordHash(access.PasswordHash(tc.in))
			require.ErrorIs(t, err, access.ErrInvalidInput)
			fe, ok := errors.AsType[*access.FieldError](err)
			require.True(t, ok)
			assert.True(t, strings.HasPrefix(fe.Field, "password_hash"), fe.Field)
			ok2, err := access.VerifyPassword(access.PasswordHash(tc.in), "password")
			assert.False(t, ok2)
			assert.Error(t, err)
		})
	}
}

// FuzzParsePasswordHash: parsing never panics, and what parses re-encodes to
// the same string (one encoding per hash, so stored hashes compare).
func FuzzParsePasswordHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFh")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := access.ParsePasswordHash(access.PasswordHash(s))
		if err != nil {
			require.ErrorIs(t, err, access.ErrInvalidInput)
			return
		}
		assert.Equal(t, s, h.Encode().Reveal())
		assert.Len(t, h.Salt, int(h.Params.SaltLength))
		assert.Len(t, h.Key, int(h.Params.KeyLength))
	})
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	p := access.PasswordPolicy{}
	for _, tc := range []struct {
		name string
		pw   access.Password
		ok   bool
	}{
		{"long passphrase", goodPassword, true},
		{"twelve characters", "abcdefghijkl", true},
		{"unicode counts characters", "àèìòùàèìòùàè", true},
		{"eleven characters", "abcdefghijk", false},
		{"too long", access.Password(strings.Repeat("ab", 65)), false},
		{"one character repeated", "aaaaaaaaaaaaaaaa", false},
		{"contains username", "my-Rossi-password-2026", false},
		{"control character", "abcdefghijkl\x00", false},
		{"not UTF-8", "abcdefghijkl\xff", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := p.Check(tc.pw, "rossi")
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, access.ErrInvalidInput)
		})
	}
	err := access.PasswordPolicy{MinLength: 20}.Check("abcdefghijkl", "x")
	assert.EqualError(t, err, "access: password: must be at least 20 characters")
}
