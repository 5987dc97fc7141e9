package access_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// code returns the TOTP code of secret at at, computed by pquerna/otp.
func code(t testing.TB, secret access.TOTPSecret, at time.Time) access.Passcode {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret.Reveal(), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(t, err)
	return access.Passcode(c)
}

func TestEnrollTOTP(t *testing.T) {
	t.Parallel()
	a := newAuth(t, nil)
	op := operator("rossi", "ACME", access.RoleRAO)
	op, enr, err := a.EnrollTOTP(op)
	require.NoError(t, err)
	assert.Equal(t, enr.Secret, op.Credentials.TOTP.Secret)
	assert.False(t, op.Credentials.TOTP.Confirmed)
	assert.Len(t, enr.Secret.Reveal(), 32, "160 bits in base32")

	u, err := url.Parse(enr.URI.Reveal())
	require.NoError(t, err)
	assert.Equal(t, "otpauth", u.Scheme)
	assert.Equal(t, "totp", u.Host)
	assert.Equal(t, "/registra:rossi", u.Path)
	q := u.Query()
	assert.Equal(t, enr.Secret.Reveal(), q.Get("secret"))
	assert.Equal(t, "registra", q.Get("issuer"))
	assert.Equal(t, "SHA1", q.Get("algorithm"))
	assert.Equal(t, "6", q.Get("digits"))
	assert.Equal(t, "30", q.Get("period"))

	img, err := enr.QR(200)
	require.NoError(t, err)
	assert.Equal(t, 200, img.Bounds().Dx())

	// A pending enrolment is not a login factor yet.
	op, err = a.SetPassword(t.Context(), op, goodPassword)
	require.NoError(t, err)
	_, err = a.Authenticate(t.Context(), op, goodPassword, code(t, enr.Secret, base), base)
	assert.ErrorIs(t, err, access.ErrEnrolmentRequired)

	// Confirming needs a right code; then a second enrolment is refused.
	bad, err := a.ConfirmTOTP(op, "000000", base)
	require.ErrorIs(t, err, access.ErrAuthentication)
	assert.Equal(t, 1, bad.Credentials.Failures)
	op, err = a.ConfirmTOTP(op, code(t, enr.Secret, base), base)
	require.NoError(t, err)
	assert.True(t, op.Credentials.TOTP.Confirmed)
	assert.Equal(t, base.Unix()/30, op.Credentials.TOTP.LastStep)
	_, _, err = a.EnrollTOTP(op)
	assert.ErrorIs(t, err, access.ErrInvalidInput)
	_, err = a.ConfirmTOTP(op, code(t, enr.Secret, base.Add(time.Minute)), base.Add(time.Minute))
	assert.ErrorIs(t, err, access.ErrInvalidInput, "nothing pending")

	reset := access.ResetTOTP(op)
	assert.Equal(t, access.TOTP{}, reset.Credentials.TOTP)
	_, enr2, err := a.EnrollTOTP(reset)
	require.NoError(t, err)
	assert.NotEqual(t, enr.Secret, enr2.Secret)
}

func TestAuthenticateWindowAndReplay(t *testing.T) {
	t.Parallel()
	a := newAuth(t, nil)
	op, secret := enrolled(t, a)
	tests := []struct {
		name    string
		codeAt  time.Time
		wantErr error
		failure access.AuthFailure
	}{
		{name: "current step", codeAt: base},
		{name: "previous step", codeAt: base.Add(-30 * time.Second)},
		{name: "next step", codeAt: base.Add(30 * time.Second)},
		{name: "two steps ago", codeAt: base.Add(-60 * time.Second), wantErr: access.ErrAuthentication, failure: access.FailurePasscode},
		{name: "two steps ahead", codeAt: base.Add(60 * time.Second), wantErr: access.ErrAuthentication, failure: access.FailurePasscode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := a.Authenticate(t.Context(), op, goodPassword, code(t, secret, tc.codeAt), base)
			if tc.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, tc.codeAt.Unix()/30, got.Credentials.TOTP.LastStep)
				assert.Zero(t, got.Credentials.Failures)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			ae, ok := errors.AsType[*access.AuthError](err)
			require.True(t, ok)
			assert.Equal(t, tc.failure, ae.Failure)
			assert.Equal(t, 1, got.Credentials.Failures)
		})
	}

	// Replay: the same code again, and an older code of the window after a
	// newer one, are refused (RFC 6238 §5.2).
	op2, err := a.Authenticate(t.Context(), op, goodPassword, code(t, secret, base), base)
	require.NoError(t, err)
	_, err = a.Authenticate(t.Context(), op2, goodPassword, code(t, secret, base), base.Add(10*time.Second))
	ae, ok := errors.AsType[*access.AuthError](err)
	require.True(t, ok)
	assert.Equal(t, access.FailureReplay, ae.Failure)
	_, err = a.Authenticate(t.Context(), op2, goodPassword, code(t, secret, base.Add(-30*time.Second)), base.Add(10*time.Second))
	ae, ok = errors.AsType[*access.AuthError](err)
	require.True(t, ok)
	assert.Equal(t, access.FailureReplay, ae.Failure)
	// The next step's code is fine.
	_, err = a.Authenticate(t.Context(), op2, goodPassword, code(t, secret, base.Add(30*time.Second)), base.Add(30*time.Second))
	assert.NoError(t, err)
}

