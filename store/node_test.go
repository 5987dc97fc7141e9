package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
	"github.com/registra-pki/registra/store/storetest"
)

// treeDigest maps every file under dir to the SHA-256 of its content.
func treeDigest(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = sha256.Sum256(b)
		return nil
	}))
	return out
}

// populate writes a few orders, issues and revokes some, and returns the IDs
// of the orders.
func populate(t *testing.T, s store.Store, n int, prefix string) (string, []string) {
	f := storetest.NewFixture(t, s)
	f.Prefix = prefix
	org, op := f.Org()
	var ids []string
	for i := range n {
		h := f.Holder("Mario", fmt.Sprintf("Rossi%d", i), "RSSMRA80A01H501U")
		o := f.Order(storetest.OrderSpec{Org: org, Operator: op, Holder: h.ID, ExternalCode: fmt.Sprintf("E%d", i)})
		if i%2 == 0 {
			f.Issue(o, f.Base.Add(time.Duration(i)*time.Hour), uint32(i%3))
			if i%4 == 0 {
				f.Move(o.ID, store.StatusActive, store.StatusRevoked, f.Base.Add(48*time.Hour))
			}
		}
		f.Apply(store.AppendAudit{Event: store.AuditEvent{OrgID: org, At: f.Base, Action: "order.create", Subject: o.ID}})
		ids = append(ids, o.ID)
	}
	f.Apply(store.SealAudit{Max: 1000})
	return org, ids
}

func TestRestartRestoresSnapshotAndCompactsLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := store.Config{Dir: dir, SnapshotThreshold: 32, TrailingLogs: 16, SnapshotInterval: 50 * time.Millisecond}
	n, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	org1, ids := populate(t, n, 20, "a")
	require.NoError(t, n.Compact(ctx))
	org2, more := populate(t, n, 3, "b") // entries after the snapshot, replayed from the log
	first, err := n.FirstLogIndex()
	require.NoError(t, err)
	assert.Greater(t, first, uint64(1), "the log was compacted")
	assert.Positive(t, n.LastSnapshotIndex())
	before := snapshotDump(t, n, org1, org2)
	require.NoError(t, n.Close())

	n2, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, n2.Close()) }()
	assert.Equal(t, before, snapshotDump(t, n2, org1, org2), "restart restores the whole state")
	s, err := n2.Snapshot(ctx)
	require.NoError(t, err)
	defer s.Close()
	for _, id := range append(ids, more...) {
		_, err := s.Order(id)
		require.NoError(t, err)
	}
	require.NoError(t, s.CheckInvariants())
	require.NoError(t, s.VerifyAudit())
}

// snapshotDump renders what a search and the audit trail show.
func snapshotDump(t *testing.T, s store.Store, orgs ...string) string {
	snap, err := s.Snapshot(context.Background())
	require.NoError(t, err)
	defer snap.Close()
	var b strings.Builder
	for _, org := range orgs {
		p, err := snap.Search(store.SearchQuery{Org: org, Limit: 1000})
		require.NoError(t, err)
		for _, h := range p.Hits {
			fmt.Fprintf(&b, "%+v\n", h)
		}
	}
	require.NoError(t, snap.AuditEvents(0, func(e store.AuditEvent) error { fmt.Fprintf(&b, "%+v\n", e); return nil }))
	return b.String()
}

func TestOpenRefusesForeignDirectory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(dir string)
		wantErr error
	}{
		{"files of another program", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "data.db"), []byte("SQLite format 3\x00"), 0o600))
		}, store.ErrVersion},
		{"another format", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "REGISTRA-STORE"), []byte(`{"format":"other","version":1}`), 0o600))
		}, store.ErrVersion},
		{"a newer version", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "REGISTRA-STORE"), []byte(`{"format":"registra-store","version":2}`), 0o600))
		}, store.ErrVersion},
		{"an unreadable marker", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "REGISTRA-STORE"), []byte("\x00\x01garbage"), 0o600))
		}, store.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.prepare(dir)
			before := treeDigest(t, dir)
			_, err := store.Open(context.Background(), store.Config{Dir: dir})
			require.ErrorIs(t, err, tc.wantErr)
			assert.Equal(t, before, treeDigest(t, dir), "a refused directory is left as it was")
		})
	}
}

func TestOpenRefusesCorruptDirectory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
	}{
		{"corrupt snapshot", func(t *testing.T, dir string) {
			matches, err := filepath.Glob(filepath.Join(dir, "raft", "snapshots", "*", "state.bin"))
			require.NoError(t, err)
			require.Len(t, matches, 1)
			flipByte(t, matches[0], 100)
		}},
		{"corrupt log metadata", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "raft", "wal", "wal-meta.db")
			require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("not a bolt database ", 500)), 0o600))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			n, err := store.Open(ctx, store.Config{Dir: dir})
			require.NoError(t, err)
			populate(t, n, 4, "")
			require.NoError(t, n.Compact(ctx))
			require.NoError(t, n.Close())
			tc.corrupt(t, dir)
			before := treeDigest(t, dir)
			_, err = store.Open(ctx, store.Config{Dir: dir})
			require.ErrorIs(t, err, store.ErrCorrupt)
			assert.Equal(t, before, treeDigest(t, dir), "a corrupt directory is left as it was")
		})
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] ^= 0xff
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

