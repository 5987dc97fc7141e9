package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/cli"
)

// fakeAPI is a hand-written stand-in for the operator API: it records the
// requests and answers from a table of canned responses by method and path.
type fakeAPI struct {
	mu       sync.Mutex
	requests []recorded
	answers  map[string]answer
}

type recorded struct {
	method, path, query, auth, ifMatch, body string
}

type answer struct {
	status int
	body   string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body) //nolint:errcheck // test server
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("If-Match"), string(b)})
	a, ok := f.answers[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok {
		a = answer{404, `{"title":"Not Found","status":404,"detail":"no route"}`}
	}
	ct := "application/json"
	if a.status >= 400 {
		ct = "application/problem+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body) //nolint:errcheck // test server
}

func (f *fakeAPI) last() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

// loggedIn starts api and logs in against it, returning the configuration
// to run client commands with.
func loggedIn(t *testing.T, api *fakeAPI) (cli.Config, *httptest.Server) {
	t.Helper()
	api.answers["POST /v1/sessions"] = answer{201, `{"token":"tok-123","expires_at":"2026-12-03T20:00:00Z","operator":{"id":"rao1","org":"DEMO","roles":["rao"]}}`}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	cfg := cli.Config{ConfigDir: t.TempDir()}
	r := run(t, cfg, "secret password\n123456\n", "login", "--server", srv.URL, "--username", "rao1")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "logged in to "+srv.URL+" as rao1 (DEMO, rao)")
	var body map[string]string
	require.NoError(t, json.Unmarshal([]byte(api.last().body), &body))
	assert.Equal(t, map[string]string{"username": "rao1", "password": "secret password", "otp": "123456"}, body)
	return cfg, srv
}

func TestLoginKeepsTheToken(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, srv := loggedIn(t, api)
	file := filepath.Join(cfg.ConfigDir, cli.SessionFile)
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Contains(t, string(b), srv.URL)

	api.answers["GET /v1/sessions/current"] = answer{200, `{"id":"rao1","org":"DEMO","roles":["rao"]}`}
	r := run(t, cfg, "", "whoami")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Equal(t, "Bearer tok-123", api.last().auth)
	assert.Contains(t, r.stdout, "rao1")

	api.answers["DELETE /v1/sessions/current"] = answer{204, ""}
	r = run(t, cfg, "", "logout")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.NoFileExists(t, file)
}

func TestProblemDetailsAreOneLine(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, _ := loggedIn(t, api)
	api.answers["POST /v1/orders/o-1/submit"] = answer{400, `{"type":"tag:registra-pki.github.io,2026:problem:invalid-input",
		"title":"Invalid input","status":400,"detail":"registra: applicant.privacy_consent: is required",
		"errors":[{"location":"applicant.privacy_consent","message":"is required"},{"location":"applicant.mobile","message":"is not E.164"}]}`}
	r := run(t, cfg, "", "order", "submit", "o-1")
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Equal(t, "registra: invalid input (400): registra: applicant.privacy_consent: is required [applicant.mobile: is not E.164]\n", r.stderr)
	assert.Empty(t, r.stdout)

	api.answers["GET /v1/orders/o-2"] = answer{503, "<html>down for maintenance</html>"}
	r = run(t, cfg, "", "order", "get", "o-2")
	assert.Equal(t, cli.ExitUnreachable, r.code, "a gateway error means the platform cannot be reached")
	assert.Equal(t, "registra: service unavailable (503)\n", r.stderr)
}

func TestJSONIsTheServersAnswer(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, _ := loggedIn(t, api)
	api.answers["GET /v1/search"] = answer{200, `{"hits":[{"order_id":"o-1","status":"active","product_type":"remote_signature","future_field":7}],"next":"c2"}`}
	r := run(t, cfg, "", "search", "--status", "active", "--tax-code", "RSSMRA80A01H501U", "--activated-from", "2026-01-01", "--limit", "1", "--json")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.JSONEq(t, `{"hits":[{"order_id":"o-1","status":"active","product_type":"remote_signature","future_field":7}],"next":"c2"}`, r.stdout)
	assert.Equal(t, "activated_from=2026-01-01&limit=1&status=active&tax_code=RSSMRA80A01H501U", api.last().query)

	r = run(t, cfg, "", "search", "--status", "active")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "o-1")
	assert.Contains(t, r.stdout, "more with --cursor c2")
}

