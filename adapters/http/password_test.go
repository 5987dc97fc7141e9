package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPasswords: an admin resets an operator's forgotten password (POST
// /v1/operators/{id}/password-reset), which ends the operator's sessions;
// the operator changes their own (PUT /v1/sessions/current/password) after
// giving the current one, which ends their sessions too. Refusals are
// problem details and change nothing.
func TestPasswords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const first, second, third = "a long enough password 123", "a second password 456", "a third password 789"
	r := e.do(http.MethodPost, "/v1/operators", e.admin, map[string]any{"org": demoOrg, "username": "ir1", "name": "Test IR",
		"email": "ir1@registra.example", "roles": []string{"ir"}, "unit": demoUnit, "password": first})
	require.Equalf(t, http.StatusCreated, r.status, "%s", r.raw)
	secret := r.body["totp"].(map[string]any)["secret"].(string)
	c := e.do(http.MethodPost, "/v1/enrolments", "", map[string]string{"username": "ir1", "password": first, "otp": e.clock.code(t, secret)})
	require.Equalf(t, http.StatusNoContent, c.status, "%s", c.raw)
	e.clock.Advance(30 * time.Second)
	token := e.login("ir1", first, secret)
	loginStatus := func(pw string) int {
		e.clock.Advance(30 * time.Second)
		return e.do(http.MethodPost, "/v1/sessions", "", map[string]string{"username": "ir1", "password": pw, "otp": e.clock.code(t, secret)}).status
	}
	whoami := func(tok string) int { return e.do(http.MethodGet, "/v1/sessions/current", tok, nil).status }

	// Refusals: not the caller's to reset, a password against the policy,
	// a wrong current password, an unknown field.
	assertProblem(t, e.do(http.MethodPost, "/v1/operators/"+adminUser+"/password-reset", token, map[string]string{"password": second}),
		http.StatusForbidden, "permission-denied")
	assertProblem(t, e.do(http.MethodPost, "/v1/operators/ir1/password-reset", e.admin, map[string]string{"password": "short"}),
		http.StatusBadRequest, "invalid-input")
	assertProblem(t, e.do(http.MethodPut, "/v1/sessions/current/password", token,
		map[string]string{"current_password": "not my password at all", "new_password": second}), http.StatusUnauthorized, "authentication-failed")
	assertProblem(t, e.do(http.MethodPut, "/v1/sessions/current/password", token,
		map[string]string{"current_password": first, "new_password": second, "colour": "blue"}), http.StatusBadRequest, "invalid-request")
	assert.Equal(t, http.StatusOK, whoami(token), "refusals end no session")

	// The operator changes their password: every session ends.
	r = e.do(http.MethodPut, "/v1/sessions/current/password", token, map[string]string{"current_password": first, "new_password": second})
	require.Equalf(t, http.StatusNoContent, r.status, "%s", r.raw)
	assert.Equal(t, http.StatusUnauthorized, whoami(token))
	assert.Equal(t, http.StatusUnauthorized, loginStatus(first))
	token = e.login("ir1", second, secret)

	// The admin resets it: every session ends, the new password logs in.
	r = e.do(http.MethodPost, "/v1/operators/ir1/password-reset", e.admin, map[string]string{"password": third})
	require.Equalf(t, http.StatusNoContent, r.status, "%s", r.raw)
	assert.Equal(t, http.StatusUnauthorized, whoami(token))
	assert.Equal(t, http.StatusUnauthorized, loginStatus(second))
	assert.Equal(t, http.StatusOK, loginStatus(third))
}
