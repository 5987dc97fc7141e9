package access_test

import (
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/registra-pki/registra/access"
	"golang.org/x/crypto/argon2"
)

// BenchmarkPassword compares HashPassword and VerifyPassword at the default
// parameters with the raw argon2.IDKey call they wrap.
func BenchmarkPassword(b *testing.B) {
	d := access.DefaultPasswordParams()
	salt := make([]byte, d.SaltLength)
	b.Run("raw_argon2id", func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey([]byte(goodPassword), salt, d.Iterations, d.Memory, d.Parallelism, d.KeyLength)
		}
	})
	b.Run("HashPassword", func(b *testing.B) {
		for b.Loop() {
			if _, err := access.HashPassword(goodPassword, access.PasswordParams{}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	h, err := access.HashPassword(goodPassword, access.PasswordParams{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("VerifyPassword", func(b *testing.B) {
		for b.Loop() {
			if ok, err := access.VerifyPassword(h, goodPassword); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

// BenchmarkPasscode compares a login's TOTP check (a window of three steps,
// replay check) with one raw pquerna/otp code computation. Passwords use the
// cheap test parameters so that the TOTP part shows.
func BenchmarkPasscode(b *testing.B) {
	a := newAuth(b, nil)
	op, secret := enrolled(b, a)
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	b.Run("raw_totp_code", func(b *testing.B) {
		for b.Loop() {
			if _, err := totp.GenerateCodeCustom(secret.Reveal(), base, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ConfirmTOTP_wrong_code", func(b *testing.B) {
		pending := access.ResetTOTP(op)
		pending, _, err := a.EnrollTOTP(pending)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			// A wrong code checks the whole window, the worst case.
			if _, err := a.ConfirmTOTP(pending, "000000", base.Add(time.Hour)); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

// BenchmarkSession measures opening and checking a session.
func BenchmarkSession(b *testing.B) {
	a := newAuth(b, nil)
	op := operator("rossi", "ACME", access.RoleRAO)
	b.Run("NewSession", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := a.NewSession(op, base); err != nil {
				b.Fatal(err)
			}
		}
	})
	tok, s, err := a.NewSession(op, base)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("CheckSession", func(b *testing.B) {
		for b.Loop() {
			if _, err := a.CheckSession(s, tok, base.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAuthorize measures the role-table lookup on every request.
func BenchmarkAuthorize(b *testing.B) {
	op := operator("rossi", "ACME", access.RoleMasterRAO)
	for b.Loop() {
		if err := access.Authorize(op, access.PermAuditRead, "ACME"); err != nil {
			b.Fatal(err)
		}
	}
}
