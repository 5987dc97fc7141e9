package store_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
	"github.com/registra-pki/registra/store/storetest"
)

// TestCluster is acceptance item 2 of issue #4: a 3-node cluster on
// loopback; writes through the leader are readable on followers; the
// leader is stopped; a new leader takes writes; nothing acknowledged is
// lost, and the old leader catches up when it comes back. Blobs stored
// with a batch (PutBlobs) reach every node that applies it.
func TestCluster(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const size = 3
	var peers []store.Peer
	var lns []net.Listener
	for i := range size {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		peers = append(peers, store.Peer{ID: fmt.Sprintf("n%d", i+1), Address: ln.Addr().String()})
	}
	dirs := make([]string, size)
	cfg := func(i int, ln net.Listener) store.Config {
		return store.Config{Dir: dirs[i], NodeID: peers[i].ID, Peers: peers, Listener: ln,
			HeartbeatTimeout: time.Second, SnapshotThreshold: 64, TrailingLogs: 32}
	}
	nodes := make([]*store.Node, size)
	for i := range size {
		dirs[i] = filepath.Join(t.TempDir(), peers[i].ID)
		n, err := store.Open(ctx, cfg(i, lns[i]))
		require.NoError(t, err)
		nodes[i] = n
	}
	defer func() {
		for _, n := range nodes {
			if n != nil {
				assert.NoError(t, n.Close())
			}
		}
	}()
	leader := func(candidates ...int) int {
		t.Helper()
		found := -1
		require.Eventually(t, func() bool {
			for _, i := range candidates {
				if nodes[i] != nil && nodes[i].IsLeader() {
					found = i
					return true
				}
			}
			return false
		}, time.Minute, 10*time.Millisecond, "no leader elected")
		return found
	}
	l := leader(0, 1, 2)

	// Writes through the leader.
	f := storetest.NewFixture(t, nodes[l])
	org, op := f.Org()
	var acked []string
	var blobs [][]byte
	var last uint64
	write := func(n int) {
		for range n {
			h := f.Holder("Mario", "Rossi", "RSSMRA80A01H501U")
			o := f.Order(storetest.OrderSpec{Org: org, Operator: op, Holder: h.ID})
			acked = append(acked, o.ID)
			blob := []byte("certificate of " + o.ID)
			blobs = append(blobs, blob)
			last = max(last, f.Apply(store.PutBlobs{Blobs: [][]byte{blob}}).Index)
		}
	}
	checkBlobs := func(i int, blobs [][]byte) {
		t.Helper()
		for _, want := range blobs {
			got, err := nodes[i].Blobs().Get(ctx, store.BlobHash(want))
			require.NoError(t, err, "node %s lacks blob %q", peers[i].ID, want)
			assert.Equal(t, want, got)
		}
	}
	write(20)

	// A follower refuses writes and names the leader.
	follower := (l + 1) % size
	_, err := nodes[follower].Apply(ctx, &store.Batch{Commands: []store.Command{store.SealAudit{Max: 1}}})
	require.ErrorIs(t, err, store.ErrNotLeader)

	checkAll := func(i int) {
		t.Helper()
		require.NoError(t, nodes[i].WaitApplied(ctx, last))
		s, err := nodes[i].Snapshot(ctx)
		require.NoError(t, err)
		defer s.Close()
		for _, id := range acked {
			_, err := s.Order(id)
			require.NoError(t, err, "node %s lacks acknowledged order %s", peers[i].ID, id)
		}
		require.NoError(t, s.CheckInvariants())
	}
	for i := range size {
		checkAll(i)
		checkBlobs(i, blobs)
	}
	before := len(blobs)

	// Stop the leader; one of the others takes over and takes writes.
	require.NoError(t, nodes[l].Close())
	nodes[l] = nil
	var rest []int
	for i := range size {
		if i != l {
			rest = append(rest, i)
		}
	}
	l2 := leader(rest...)
	f.S = nodes[l2]
	write(20)
	for _, i := range rest {
		checkAll(i)
		checkBlobs(i, blobs)
	}

	// The old leader comes back on its address and catches up.
	ln, err := net.Listen("tcp", peers[l].Address)
	require.NoError(t, err)
	n, err := store.Open(ctx, cfg(l, ln))
	require.NoError(t, err)
	nodes[l] = n
	checkAll(l)
	// It kept what it applied; the rest may have reached it in a snapshot,
	// which carries no blobs.
	checkBlobs(l, blobs[:before])
}
