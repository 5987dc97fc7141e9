package httpapi_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra"
	httpapi "github.com/registra-pki/registra/adapters/http"
)

var update = flag.Bool("update", false, "rewrite openapi.json from the registered operations")

// goldenOpenAPI is the checked-in OpenAPI document. It is generated from
// the registered operations: go test ./adapters/http -run TestOpenAPI -update
const goldenOpenAPI = "openapi.json"

func openAPI(t *testing.T) (*httpapi.API, []byte) {
	t.Helper()
	p, err := registra.Open(context.Background(), cheapConfig(t.TempDir()))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	api, err := httpapi.New(httpapi.Config{Platform: p})
	require.NoError(t, err)
	doc, err := api.OpenAPI()
	require.NoError(t, err)
	return api, doc
}

// TestOpenAPI checks the checked-in document against the registered
// operations and the served one, and that every operation it lists is
// routed: without a token, secured ones answer 401 and public ones refuse
// the empty body, never 404 or 405.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	api, doc := openAPI(t)
	if *update {
		require.NoError(t, os.WriteFile(goldenOpenAPI, doc, 0o644))
	}
	golden, err := os.ReadFile(goldenOpenAPI)
	require.NoError(t, err)
	assert.JSONEq(t, string(golden), string(doc), "openapi.json is stale: go test ./adapters/http -run TestOpenAPI -update")

	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, string(golden), rec.Body.String(), "the served document differs")

	var d struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(golden, &d))
	assert.Equal(t, "3.1.0", d.OpenAPI)
	param := regexp.MustCompile(`\{[^}]+\}`)
	n := 0
	for path, ops := range d.Paths {
		for method, op := range ops {
			n++
			target := param.ReplaceAllString(path, "x")
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, httptest.NewRequest(strings.ToUpper(method), target, nil))
			assert.NotContainsf(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, rec.Code, "%s %s is not routed", method, path)
			if len(op.Security) > 0 {
				assert.Equalf(t, http.StatusUnauthorized, rec.Code, "%s %s without a token", method, path)
			}
		}
	}
	assert.GreaterOrEqual(t, n, 25, "operations in the document")
}
