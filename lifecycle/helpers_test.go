package lifecycle_test

import (
	"bufio"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/lifecycle/lifecycletest"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// base is the pinned "now" of the tests.
var base = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// notAfter is the notAfter of the fixtures' certificates.
var notAfter = base.AddDate(1, 0, 0)

// rolesGolden is package access's role table. lifecycle may not import
// access, so the table is read from the golden file access's own test keeps
// equal to its code.
const rolesGolden = "../access/testdata/roles.golden"

type role struct {
	name   string
	grants []lifecycle.Permission
}

// readRoles parses rolesGolden.
func readRoles(t *testing.T) []role {
	t.Helper()
	f, err := os.Open(rolesGolden)
	require.NoError(t, err)
	defer f.Close()
	var out []role
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		r := role{name: fields[0]}
		for _, p := range fields[1:] {
			r.grants = append(r.grants, lifecycle.Permission(p))
		}
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out)
	return out
}

// actors returns one actor per role, plus the holder and the system.
func actors(t *testing.T) map[string]lifecycle.Actor {
	t.Helper()
	out := map[string]lifecycle.Actor{
		"holder": {Kind: lifecycle.ActorHolder, ID: "holder-1"},
		"system": lifecycle.System(),
	}
	for _, r := range readRoles(t) {
		out[r.name] = lifecycle.Actor{Kind: lifecycle.ActorOperator, ID: "op-" + r.name, Grants: r.grants}
	}
	return out
}

func newMachine(t *testing.T, cfg lifecycle.Config) *lifecycle.Machine {
	t.Helper()
	m, err := lifecycle.NewMachine(cfg)
	require.NoError(t, err)
	return m
}

// stateIn returns a well-formed state in status s at base.
func stateIn(s lifecycle.Status) lifecycle.State { return lifecycletest.State(s, base) }

// validInput returns an input action a accepts from any actor allowed to take it.
func validInput(a lifecycle.Action) lifecycle.Input { return lifecycletest.Input(a, base) }

// nowFor returns a time at which action a is due for state s.
func nowFor(a lifecycle.Action, s lifecycle.State) time.Time { return lifecycletest.At(a, s, base) }