func TestOpenAfterCutShortInitialisation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".REGISTRA-STORE.tmp123"), []byte("{"), 0o600))
	n, err := store.Open(context.Background(), store.Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, n.Close())
}

func TestOpenLocksDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n, err := store.Open(context.Background(), store.Config{Dir: dir})
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	_, err = store.Open(context.Background(), store.Config{Dir: dir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use")
}

func TestBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	n, err := store.Open(ctx, store.Config{Dir: dir})
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	doc := []byte("%PDF-1.7 modulo di richiesta firmato")
	h, err := n.Blobs().Put(ctx, doc)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%x", sha256.Sum256(doc)), h)
	again, err := n.Blobs().Put(ctx, doc)
	require.NoError(t, err)
	assert.Equal(t, h, again)
	got, err := n.Blobs().Get(ctx, h)
	require.NoError(t, err)
	assert.Equal(t, doc, got)
	ok, err := n.Blobs().Has(ctx, h)
	require.NoError(t, err)
	assert.True(t, ok)

	_, err = n.Blobs().Get(ctx, storetest.BlobHash("absent"))
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = n.Blobs().Get(ctx, "../../etc/passwd")
	assert.ErrorIs(t, err, store.ErrInvalidInput)

	// A blob that no longer matches its hash is reported, never served.
	packs, err := filepath.Glob(filepath.Join(dir, "blobs", "packs", "*.pack"))
	require.NoError(t, err)
	require.Len(t, packs, 1, "a small blob is packed")
	raw, err := os.ReadFile(packs[0])
	require.NoError(t, err)
	flipByte(t, packs[0], int64(bytes.Index(raw, doc))+3)
	got, err = n.Blobs().Get(ctx, h)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	assert.Nil(t, got)
	// Putting the content again repairs it.
	_, err = n.Blobs().Put(ctx, doc)
	require.NoError(t, err)
	got, err = n.Blobs().Get(ctx, h)
	require.NoError(t, err)
	assert.Equal(t, doc, got)
	leftovers, err := os.ReadDir(filepath.Join(dir, "blobs", "tmp"))
	require.NoError(t, err)
	assert.Empty(t, leftovers, "no temporary files stay behind")
}

func TestClosedStore(t *testing.T) {
	t.Parallel()
	n, err := store.Open(context.Background(), store.Config{Dir: t.TempDir()})
	require.NoError(t, err)
	require.NoError(t, n.Health())
	require.NoError(t, n.Close())
	assert.ErrorIs(t, n.Health(), store.ErrClosed)
	_, err = n.Apply(context.Background(), &store.Batch{Commands: []store.Command{store.SealAudit{Max: 1}}})
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = n.Snapshot(context.Background())
	assert.ErrorIs(t, err, store.ErrClosed)
	require.NoError(t, n.Close(), "closing twice is harmless")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   store.Config
		field string
	}{
		{"no dir", store.Config{}, "config.dir"},
		{"peers without node ID", store.Config{Dir: "d", Peers: []store.Peer{{ID: "a", Address: "127.0.0.1:1"}}}, "config.node_id"},
		{"node not among peers", store.Config{Dir: "d", NodeID: "c", Peers: []store.Peer{{ID: "a", Address: "x:1"}}}, "config.peers"},
		{"repeated peer", store.Config{Dir: "d", NodeID: "a", BindAddr: "x:1", Peers: []store.Peer{{ID: "a", Address: "x:1"}, {ID: "a", Address: "x:2"}}}, "config.peers[1].id"},
		{"bind address differs", store.Config{Dir: "d", NodeID: "a", BindAddr: "x:9", Peers: []store.Peer{{ID: "a", Address: "x:1"}}}, "config.bind_addr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			var fe *store.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
}

// TestBatchBlobsReplayed: blobs stored with a batch are durable with it.
// Pack data lost after the commit (as an unsynced write is in a crash) is
// written again from the log when the store reopens; after a snapshot,
// which compacts the log, they are read from the pack alone.
func TestBatchBlobsReplayed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := store.Config{Dir: dir, SnapshotThreshold: 1 << 20, TrailingLogs: 1}
	n, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	first := []byte("certificate committed before the crash")
	_, err = n.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutBlobs{Blobs: [][]byte{first}}}})
	require.NoError(t, err)
	require.NoError(t, n.Close())
	packs, err := filepath.Glob(filepath.Join(dir, "blobs", "packs", "*.pack"))
	require.NoError(t, err)
	require.NotEmpty(t, packs)
	for _, p := range packs {
		require.NoError(t, os.Truncate(p, 0))
	}

	n, err = store.Open(ctx, cfg)
	require.NoError(t, err)
	got, err := n.Blobs().Get(ctx, store.BlobHash(first))
	require.NoError(t, err, "replayed from the log")
	assert.Equal(t, first, got)
	second := []byte("certificate committed before a snapshot")
	_, err = n.Apply(ctx, &store.Batch{Commands: []store.Command{store.PutBlobs{Blobs: [][]byte{second}}}})
	require.NoError(t, err)
	require.NoError(t, n.Compact(ctx))
	require.NoError(t, n.Close())

	n, err = store.Open(ctx, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	for _, want := range [][]byte{first, second} {
		got, err := n.Blobs().Get(ctx, store.BlobHash(want))
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}
