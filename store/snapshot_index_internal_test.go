package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapPart is one tagged part of a snapshot stream.
type snapPart struct {
	tag  byte
	body []byte
}

// splitSnapshot cuts a snapshot into its header fields and parts.
func splitSnapshot(t *testing.T, b []byte) (ver, index uint64, parts []snapPart) {
	t.Helper()
	b = b[len(snapshotMagic) : len(b)-sha256.Size]
	ver, n := binary.Uvarint(b)
	b = b[n:]
	index, n = binary.Uvarint(b)
	b = b[n:]
	for b[0] != 0 {
		tag := b[0]
		size, n := binary.Uvarint(b[1:])
		body := b[1+n : 1+n+int(size)]
		parts = append(parts, snapPart{tag, bytes.Clone(body)})
		b = b[1+n+int(size):]
	}
	return ver, index, parts
}

// joinSnapshot writes parts back into a stream with a valid checksum.
func joinSnapshot(ver, index uint64, parts []snapPart) []byte {
	e := &encoder{}
	e.b = append(e.b, snapshotMagic...)
	e.u64(ver)
	e.u64(index)
	for _, p := range parts {
		e.byte1(p.tag)
		e.bytes(p.body)
	}
	e.byte1(0)
	sum := sha256.Sum256(e.b)
	return append(e.b, sum[:]...)
}

func scaleSnapshot(t *testing.T, n int) (*state, []byte) {
	t.Helper()
	st, err := newState()
	require.NoError(t, err)
	buildScale(t, st, n, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	require.NoError(t, writeSnapshot(&buf, st.db.Txn(false), 42))
	return st, buf.Bytes()
}

func searchAll(t *testing.T, st *state) []SearchHit {
	t.Helper()
	var hits []SearchHit
	for o := range scaleOrgs {
		p, err := search(st.db.Txn(false), SearchQuery{Org: fmt.Sprintf("org%d", o), Limit: MaxSearchLimit})
		require.NoError(t, err)
		hits = append(hits, p.Hits...)
	}
	return hits
}

// TestSnapshotIndexOrders restores a state from a snapshot that carries the
// order of every index (format 3) and from one that does not (format 2,
// indexes sorted on restore): both give back the same records and indexes.
func TestSnapshotIndexOrders(t *testing.T) {
	t.Parallel()
	st, snap := scaleSnapshot(t, 400)
	ver, index, parts := splitSnapshot(t, snap)
	require.Equal(t, uint64(snapshotVersion), ver)
	var records []snapPart
	blocks := 0
	for _, p := range parts {
		if p.tag&indexBlockTag != 0 {
			blocks++
			continue
		}
		records = append(records, p)
	}
	require.Positive(t, blocks)
	want := searchAll(t, st)
	for name, b := range map[string][]byte{"v3": snap, "v2": joinSnapshot(2, index, records)} {
		t.Run(name, func(t *testing.T) {
			got, gotIndex, err := readSnapshot(bytes.NewReader(b))
			require.NoError(t, err)
			assert.Equal(t, uint64(42), gotIndex)
			require.NoError(t, (&view{txn: got.db.Txn(false), index: gotIndex}).CheckInvariants())
			assert.Equal(t, want, searchAll(t, got))
		})
	}
}

// TestSnapshotIndexOrdersChecked tampers with index blocks (and fixes the
// checksum, as a bug rather than a flipped bit would): the restore refuses
// each one with ErrCorrupt naming the index.
func TestSnapshotIndexOrdersChecked(t *testing.T) {
	t.Parallel()
	_, snap := scaleSnapshot(t, 200)
	ver, index, parts := splitSnapshot(t, snap)
	ordersTag := byte(5) | indexBlockTag
	// The orders table's block for index j: its entries as ordinals.
	block := func(j uint64) (int, []uint64) {
		for i, p := range parts {
			if p.tag != ordersTag {
				continue
			}
			d := &decoder{b: p.body}
			if d.u64() != j {
				continue
			}
			var ords []uint64
			for len(d.b) > 0 {
				ords = append(ords, d.u64())
			}
			return i, ords
		}
		t.Fatalf("no block %d", j)
		return 0, nil
	}
	created := uint64(schema().tables[schema().byName[tableOrders]].byName[indexOrgCreated])
	encode := func(j uint64, ords []uint64) []byte {
		e := &encoder{}
		e.u64(j)
		for _, o := range ords {
			e.u64(o)
		}
		return e.b
	}
	cases := []struct {
		name   string
		mutate func([]uint64) []uint64
		want   string
	}{
		{"swapped", func(o []uint64) []uint64 { o[3], o[4] = o[4], o[3]; return o }, "out of order"},
		{"dropped", func(o []uint64) []uint64 { return o[:len(o)-1] }, "missing"},
		{"repeated", func(o []uint64) []uint64 { return append(o, o[len(o)-1]) }, "out of order"},
		{"past the end", func(o []uint64) []uint64 { o[0] = 1 << 20; return o }, "names record"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i, ords := block(created)
			tampered := append([]snapPart(nil), parts...)
			tampered[i] = snapPart{ordersTag, encode(created, c.mutate(ords))}
			_, _, err := readSnapshot(bytes.NewReader(joinSnapshot(ver, index, tampered)))
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, "orders."+indexOrgCreated)
			assert.ErrorContains(t, err, c.want)
		})
	}
	t.Run("index blocks in a format 2 snapshot", func(t *testing.T) {
		_, _, err := readSnapshot(bytes.NewReader(joinSnapshot(2, index, parts)))
		require.ErrorIs(t, err, ErrCorrupt)
	})
}

// TestAdoptPreloaded checks that Raft's restore adopts the state Open
// restored only from the very same snapshot.
func TestAdoptPreloaded(t *testing.T) {
	t.Parallel()
	_, snap := scaleSnapshot(t, 50)
	st, index, trailer, err := readSnapshotSum(bytes.NewReader(snap))
	require.NoError(t, err)
	pre := &preloaded{st: st, index: index, trailer: trailer}

	got, gotIndex, err := adopt(bytes.NewReader(snap), pre)
	require.NoError(t, err)
	assert.Same(t, st, got)
	assert.Equal(t, index, gotIndex)

	other := bytes.Clone(snap)
	other[len(other)-1] ^= 1
	_, _, err = adopt(bytes.NewReader(other), pre)
	require.ErrorIs(t, err, ErrCorrupt)
	_, _, err = adopt(bytes.NewReader(snap[:20]), pre)
	require.ErrorIs(t, err, ErrCorrupt)
}
