package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	httpapi "github.com/registra-pki/registra/adapters/http"
)

// draft is a minimal draft order for Mario Rossi.
func draft() map[string]any {
	return map[string]any{
		"product_type": "remote_signature",
		"method":       "offline",
		"applicant":    map[string]any{"tax_code": "RSSMRA85T10A562S", "first_name": "Mario", "surname": "Rossi"},
	}
}

// assertProblem checks an RFC 9457 answer.
func assertProblem(t *testing.T, r response, status int, slug string) {
	t.Helper()
	assert.Equalf(t, status, r.status, "%s", r.raw)
	assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	assert.Equalf(t, httpapi.ProblemTypeBase+slug, r.body["type"], "%s", r.raw)
	assert.EqualValues(t, status, r.body["status"])
	assert.NotEmpty(t, r.body["title"])
}

// TestRefusals is issue #10's acceptance 2: another organisation's objects
// are not found, a missing or expired token is 401, a role without the
// permission 403, and malformed JSON, unknown fields and oversized bodies
// 400/413 problem details; none of them changes anything.
func TestRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.org("OTHER")
	rao := e.operator(demoOrg, demoUnit, "rao1", "rao")
	clerk := e.operator(demoOrg, demoUnit, "clerk1", "operator")
	foreign := e.operator("OTHER", demoUnit, "rao2", "rao")

	created := e.do(http.MethodPost, "/v1/orders", rao, draft())
	require.Equalf(t, http.StatusCreated, created.status, "%s", created.raw)
	id := created.body["id"].(string)
	etag := created.header.Get("ETag")
	operators := e.do(http.MethodGet, "/v1/operators", e.admin, nil)
	require.Equal(t, http.StatusOK, operators.status)

	unchanged := func(t *testing.T) {
		t.Helper()
		o := e.do(http.MethodGet, "/v1/orders/"+id, rao, nil)
		require.Equal(t, http.StatusOK, o.status)
		assert.Equal(t, created.raw, o.raw, "the order changed")
		assert.Equal(t, operators.raw, e.do(http.MethodGet, "/v1/operators", e.admin, nil).raw, "the operators changed")
	}

	t.Run("other organisation", func(t *testing.T) {
		assertProblem(t, e.do(http.MethodGet, "/v1/orders/"+id, foreign, nil), http.StatusNotFound, "not-found")
		assertProblem(t, e.send(http.MethodPut, "/v1/orders/"+id, foreign, "application/json",
			strings.NewReader(`{"product_type":"remote_signature","method":"offline","applicant":{"tax_code":"RSSMRA85T10A562S","first_name":"M","surname":"R"}}`),
			http.Header{"If-Match": {etag}}), http.StatusNotFound, "not-found")
		assertProblem(t, e.do(http.MethodPost, "/v1/orders/"+id+"/submit", foreign, nil), http.StatusNotFound, "not-found")
		assertProblem(t, e.do(http.MethodDelete, "/v1/orders/"+id, foreign, nil), http.StatusNotFound, "not-found")
		assertProblem(t, e.do(http.MethodGet, "/v1/orders/o-does-not-exist", rao, nil), http.StatusNotFound, "not-found")
		unchanged(t)
	})
	t.Run("unauthenticated", func(t *testing.T) {
		r := e.do(http.MethodGet, "/v1/orders/"+id, "", nil)
		assertProblem(t, r, http.StatusUnauthorized, "unauthenticated")
		assert.Equal(t, `Bearer realm="registra"`, r.header.Get("WWW-Authenticate"))
		assertProblem(t, e.do(http.MethodDelete, "/v1/orders/"+id, "not-a-token", nil), http.StatusUnauthorized, "authentication-failed")
		// The token is checked before the body is read.
		assertProblem(t, e.do(http.MethodPost, "/v1/orders", "", []byte(`{"broken`)), http.StatusUnauthorized, "unauthenticated")
		assertProblem(t, e.do(http.MethodPost, "/v1/sessions", "", map[string]string{"username": adminUser, "password": "wrong", "otp": "123456"}),
			http.StatusUnauthorized, "authentication-failed")
		unchanged(t)
	})
	t.Run("forbidden", func(t *testing.T) {
		assertProblem(t, e.do(http.MethodPost, "/v1/operators", clerk, map[string]any{"username": "intruder", "name": "X",
			"email": "x@registra.example", "roles": []string{"admin"}, "unit": demoUnit, "password": "a long enough password 123"}),
			http.StatusForbidden, "permission-denied")
		assertProblem(t, e.do(http.MethodPut, "/v1/organisations/"+demoOrg+"/units/second", rao, map[string]any{"name": "Second"}),
			http.StatusForbidden, "permission-denied")
		unchanged(t)
	})
	t.Run("bad bodies", func(t *testing.T) {
		for name, body := range map[string][]byte{
			"malformed json": []byte(`{"username": "x", `),
			"unknown field":  []byte(`{"username":"x","name":"X","email":"x@registra.example","roles":["operator"],"unit":"main","password":"a long enough password 123","is_admin":true}`),
			"wrong type":     []byte(`{"username":1,"name":"X","email":"x@registra.example","roles":["operator"],"unit":"main","password":"p"}`),
			"unknown role":   []byte(`{"username":"x","name":"X","email":"x@registra.example","roles":["god"],"unit":"main","password":"a long enough password 123"}`),
			"not an object":  []byte(`[]`),
		} {
			r := e.do(http.MethodPost, "/v1/operators", e.admin, body)
			assertProblem(t, r, http.StatusBadRequest, "invalid-request")
			assert.NotEmpty(t, r.body["errors"], name)
		}
		big := bytes.Repeat([]byte(" "), 17<<10)
		assertProblem(t, e.do(http.MethodPost, "/v1/operators", e.admin, append([]byte(`{"username":"x"}`), big...)),
			http.StatusRequestEntityTooLarge, "body-too-large")
		assertProblem(t, e.send(http.MethodPost, "/v1/orders", rao, "application/json",
			struct{ *bytes.Reader }{bytes.NewReader(append([]byte(`{"product_type":"x"}`), big...))}, nil), // no Content-Length
			http.StatusRequestEntityTooLarge, "body-too-large")
		assertProblem(t, e.send(http.MethodPost, "/v1/operators", e.admin, "application/x-www-form-urlencoded",
			strings.NewReader(`{"username":"x"}`), nil), http.StatusUnsupportedMediaType, "unsupported-media-type")
		// Library validation names the field.
		r := e.do(http.MethodPost, "/v1/operators", e.admin, map[string]any{"username": "bad name!", "name": "X",
			"email": "x@registra.example", "roles": []string{"operator"}, "unit": demoUnit, "password": "a long enough password 123"})
		assertProblem(t, r, http.StatusBadRequest, "invalid-input")
		unchanged(t)
	})
	t.Run("expired session", func(t *testing.T) {
		e.clock.Advance(25 * time.Hour)
		assertProblem(t, e.do(http.MethodGet, "/v1/sessions/current", clerk, nil), http.StatusUnauthorized, "session-expired")
	})
}