func TestAuthenticateFailures(t *testing.T) {
	t.Parallel()
	a := newAuth(t, nil)
	op, secret := enrolled(t, a)
	good := code(t, secret, base)
	disabled := op
	disabled.Disabled = true
	noHash := op
	noHash.Credentials.PasswordHash = ""
	corrupt := op
	corrupt.Credentials.PasswordHash = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	for _, tc := range []struct {
		name    string
		op      access.Operator
		pw      access.Password
		code    access.Passcode
		failure access.AuthFailure
	}{
		{"wrong password", op, "wrong horse battery staple", good, access.FailurePassword},
		{"wrong code", op, goodPassword, "123456", access.FailurePasscode},
		{"short code", op, goodPassword, "12345", access.FailurePasscode},
		{"letters", op, goodPassword, "12345a", access.FailurePasscode},
		{"unicode digits", op, goodPassword, "١٢٣٤٥٦", access.FailurePasscode},
		{"disabled", disabled, goodPassword, good, access.FailureDisabled},
		{"no password set", noHash, goodPassword, good, access.FailurePassword},
		{"corrupt stored hash", corrupt, goodPassword, good, access.FailurePassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := a.Authenticate(t.Context(), tc.op, tc.pw, tc.code, base)
			require.ErrorIs(t, err, access.ErrAuthentication)
			ae, ok := errors.AsType[*access.AuthError](err)
			require.True(t, ok)
			assert.Equal(t, tc.failure, ae.Failure)
			assert.EqualError(t, err, "access: login: authentication failed", "the message never says which factor failed")
		})
	}
	err := a.RejectUnknown(t.Context(), goodPassword)
	ae, ok := errors.AsType[*access.AuthError](err)
	require.True(t, ok)
	assert.Equal(t, access.FailureUnknownUser, ae.Failure)
	assert.Equal(t, "unknown_user", ae.Failure.String())
}

// TestLockout: five failures lock the account for the lockout period, during
// which even the right credentials are refused unchecked; it opens again
// afterwards. Run in virtual time.
func TestLockout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := newAuth(t, func(c *access.Config) { c.MaxFailures = 3; c.Lockout = 10 * time.Minute })
		op, secret := enrolled(t, a)
		start := time.Now()
		op.Credentials.TOTP.LastStep = start.Unix()/30 - 5

		var err error
		for i := 1; i <= 3; i++ {
			op, err = a.Authenticate(t.Context(), op, "not the password at all", code(t, secret, time.Now()), time.Now())
			require.ErrorIs(t, err, access.ErrAuthentication)
			if i < 3 {
				assert.NotErrorIs(t, err, access.ErrLocked)
				assert.Equal(t, i, op.Credentials.Failures)
			}
			time.Sleep(time.Second)
		}
		require.ErrorIs(t, err, access.ErrLocked, "the third failure locks")
		ae, _ := errors.AsType[*access.AuthError](err)
		require.NotNil(t, ae)
		lockedUntil := start.Add(2*time.Second + 10*time.Minute)
		assert.Equal(t, lockedUntil, ae.LockedUntil)
		assert.Equal(t, lockedUntil, op.Credentials.LockedUntil)

		time.Sleep(9 * time.Minute)
		before := op
		got, err := a.Authenticate(t.Context(), op, goodPassword, code(t, secret, time.Now()), time.Now())
		le, ok := errors.AsType[*access.LockedError](err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, lockedUntil, le.Until)
		assert.Equal(t, before, got, "a locked attempt changes nothing")
		_, err = a.CheckPassword(t.Context(), op, goodPassword, time.Now())
		assert.ErrorIs(t, err, access.ErrLocked)

		time.Sleep(lockedUntil.Sub(time.Now()))
		op, err = a.Authenticate(t.Context(), op, goodPassword, code(t, secret, time.Now()), time.Now())
		require.NoError(t, err, "the lock ends at LockedUntil")
		assert.Zero(t, op.Credentials.LockedUntil)
		assert.Zero(t, op.Credentials.Failures)
	})
}

// TestOathtoolCrossCheck: a code computed by oathtool, an independent RFC
// 6238 implementation, for our enrolment's secret logs in.
func TestOathtoolCrossCheck(t *testing.T) {
	t.Parallel()
	oathtool := testutil.RequireTool(t, "oathtool", "oathtool")
	a := newAuth(t, nil)
	op, secret := enrolled(t, a)
	at := base.Add(17 * time.Second)
	out := testutil.Run(t, oathtool, "--totp", "-b", "--now", at.Format("2006-01-02 15:04:05 UTC"), secret.Reveal())
	c := access.Passcode(strings.TrimSpace(string(out)))
	require.Len(t, c.Reveal(), 6)
	assert.Equal(t, code(t, secret, at), c, "oathtool and pquerna/otp agree")
	_, err := a.Authenticate(t.Context(), op, goodPassword, c, at)
	assert.NoError(t, err)
}

// TestPinnedCodes pins pquerna/otp's codes for the RFC 6238 Appendix B
// SHA-1 secret at the appendix's times.
func TestPinnedCodes(t *testing.T) {
	t.Parallel()
	secret := access.TOTPSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") // "12345678901234567890"
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"},
		{2000000000, "279037"}, {20000000000, "353130"},
	} {
		assert.Equal(t, access.Passcode(tc.want), code(t, secret, time.Unix(tc.unix, 0)), "t=%d", tc.unix)
	}
}
