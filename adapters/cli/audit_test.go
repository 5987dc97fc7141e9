package cli_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash/crc64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/adapters/cli"
	"github.com/registra-pki/registra/store"
)

// initDir runs `registra init` in a new directory and returns it.
func initDir(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	r := run(t, cli.Config{}, "", append([]string{"init", "--data", dir}, args...)...)
	require.Equal(t, cli.ExitOK, r.code, "%s", r.stderr)
	return dir
}

// sealAudit opens the platform in dir, makes audited changes (a failed
// login, an organisation) and seals the audit trail.
func sealAudit(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	p, err := registra.Open(ctx, registra.Config{Dir: dir})
	require.NoError(t, err)
	defer p.Close() //nolint:errcheck // test
	_, err = p.Login(ctx, "admin", "wrong password", "000000")
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
	_, err = p.RunDue(ctx, time.Now())
	require.NoError(t, err)
	require.NoError(t, p.VerifyAudit(ctx))
}

func TestAuditVerify(t *testing.T) {
	t.Parallel()
	dir := initDir(t)
	sealAudit(t, dir)

	r := run(t, cli.Config{}, "", "audit", "verify", "--data", dir)
	assert.Equal(t, cli.ExitOK, r.code, "%s", r.stderr)
	assert.Contains(t, r.stdout, "audit trail intact")

	r = run(t, cli.Config{}, "", "audit", "verify", "--data", dir, "--json")
	require.Equal(t, cli.ExitOK, r.code, "%s", r.stderr)
	var rep struct {
		Intact bool   `json:"intact"`
		Events uint64 `json:"events"`
		Sealed uint64 `json:"sealed"`
		Head   string `json:"head"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.True(t, rep.Intact)
	assert.GreaterOrEqual(t, rep.Events, uint64(2))
	assert.Equal(t, rep.Events, rep.Sealed)
	assert.Len(t, rep.Head, 64)

	// Someone with access to the disk edits the outcome of the bootstrap
	// event in the store's snapshot, keeping its length, and recomputes the
	// snapshot's SHA-256 trailer and Raft's CRC so that the store opens it.
	tamperSnapshot(t, dir, []byte(`"outcome":"done"`), []byte(`"outcome":"dome"`))

	r = run(t, cli.Config{}, "", "audit", "verify", "--data", dir)
	assert.Equal(t, cli.ExitRefused, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "BROKEN at event 1")
	assert.Contains(t, r.stdout, "platform.bootstrap", "the first bad event is shown")
	assert.Contains(t, r.stderr, "audit trail broken at event 1")

	r = run(t, cli.Config{}, "", "audit", "verify", "--data", dir, "--json")
	assert.Equal(t, cli.ExitRefused, r.code)
	var bad struct {
		Intact   bool `json:"intact"`
		FirstBad struct {
			Seq     uint64 `json:"seq"`
			Action  string `json:"action"`
			Details string `json:"details"`
		} `json:"first_bad"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &bad))
	assert.False(t, bad.Intact)
	assert.Equal(t, uint64(1), bad.FirstBad.Seq)
	assert.Equal(t, "platform.bootstrap", bad.FirstBad.Action)
	assert.Contains(t, bad.FirstBad.Details, "dome")
}

// tamperSnapshot takes a snapshot of dir's store, replaces the one
// occurrence of old in it by new (same length), and fixes the snapshot's
// checksums: the store's SHA-256 trailer and Raft's CRC-64 in meta.json.
// Only the audit chain can tell.
func tamperSnapshot(t *testing.T, dir string, old, new []byte) {
	t.Helper()
	require.Len(t, new, len(old))
	ctx := context.Background()
	p, err := registra.Open(ctx, registra.Config{Dir: dir})
	require.NoError(t, err)
	node, ok := p.Store().(*store.Node)
	require.True(t, ok, "the embedded store")
	require.NoError(t, node.Compact(ctx))
	require.NoError(t, p.Close())

	states, err := filepath.Glob(filepath.Join(dir, "store", "raft", "snapshots", "*", "state.bin"))
	require.NoError(t, err)
	require.Len(t, states, 1)
	b, err := os.ReadFile(states[0])
	require.NoError(t, err)
	require.Equal(t, 1, bytes.Count(b, old), "one event is done: the bootstrap")
	b = bytes.Replace(b, old, new, 1)
	sum := sha256.Sum256(b[:len(b)-sha256.Size])
	copy(b[len(b)-sha256.Size:], sum[:])
	require.NoError(t, os.WriteFile(states[0], b, 0o600))

	metaPath := filepath.Join(filepath.Dir(states[0]), "meta.json")
	mb, err := os.ReadFile(metaPath)
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.Unmarshal(mb, &meta))
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	_, err = h.Write(b)
	require.NoError(t, err)
	meta["CRC"] = base64.StdEncoding.EncodeToString(h.Sum(nil))
	mb, err = json.Marshal(meta)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(metaPath, mb, 0o600))
}

func TestAuditVerifyUsage(t *testing.T) {
	t.Parallel()
	r := run(t, cli.Config{}, "", "audit", "verify", "--data", t.TempDir())
	assert.Equal(t, cli.ExitUsage, r.code)
	assert.Contains(t, r.stderr, "holds no registra store")
}
