package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/cli"
)

// update rewrites the golden files: go test ./adapters/cli -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(p, []byte(got), 0o644))
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

// TestGoldenCRLShow pins what people read from `registra crl show`: the
// CRL of testCRL (fixed dates, numbers and serials), summarised and listed.
// testdata/crl-show.golden and crl-show-delta.golden were made with
// `go test ./adapters/cli -run TestGoldenCRLShow -update` and read against
// the entries testCRL puts in the CRLs.
func TestGoldenCRLShow(t *testing.T) {
	t.Parallel()
	for name, delta := range map[string]bool{"crl-show.golden": false, "crl-show-delta.golden": true} {
		der, _ := testCRL(t, delta)
		r := run(t, cli.Config{}, "", "crl", "show", writeFile(t, "issuing.crl", der), "--entries")
		require.Equal(t, cli.ExitOK, r.code, r.stderr)
		golden(t, name, r.stdout)
	}
}