func TestSearchAllFollowsPages(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, srv := loggedIn(t, api)
	// The fake answers by path only: page two is served from a second path
	// by a small handler in front of it.
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/lists/to_identify" {
			switch r.URL.Query().Get("cursor") {
			case "":
				_, _ = io.WriteString(w, `{"hits":[{"order_id":"o-1"},{"order_id":"o-2"}],"next":"p2"}`) //nolint:errcheck // test
			case "p2":
				_, _ = io.WriteString(w, `{"hits":[{"order_id":"o-3"}]}`) //nolint:errcheck // test
			}
			return
		}
		api.ServeHTTP(w, r)
	})
	r := run(t, cfg, "", "search", "--list", "to_identify", "--all", "--json")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	var page struct {
		Hits []struct {
			OrderID string `json:"order_id"`
		} `json:"hits"`
		Next string `json:"next"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &page))
	require.Len(t, page.Hits, 3)
	assert.Equal(t, "o-3", page.Hits[2].OrderID)
	assert.Empty(t, page.Next)
}

func TestOrderUpdateSendsTheVersionRead(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, _ := loggedIn(t, api)
	api.answers["GET /v1/orders/o-1"] = answer{200, `{"id":"o-1","status":"draft","version":7,
		"input":{"product_type":"remote_signature","method":"offline","applicant":{"tax_code":"RSSMRA80A01H501U","first_name":"Mario","surname":"Rossi"}}}`}
	api.answers["PUT /v1/orders/o-1"] = answer{200, `{"id":"o-1","status":"draft","version":8}`}
	r := run(t, cfg, "", "order", "update", "o-1", "--mobile", "+393331234567", "--privacy-consent")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	put := api.last()
	assert.Equal(t, `"7"`, put.ifMatch)
	var in struct {
		ProductType string `json:"product_type"`
		Applicant   struct {
			TaxCode        string `json:"tax_code"`
			Mobile         string `json:"mobile"`
			PrivacyConsent bool   `json:"privacy_consent"`
		} `json:"applicant"`
	}
	require.NoError(t, json.Unmarshal([]byte(put.body), &in))
	assert.Equal(t, "remote_signature", in.ProductType, "fields not given are kept")
	assert.Equal(t, "RSSMRA80A01H501U", in.Applicant.TaxCode)
	assert.Equal(t, "+393331234567", in.Applicant.Mobile)
	assert.True(t, in.Applicant.PrivacyConsent)
}

func TestOrderImport(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, srv := loggedIn(t, api)
	n := 0
	var mu sync.Mutex
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/orders" {
			b, _ := io.ReadAll(r.Body) //nolint:errcheck // test
			if strings.Contains(string(b), "BADCODE") {
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"title":"Invalid input","status":400,"detail":"registra: applicant.tax_code: bad checksum"}`) //nolint:errcheck // test
				return
			}
			mu.Lock()
			n++
			id := n
			mu.Unlock()
			w.WriteHeader(201)
			_, _ = io.WriteString(w, `{"id":"o-`+string(rune('0'+id))+`","status":"draft"}`) //nolint:errcheck // test
			return
		}
		api.ServeHTTP(w, r)
	})
	lines := `{"product_type":"remote_signature","method":"offline","applicant":{"tax_code":"RSSMRA80A01H501U","first_name":"Mario","surname":"Rossi"}}
{"product_type":"remote_signature","method":"offline","applicant":{"tax_code":"BADCODE","first_name":"Anna","surname":"Verdi"}}
{"product_type":"remote_signature","method":"offline","applicant":{"tax_code":"VRDNNA80A41H501X","first_name":"Anna","surname":"Verdi"}}
`
	r := run(t, cfg, lines, "order", "import", "-", "--json")
	assert.Equal(t, cli.ExitRefused, r.code, "one line was refused")
	var res []struct {
		Line  int    `json:"line"`
		Order string `json:"order"`
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	require.Len(t, res, 3)
	assert.Equal(t, "o-1", res[0].Order)
	assert.Contains(t, res[1].Error, "bad checksum")
	assert.Equal(t, "o-2", res[2].Order)
	assert.Contains(t, r.stderr, "1 of 3 lines refused")
}

func TestServerUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	r := run(t, cli.Config{}, "pw\n123456\n", "login", "--server", srv.URL, "--username", "rao1")
	assert.Equal(t, cli.ExitUnreachable, r.code)
	assert.Contains(t, r.stderr, "cannot reach "+srv.URL)
}

func TestOperatorAdmin(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, _ := loggedIn(t, api)
	api.answers["PATCH /v1/operators/op7"] = answer{200, `{"id":"op7","name":"Op Seven","roles":["ir"],"disabled":true}`}
	r := run(t, cfg, "", "operator", "update", "op7", "--disable", "--role", "ir")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.JSONEq(t, `{"roles":["ir"],"disabled":true}`, api.last().body, "only what the flags name")

	api.answers["POST /v1/operators/op7/totp-reset"] = answer{200, `{"secret":"JBSWY3DPEHPK3PXP","uri":"otpauth://totp/registra:op7?secret=JBSWY3DPEHPK3PXP"}`}
	r = run(t, cfg, "", "operator", "reset-totp", "op7")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "JBSWY3DPEHPK3PXP")

	r = run(t, cfg, "", "operator", "update", "op7")
	assert.Equal(t, cli.ExitUsage, r.code)
	assert.Contains(t, r.stderr, "nothing to change")
	r = run(t, cfg, "", "org", "create", "ACME", "--name", "Acme", "--unit", "main")
	assert.Equal(t, cli.ExitUsage, r.code)
	assert.Contains(t, r.stderr, "is not ID=NAME")
}

func TestExpiredSessionHint(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, _ := loggedIn(t, api)
	api.answers["GET /v1/sessions/current"] = answer{401, `{"title":"Session expired","status":401,"detail":"access: session expired"}`}
	r := run(t, cfg, "", "whoami")
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Equal(t, "registra: session expired (401): access: session expired\nRun 'registra login' to open a new session.\n", r.stderr)

	api.answers["POST /v1/sessions"] = answer{401, `{"title":"Authentication failed","status":401,"detail":"registra: unauthenticated"}`}
	r = run(t, cfg, "pw\n123456\n", "login", "--username", "rao1")
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Equal(t, "registra: login: authentication failed (401): registra: unauthenticated\n", r.stderr)
}

// TestPasswords: operator reset-password sends the new password (from
// standard input here) to the reset route; passwd sends the current and the
// new one, and forgets the session, which the server has ended; a refused
// change keeps it.
func TestPasswords(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{}}
	cfg, _ := loggedIn(t, api)
	file := filepath.Join(cfg.ConfigDir, cli.SessionFile)

	api.answers["POST /v1/operators/op7/password-reset"] = answer{204, ""}
	r := run(t, cfg, "a brand new password 456\n", "operator", "reset-password", "op7")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.JSONEq(t, `{"password":"a brand new password 456"}`, api.last().body)
	assert.Contains(t, r.stdout, "password of op7 reset")

	api.answers["PUT /v1/sessions/current/password"] = answer{401, `{"title":"Authentication failed","status":401,"detail":"registra: operator.change_password: access: authentication failed"}`}
	r = run(t, cfg, "wrong password here\nanother password 789\n", "passwd")
	assert.Equal(t, cli.ExitRefused, r.code)
	assert.Contains(t, r.stderr, "authentication failed")
	assert.FileExists(t, file, "a refused change keeps the session")

	api.answers["PUT /v1/sessions/current/password"] = answer{204, ""}
	r = run(t, cfg, "secret password\nanother password 789\n", "passwd", "--json")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.JSONEq(t, `{"current_password":"secret password","new_password":"another password 789"}`, api.last().body)
	assert.Equal(t, "Bearer tok-123", api.last().auth)
	assert.JSONEq(t, `{"changed":true}`, r.stdout)
	assert.NoFileExists(t, file, "the server ended every session")
}
