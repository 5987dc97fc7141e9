package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/recognition"
)

// TestRecognitionRequirements serves each method's requirements from
// package recognition, and refuses an unknown method.
func TestRecognitionRequirements(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, m := range recognition.Methods() {
		r := e.do(http.MethodGet, "/v1/recognition-methods/"+m.String(), e.admin, nil)
		require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
		req := m.Requirements()
		assert.Len(t, r.body["steps"], len(req.Steps), m.String())
		assert.Equal(t, req.UsageLimited, r.body["usage_limited"], m.String())
	}
	assertProblem(t, e.do(http.MethodGet, "/v1/recognition-methods/telepathy", e.admin, nil), http.StatusBadRequest, "invalid-request")
}
