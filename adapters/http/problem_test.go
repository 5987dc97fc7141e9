package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/internal/testutil"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// sentinelPackages are the directories, relative to this package, whose
// exported Err* variables the problem table must cover: the root package and
// every building block (STYLE §2.6).
var sentinelPackages = []string{"../..", "../../ca", "../../lifecycle", "../../access", "../../store", "../../crl", "../../envelope", "../../recognition"}

// TestProblemTableComplete fails when an exported sentinel of the root
// package or of a building block has no row in the problem table.
func TestProblemTableComplete(t *testing.T) {
	t.Parallel()
	rows := map[string]Problem{}
	for _, p := range problemTable {
		rows[p.Err.Error()] = p
	}
	total := 0
	for _, dir := range sentinelPackages {
		require.DirExists(t, dir)
		for _, s := range testutil.Sentinels(t, dir) {
			total++
			p, ok := rows[s.Msg]
			if assert.Truef(t, ok, "%s.%s (%q) has no row in problemTable", s.Pkg, s.Name, s.Msg) {
				assert.NotZero(t, p.Status)
				assert.NotEqual(t, http.StatusUnprocessableEntity, p.Status, "%s.%s: this API never answers 422", s.Pkg, s.Name)
			}
		}
	}
	assert.Greater(t, total, 50, "the parser found too few sentinels: is sentinelPackages right?")
}

// TestProblemTableRows checks every row is well formed and each sentinel has
// one row only.
func TestProblemTableRows(t *testing.T) {
	t.Parallel()
	seen := map[error]bool{}
	slugs := map[string]Problem{}
	for _, p := range problemTable {
		require.NotNil(t, p.Err)
		assert.Falsef(t, seen[p.Err], "%v: two rows", p.Err)
		seen[p.Err] = true
		assert.NotEmpty(t, http.StatusText(p.Status), "%v", p.Err)
		assert.Regexp(t, `^[a-z]+(-[a-z]+)*$`, p.Slug)
		if q, ok := slugs[p.Slug]; ok {
			// One type, one status and title (RFC 9457 §3.1.3).
			assert.Equalf(t, q.Status, p.Status, "slug %s", p.Slug)
			assert.Equalf(t, q.Title, p.Title, "slug %s", p.Slug)
		}
		slugs[p.Slug] = p
	}
}

func TestNewProblem(t *testing.T) {
	t.Parallel()
	check := &recognition.CheckError{Check: recognition.CheckName("certificate.status"), Kind: recognition.ErrRevoked, Detail: "serial 12 revoked"}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantSlug   string
		wantFields []string
	}{
		{"wrapped not found", fmt.Errorf("getting order: %w", store.ErrNotFound), 404, "not-found", nil},
		{"field error", &access.FieldError{Field: "operator.username", Rule: "is required"}, 400, "invalid-input", []string{"operator.username"}},
		{"joined field errors", errors.Join(&access.FieldError{Field: "a", Rule: "r"}, &store.FieldError{Field: "b", Rule: "r"}), 400, "invalid-input", []string{"a", "b"}},
		{"permission", &lifecycle.PermissionError{}, 403, "permission-denied", nil},
		{"suggestion", &registra.FieldError{Field: "applicant.email", Rule: "is used", Suggestion: "a+1@example.org"}, 400, "invalid-input", []string{"applicant.email"}},
		{"transition", fmt.Errorf("x: %w", lifecycle.ErrTransition), 409, "transition-not-allowed", nil},
		{"narrow check before verification", check, 400, "certificate-revoked", nil},
		{"session expired before authentication", fmt.Errorf("%w: %w", access.ErrAuthentication, access.ErrSessionExpired), 401, "session-expired", nil},
		{"unknown error is internal", errors.New("disk on fire at /var/secret"), 500, "internal", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, m := newProblem(tc.err)
			assert.Equal(t, tc.wantStatus, p.Status)
			assert.Equal(t, ProblemTypeBase+tc.wantSlug, m.Type)
			assert.Equal(t, tc.wantStatus, m.Status)
			var fields []string
			for _, d := range m.Errors {
				fields = append(fields, d.Location)
			}
			assert.Equal(t, tc.wantFields, fields)
			if fe, ok := tc.err.(*registra.FieldError); ok {
				assert.Equal(t, fe.Suggestion, m.Errors[0].Value)
			}
			if tc.wantStatus >= 500 {
				assert.NotContains(t, m.Detail, "secret", "internal details are logged, not answered")
			}
		})
	}
}
