package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/internal/testutil"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// sentinelPackages are the directories, relative to this package, whose
// exported Err* variables the exit-code table must cover: the root package,
// the building blocks and this package (STYLE §2.6).
var sentinelPackages = []string{".", "../..", "../../ca", "../../lifecycle", "../../access", "../../store", "../../crl",
	"../../envelope", "../../recognition"}

// TestExitTableComplete fails when an exported sentinel of the root package,
// of a building block or of this package has no row in the exit table.
func TestExitTableComplete(t *testing.T) {
	t.Parallel()
	rows := map[string]exitRow{}
	for _, r := range exitTable {
		rows[r.err.Error()] = r
	}
	total := 0
	for _, dir := range sentinelPackages {
		require.DirExists(t, dir)
		for _, s := range testutil.Sentinels(t, dir) {
			total++
			r, ok := rows[s.Msg]
			if assert.Truef(t, ok, "%s.%s (%q) has no row in exitTable", s.Pkg, s.Name, s.Msg) {
				assert.Contains(t, []int{ExitRefused, ExitUsage, ExitUnreachable}, r.code, "%s.%s", s.Pkg, s.Name)
			}
		}
	}
	assert.Greater(t, total, 60, "the parser found too few sentinels: is sentinelPackages right?")
}

// TestExitTableRows checks each sentinel has one row.
func TestExitTableRows(t *testing.T) {
	t.Parallel()
	seen := map[error]bool{}
	for _, r := range exitTable {
		require.NotNil(t, r.err)
		assert.Falsef(t, seen[r.err], "%v: two rows", r.err)
		seen[r.err] = true
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"usage", usagef("--until: bad"), ExitUsage},
		{"unreachable", &UnreachableError{URL: "https://x", Err: errors.New("connection refused")}, ExitUnreachable},
		{"gateway problem", &ProblemError{Status: 503, Title: "Service Unavailable"}, ExitUnreachable},
		{"problem", &ProblemError{Status: 409, Title: "Transition not allowed"}, ExitRefused},
		{"wrapped transition", fmt.Errorf("suspend: %w", lifecycle.ErrTransition), ExitRefused},
		{"platform error", &registra.Error{Op: "issue", Kind: registra.ErrPermission}, ExitRefused},
		{"wrong passphrase", fmt.Errorf("opening: %w", envelope.ErrWrongPassphrase), ExitRefused},
		{"broken chain", &store.AuditChainError{Seq: 3, Reason: "hash"}, ExitRefused},
		{"unknown", errors.New("disk full"), ExitRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, ExitCode(tc.err))
		})
	}
}

func TestProblemErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    *ProblemError
		want string
	}{
		{"title and detail", &ProblemError{Status: 409, Title: "Transition not allowed", Detail: "registra: suspend: product is revoked"},
			"transition not allowed (409): registra: suspend: product is revoked"},
		{"fields", &ProblemError{Status: 400, Title: "Invalid input", Detail: "applicant.email: is used",
			Errors: []ProblemField{{Location: "applicant.email", Message: "is used"}, {Location: "applicant.mobile", Message: "is not E.164"}}},
			"invalid input (400): applicant.email: is used [applicant.mobile: is not E.164]"},
		{"no title", &ProblemError{Status: 502}, "bad gateway (502)"},
		{"multi-line detail", &ProblemError{Status: 400, Title: "Bad Request", Detail: "line one\n  line two"},
			"bad request (400): line one line two"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.p.Error())
			assert.NotContains(t, tc.p.Error(), "\n")
		})
	}
}

func TestDecodeProblem(t *testing.T) {
	t.Parallel()
	p := decodeProblem(404, []byte(`{"type":"tag:x:not-found","title":"Not found","status":404,"detail":"registra: not found"}`))
	assert.Equal(t, "not found (404): registra: not found", p.Error())
	assert.ErrorIs(t, p, ErrRefused)
	p = decodeProblem(502, []byte("<html>bad gateway</html>"))
	assert.Equal(t, "bad gateway (502)", p.Error())
	assert.ErrorIs(t, p, ErrUnreachable)
}
