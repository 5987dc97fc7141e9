package access_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/registra-pki/registra/access"
)

// A master RAO manages their organisation's operators and nothing outside it;
// an admin manages units of every organisation but reads no one's orders.
func ExampleAuthorize() {
	master := access.Operator{ID: "bianchi", Org: "ACME", Roles: []access.Role{access.RoleMasterRAO}}
	admin := access.Operator{ID: "root", Org: "PROVIDER", Roles: []access.Role{access.RoleAdmin}}

	fmt.Println(access.Authorize(master, access.PermOperatorManage, "ACME"))
	fmt.Println(access.Authorize(master, access.PermOrderRead, "OTHER"))
	fmt.Println(access.Authorize(admin, access.PermUnitManage, "ACME"))
	fmt.Println(errors.Is(access.Authorize(admin, access.PermOrderRead, "ACME"), access.ErrPermission))
	// Output:
	// <nil>
	// access: bianchi: order.read in organisation "OTHER": resource belongs to another organisation
	// <nil>
	// true
}

// An operator sets a password, enrols an authenticator app, logs in with a
// code, and cannot log in again with the same code.
func ExampleAuthenticator_Authenticate() {
	a, err := access.NewAuthenticator(access.Config{
		Issuer:   "registra",
		Password: access.PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1}, // cheap, for the example
		Rand:     rand.NewChaCha8([32]byte{}),
	})
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	op := access.Operator{ID: "op-1", Username: "rossi", Org: "ACME", Units: []string{"milano"},
		Roles: []access.Role{access.RoleRAO}}
	ctx := context.Background()

	op, err = a.SetPassword(ctx, op, "correct horse battery staple")
	if err != nil {
		panic(err)
	}
	op, enr, err := a.EnrollTOTP(op)
	if err != nil {
		panic(err)
	}
	fmt.Println("show as QR code:", enr.URI) // redacted when printed

	// The authenticator app computes the code from the secret.
	appCode := func(at time.Time) access.Passcode {
		c, err := totp.GenerateCode(enr.Secret.Reveal(), at)
		if err != nil {
			panic(err)
		}
		return access.Passcode(c)
	}
	op, err = a.ConfirmTOTP(op, appCode(now), now)
	fmt.Println("enrolled:", err == nil)

	later := now.Add(time.Minute)
	op, err = a.Authenticate(ctx, op, "correct horse battery staple", appCode(later), later)
	fmt.Println("logged in:", err == nil)
	tok, sess, err := a.NewSession(op, later)
	if err != nil {
		panic(err)
	}
	fmt.Println("session until", sess.Expires.Format(time.RFC3339), "token", tok)

	_, err = a.Authenticate(ctx, op, "correct horse battery staple", appCode(later), later.Add(5*time.Second))
	var ae *access.AuthError
	fmt.Println(errors.As(err, &ae), ae.Failure)
	// Output:
	// show as QR code: [REDACTED]
	// enrolled: true
	// logged in: true
	// session until 2026-03-02T17:31:00Z token [REDACTED]
	// true replay
}
