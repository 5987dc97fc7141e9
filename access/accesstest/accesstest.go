// Package accesstest helps tests of packages that use access: an
// authenticator with cheap password parameters, operators enrolled in TOTP,
// and the codes their authenticator app would show. Import it only from
// _test.go files.
package accesstest

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/access"
)

// Password is the password of every operator made by [Operator].
const Password access.Password = "correct horse battery staple"

// CheapParams are Argon2id parameters fast enough for tests under -race
// (64 KiB, one pass, one lane). Never use them outside tests.
func CheapParams() access.PasswordParams {
	return access.PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1}
}

// Option changes the configuration [NewAuthenticator] builds.
type Option func(*access.Config)

// WithConfig lets a test change any field.
func WithConfig(f func(*access.Config)) Option { return Option(f) }

// NewAuthenticator returns an authenticator with issuer "registra", cheap
// password parameters and a deterministic random source seeded from the
// test's name.
func NewAuthenticator(t testing.TB, opts ...Option) *access.Authenticator {
	t.Helper()
	var seed [32]byte
	copy(seed[:], t.Name())
	cfg := access.Config{Issuer: "registra", Password: CheapParams(), Rand: rand.NewChaCha8(seed)}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := access.NewAuthenticator(cfg)
	require.NoError(t, err)
	return a
}

// Operator returns an operator of organisation org with roles, working in
// unit "main", with [Password] set and a TOTP enrolment confirmed at
// enrolledAt (so codes of later steps log in), and its TOTP secret.
func Operator(t testing.TB, a *access.Authenticator, id, org string, enrolledAt time.Time, roles ...access.Role) (access.Operator, access.TOTPSecret) {
	t.Helper()
	op := access.Operator{ID: id, Username: id, Org: org, Units: []string{"main"}, Roles: roles}
	op, err := a.SetPassword(t.Context(), op, Password)
	require.NoError(t, err)
	op, enr, err := a.EnrollTOTP(op)
	require.NoError(t, err)
	op, err = a.ConfirmTOTP(op, Code(t, enr.Secret, enrolledAt), enrolledAt)
	require.NoError(t, err)
	return op, enr.Secret
}

// Organisation returns a valid organisation with client code code and a main
// unit "main" with a secondary unit "main.branch".
func Organisation(code string) access.Organisation {
	return access.Organisation{ClientCode: code, Name: "Organisation " + code, Units: []access.Unit{
		{ID: "main", Name: "Main office"},
		{ID: "main.branch", Name: "Branch", Parent: "main"},
	}}
}

// Code returns the code an authenticator app shows for secret at at.
func Code(t testing.TB, secret access.TOTPSecret, at time.Time) access.Passcode {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret.Reveal(), at,
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(t, err)
	return access.Passcode(c)
}