// busyGate refuses every password hash with registra.ErrBusy while busy is
// set, as the platform's own gate does when its queue is full.
type busyGate struct{ busy atomic.Bool }

func (g *busyGate) Enter(ctx context.Context) error {
	if g.busy.Load() {
		return fmt.Errorf("%w: test gate", registra.ErrBusy)
	}
	return ctx.Err()
}

func (g *busyGate) Leave() {}

// TestBusy: a login refused because too many password hashes are waiting
// is a 503 problem with Retry-After, and counts as no failed login.
func TestBusy(t *testing.T) {
	t.Parallel()
	g := &busyGate{}
	e := newEnvWith(t, nil, func(c *registra.Config) { c.Access.Gate = g })
	const pw = "a long enough password 123"
	r := e.do(http.MethodPost, "/v1/operators", e.admin, map[string]any{"org": demoOrg, "username": "ir1", "name": "Test IR",
		"email": "ir1@registra.example", "roles": []string{"ir"}, "unit": demoUnit, "password": pw})
	require.Equalf(t, http.StatusCreated, r.status, "%s", r.raw)
	secret := r.body["totp"].(map[string]any)["secret"].(string)

	g.busy.Store(true)
	for range access.DefaultMaxFailures + 1 {
		r = e.do(http.MethodPost, "/v1/sessions", "", map[string]string{"username": "ir1", "password": "wrong password, long enough", "otp": "000000"})
		assertProblem(t, r, http.StatusServiceUnavailable, "busy")
		assert.Equal(t, "1", r.header.Get("Retry-After"))
	}
	r = e.do(http.MethodPost, "/v1/enrolments", "", map[string]string{"username": "ir1", "password": pw, "otp": e.clock.code(t, secret)})
	assertProblem(t, r, http.StatusServiceUnavailable, "busy")
	g.busy.Store(false)

	c := e.do(http.MethodPost, "/v1/enrolments", "", map[string]string{"username": "ir1", "password": pw, "otp": e.clock.code(t, secret)})
	require.Equalf(t, http.StatusNoContent, c.status, "confirm: %s", c.raw)
	e.clock.Advance(30 * time.Second)
	e.login("ir1", pw, secret) // not locked by the refusals
}
