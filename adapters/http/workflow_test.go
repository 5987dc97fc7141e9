package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProductActions drives an issued product through the API: issue,
// search and the shortcut lists, suspend, reactivate, resend the envelope,
// download it, revoke; and checks a refused transition changes nothing.
func TestProductActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.operator(demoOrg, demoUnit, "rao1", "rao")
	actor, err := e.p.Authenticate(context.Background(), token)
	require.NoError(t, err)
	ids := e.toIssue(t, actor, 0, 2)

	list := func(name string) int {
		r := e.do(http.MethodGet, "/v1/lists/"+name, token, nil)
		require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
		return len(r.body["hits"].([]any))
	}
	assert.Equal(t, 2, list("to_issue"))

	r := e.do(http.MethodPost, "/v1/orders/"+ids[0]+"/issue", token, map[string]any{"passphrase": map[string]any{"use_tax_code": true}})
	require.Equalf(t, http.StatusCreated, r.status, "%s", r.raw)
	id := r.body["id"].(string)
	assert.Equal(t, "active", r.body["status"])
	assert.True(t, strings.HasPrefix(r.body["certificates"].([]any)[0].(map[string]any)["pem"].(string), "-----BEGIN CERTIFICATE-----"))
	assert.Equal(t, 1, list("active"))
	assert.Equal(t, 1, list("to_issue"))

	// Search by a filter, and by personal data (three filters at least).
	iut := e.do(http.MethodGet, "/v1/orders/"+ids[0], token, nil).body["iut"].(string)
	r = e.do(http.MethodGet, "/v1/search?iut="+iut, token, nil)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	require.Len(t, r.body["hits"], 1)
	assert.Equal(t, ids[0], r.body["hits"].([]any)[0].(map[string]any)["order_id"])
	assertProblem(t, e.do(http.MethodGet, "/v1/search?personal_data=true&iut="+iut, token, nil), http.StatusBadRequest, "invalid-input")
	assertProblem(t, e.do(http.MethodGet, "/v1/search?colour=blue", token, nil), http.StatusBadRequest, "invalid-request")

	// A custom passphrase typed twice must match.
	assertProblem(t, e.do(http.MethodPost, "/v1/products/"+id+"/envelope-resend", token,
		map[string]any{"passphrase": map[string]any{"custom": "a long passphrase 1", "confirm": "another passphrase 2"}}), http.StatusBadRequest, "invalid-input")
	r = e.do(http.MethodPost, "/v1/products/"+id+"/envelope-resend", token,
		map[string]any{"passphrase": map[string]any{"custom": "a long passphrase 1", "confirm": "a long passphrase 1"}})
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	envs := r.body["envelopes"].([]any)
	require.NotEmpty(t, envs)
	last := envs[len(envs)-1].(map[string]any)
	env := e.send(http.MethodGet, "/v1/products/"+id+"/envelopes/"+last["id"].(string), token, "", nil, nil)
	require.Equalf(t, http.StatusOK, env.status, "%s", env.raw)
	assert.NotEmpty(t, env.raw)

	end := e.clock.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	r = e.do(http.MethodPost, "/v1/products/"+id+"/suspend", token, map[string]any{"end": end, "notes": "holder request",
		"contract": []byte("%PDF-1.7 suspension contract")})
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "suspended", r.body["status"])
	require.NotNil(t, r.body["suspension"])

	// Suspending twice is refused, and changes nothing.
	before := e.do(http.MethodGet, "/v1/products/"+id, token, nil)
	assertProblem(t, e.do(http.MethodPost, "/v1/products/"+id+"/suspend", token, map[string]any{"end": end, "contract": []byte("x")}),
		http.StatusConflict, "transition-not-allowed")
	assert.Equal(t, before.raw, e.do(http.MethodGet, "/v1/products/"+id, token, nil).raw)

	r = e.do(http.MethodPost, "/v1/products/"+id+"/reactivate", token, map[string]any{"publication": "immediate"})
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "active", r.body["status"])

	r = e.do(http.MethodPost, "/v1/products/"+id+"/revoke", token, map[string]any{"requester": "owner", "motivation": "contract_withdrawal"})
	assertProblem(t, r, http.StatusBadRequest, "invalid-input") // the withdrawn contract is required
	r = e.do(http.MethodPost, "/v1/products/"+id+"/revoke", token, map[string]any{"requester": "owner", "motivation": "contract_withdrawal",
		"contract": []byte("%PDF-1.7 withdrawal")})
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "revoked", r.body["status"])
	rev := r.body["revocation"].(map[string]any)
	assert.Equal(t, "contract_withdrawal", rev["motivation"])
	assert.Equal(t, 1, list("revoked"))
}
