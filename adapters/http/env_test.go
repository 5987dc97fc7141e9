package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/access/accesstest"
	httpapi "github.com/registra-pki/registra/adapters/http"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// Credentials of the bootstrap admin of every test platform.
const (
	adminUser = "admin"
	adminPass = "correct horse battery staple"
	demoOrg   = "DEMO"
	demoUnit  = "main"
)

// clock is the platform's clock: the wall clock plus an offset tests move
// forward, so that each login uses a fresh TOTP step (a used step is
// refused) and sessions can be made to expire.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
func (c *clock) code(t testing.TB, secret string) string {
	t.Helper()
	c.Advance(31 * time.Second) // the next TOTP step
	code, err := totp.GenerateCode(secret, c.Now())
	require.NoError(t, err)
	return code
}

// env is a platform served by the API on a loopback test server.
type env struct {
	t      testing.TB
	clock  *clock
	p      *registra.Platform
	sealer *recognition.Sealer
	api    *httpapi.API
	srv    *httptest.Server
	admin  string // the admin's token
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvLogged(t, nil)
}

// newEnvLogged is newEnv with the API's and the platform's logs going to
// log.
func newEnvLogged(t testing.TB, log *slog.Logger) *env {
	t.Helper()
	return newEnvWith(t, log, nil)
}

// newEnvWith is newEnvLogged with edit applied to the platform's
// configuration before it is opened.
func newEnvWith(t testing.TB, log *slog.Logger, edit func(*registra.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, clock: &clock{}}
	cfg := cheapConfig(t.TempDir())
	cfg.Now = e.clock.Now
	cfg.Logger = log
	if edit != nil {
		edit(&cfg)
	}
	evca := recognitiontest.NewRoot(t, "Evidence Test CA", time.Now().AddDate(-1, 0, 0), time.Now().AddDate(10, 0, 0))
	cfg.EvidenceRoots = evca.Pool()
	evCert, evKey := evca.IssueEvidenceCert(t)
	sealer, err := recognition.NewSealer(recognition.SealerConfig{Certificate: evCert, Key: evKey, Chain: evca.Chain()})
	require.NoError(t, err)
	e.sealer = sealer
	p, err := registra.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	e.p = p
	enr, err := p.Bootstrap(ctx, registra.BootstrapInput{
		Organisation: registra.Organisation{ClientCode: demoOrg, Name: "Demo", Units: []registra.Unit{{ID: demoUnit, Name: "Main"}}},
		Admin: registra.OperatorInput{Username: adminUser, Name: "Admin", Email: "admin@registra.example",
			Roles: []access.Role{access.RoleAdmin}, Unit: demoUnit, Password: adminPass},
	})
	require.NoError(t, err)
	e.api, err = httpapi.New(httpapi.Config{Platform: p, MaxBodyBytes: 16 << 10, MaxUploadBytes: 1 << 20, Logger: log})
	require.NoError(t, err)
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	e.admin = e.login(adminUser, adminPass, enr.Secret.Reveal())
	return e
}

// login opens a session and returns its token.
func (e *env) login(user, pw, secret string) string {
	e.t.Helper()
	r := e.do(http.MethodPost, "/v1/sessions", "", map[string]string{"username": user, "password": pw, "otp": e.clock.code(e.t, secret)})
	require.Equalf(e.t, http.StatusOK, r.status, "login %s: %s", user, r.raw)
	return r.body["token"].(string)
}

// operator creates an operator with roles in org, confirms the enrolment
// and logs in, returning the token.
func (e *env) operator(org, unit, user string, roles ...string) string {
	e.t.Helper()
	const pw = "a long enough password 123"
	r := e.do(http.MethodPost, "/v1/operators", e.admin, map[string]any{"org": org, "username": user, "name": "Test " + user,
		"email": user + "@registra.example", "roles": roles, "unit": unit, "password": pw})
	require.Equalf(e.t, http.StatusCreated, r.status, "create operator: %s", r.raw)
	secret := r.body["totp"].(map[string]any)["secret"].(string)
	c := e.do(http.MethodPost, "/v1/enrolments", "", map[string]string{"username": user, "password": pw, "otp": e.clock.code(e.t, secret)})
	require.Equalf(e.t, http.StatusNoContent, c.status, "confirm: %s", c.raw)
	return e.login(user, pw, secret)
}

// org creates an organisation with one unit.
func (e *env) org(code string) {
	e.t.Helper()
	r := e.do(http.MethodPost, "/v1/organisations", e.admin, map[string]any{"client_code": code, "name": "Org " + code,
		"units": []map[string]string{{"id": demoUnit, "name": "Main"}}})
	require.Equalf(e.t, http.StatusCreated, r.status, "create organisation: %s", r.raw)
}

type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a JSON request (body may be a []byte sent as is) and decodes a
// JSON answer.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(j)
	}
	return e.send(method, path, token, "application/json", rd, nil)
}

func (e *env) send(method, path, token, contentType string, body io.Reader, header http.Header) response {
	e.t.Helper()
	return e.sendAs(e.t, method, path, token, contentType, body, header)
}

// sendAs is send reporting failures to t (a fuzz target's own T).
func (e *env) sendAs(t testing.TB, method, path, token, contentType string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && (res.Header.Get("Content-Type") == "application/json" || res.Header.Get("Content-Type") == "application/problem+json") {
		require.NoErrorf(t, json.Unmarshal(raw, &r.body), "%s", raw)
	}
	return r
}

// cheapConfig is a platform configuration with cheap password, vault and
// envelope parameters: tests measure behaviour, not key stretching.
func cheapConfig(dir string) registra.Config {
	return registra.Config{
		Dir:       dir,
		Access:    access.Config{Password: accesstest.CheapParams()},
		VaultHash: envelope.HashParams{Time: 1, MemoryKiB: 64, Threads: 1},
		CMS:       envelope.CMSConfig{Iterations: envelope.MinIterations},
	}
}
