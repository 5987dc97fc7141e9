package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "github.com/registra-pki/registra/adapters/http"
)

// FuzzOrderBody sends arbitrary bodies to POST /v1/orders: the API answers
// 201 or a problem of the caller's making (400, 409, 413), never a server
// error, whatever the bytes. The seed corpus is in
// testdata/fuzz/FuzzOrderBody.
func FuzzOrderBody(f *testing.F) {
	e := newEnv(f)
	token := e.operator(demoOrg, demoUnit, "rao1", "rao")
	f.Add([]byte(`{"product_type":"remote_signature","method":"offline","applicant":{"tax_code":"RSSMRA85T10A562S","first_name":"Mario","surname":"Rossi"}}`))
	f.Add([]byte(`{"product_type":"remote_signature","method":"offline","applicant":{"tax_code":"RSSMRA85T10A562S","first_name":"Mario","surname":"Rossi","birth_date":"1985-13-40"}}`))
	f.Add([]byte(`{"applicant":{}}`))
	f.Add([]byte(`{"product_type":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := e.sendAs(t, http.MethodPost, "/v1/orders", token, "application/json", bytes.NewReader(body), nil)
		assert.Containsf(t, []int{http.StatusCreated, http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge},
			r.status, "%q -> %s", body, r.raw)
		if r.status != http.StatusCreated {
			assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			typ, _ := r.body["type"].(string)
			assert.True(t, strings.HasPrefix(typ, httpapi.ProblemTypeBase), "problem type %q", typ)
		}
	})
}

// lockedBuffer is a log destination safe for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoSecretsLogged logs everything at debug level through logins,
// refusals and operator creation, and checks that no password, TOTP code,
// TOTP secret or session token reaches the log.
func TestNoSecretsLogged(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	e := newEnvLogged(t, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	const wrong = "hunter2-wrong-password-xyz"
	bad := e.do(http.MethodPost, "/v1/sessions", "", map[string]string{"username": adminUser, "password": wrong, "otp": "123456"})
	require.Equal(t, http.StatusUnauthorized, bad.status)
	token := e.operator(demoOrg, demoUnit, "rao1", "rao")
	r := e.do(http.MethodPost, "/v1/operators", e.admin, map[string]any{"username": "op2", "name": "Op", "email": "op2@registra.example",
		"roles": []string{"operator"}, "unit": demoUnit, "password": "another long password 456"})
	require.Equal(t, http.StatusCreated, r.status)
	secret := r.body["totp"].(map[string]any)["secret"].(string)
	logs := buf.String()
	require.NotEmpty(t, logs)
	for _, s := range []string{wrong, adminPass, "a long enough password 123", "another long password 456", token, e.admin, secret} {
		assert.NotContains(t, logs, s)
	}
}
