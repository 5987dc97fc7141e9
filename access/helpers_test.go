package access_test

import (
	"flag"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// base is the pinned "now" of the tests: a whole TOTP step.
var base = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// cheap are Argon2id parameters fast enough for tests under -race; the
// defaults are exercised by the known-answer test and the benchmarks.
var cheap = access.PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1}

// seeded returns a deterministic random source.
func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func newAuth(t testing.TB, mut func(*access.Config)) *access.Authenticator {
	t.Helper()
	cfg := access.Config{Issuer: "registra", Password: cheap, Rand: seeded(1)}
	if mut != nil {
		mut(&cfg)
	}
	a, err := access.NewAuthenticator(cfg)
	require.NoError(t, err)
	return a
}

// org is a valid organisation with a main and a secondary unit.
func org(code string) access.Organisation {
	return access.Organisation{ClientCode: code, Name: "Studio " + code, Units: []access.Unit{
		{ID: "milano", Name: "Milano"},
		{ID: "milano.brera", Name: "Milano Brera", Parent: "milano"},
		{ID: "roma", Name: "Roma"},
	}}
}

// operator returns a valid operator of organisation code with roles.
func operator(id, code string, roles ...access.Role) access.Operator {
	return access.Operator{ID: id, Username: id, Org: code, Units: []string{"milano"}, Roles: roles}
}

const goodPassword access.Password = "correct horse battery staple"

// enrolled returns an operator with a password and a confirmed TOTP
// enrolment whose last used step is before base's.
func enrolled(t testing.TB, a *access.Authenticator) (access.Operator, access.TOTPSecret) {
	t.Helper()
	op := operator("rossi", "ACME", access.RoleRAO)
	op, err := a.SetPassword(t.Context(), op, goodPassword)
	require.NoError(t, err)
	op, enr, err := a.EnrollTOTP(op)
	require.NoError(t, err)
	earlier := base.Add(-time.Hour)
	op, err = a.ConfirmTOTP(op, code(t, enr.Secret, earlier), earlier)
	require.NoError(t, err)
	return op, enr.Secret
}
