package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// strEntry is a test entry whose key is its text.
type strEntry struct{ s string }

// strKeys keys test entries by their text.
type strKeys struct{}

func (strKeys) entryKey(buf key, e any) key { return append(buf, e.(*strEntry).s...) }

func (strKeys) compare(e any, k key, _ *key) int { return bytes.Compare([]byte(e.(*strEntry).s), k) }

var strKey = strKeys{}

// model is a sorted list of the entries a tree should hold.
type model []*strEntry

func (m model) find(s string) (int, bool) {
	return slices.BinarySearchFunc(m, s, func(e *strEntry, s string) int { return bytes.Compare([]byte(e.s), []byte(s)) })
}

func checkTree(t *testing.T, tr *btree, m model) {
	t.Helper()
	require.Equal(t, len(m), tr.Len())
	c := tr.cursor()
	var got []string
	for ok := c.SeekGE(nil); ok; ok = c.Next() {
		got = append(got, c.Item().(*strEntry).s)
	}
	want := make([]string, len(m))
	for i, e := range m {
		want[i] = e.s
	}
	require.Equal(t, want, append([]string{}, got...), "ascending walk")
	got = got[:0]
	for ok := c.Last(); ok; ok = c.Prev() {
		got = append(got, c.Item().(*strEntry).s)
	}
	slices.Reverse(want)
	require.Equal(t, want, append([]string{}, got...), "descending walk")
}

// TestBTreeAgainstModel applies random inserts, replacements and deletes
// to a tree and checks it against a sorted list after each step; forks
// taken along the way must keep the content they had.
func TestBTreeAgainstModel(t *testing.T) {
	for _, c := range []struct {
		size    int
		leafPfx bool
	}{{10, false}, {300, false}, {5000, false}, {300, true}, {5000, true}} {
		size := c.size
		t.Run(fmt.Sprintf("%d/leafPfx=%v", size, c.leafPfx), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(size), 7))
			tr := newBTree(strKey, c.leafPfx)
			var m model
			type frozen struct {
				tr *btree
				m  model
			}
			var forks []frozen
			for step := range size * 4 {
				// Keys longer than eight bytes share prefixes, so the
				// comparisons past the prefix are exercised too.
				s := fmt.Sprintf("key-%06d", rng.IntN(size))
				i, found := m.find(s)
				switch rng.IntN(3) {
				case 0, 1:
					e := &strEntry{s}
					old, replaced := tr.Set(key(s), e)
					require.Equal(t, found, replaced)
					if found {
						require.Same(t, m[i], old)
						m = slices.Clone(m)
						m[i] = e
					} else {
						m = slices.Insert(slices.Clone(m), i, e)
					}
				case 2:
					old, ok := tr.Delete(key(s))
					require.Equal(t, found, ok)
					if found {
						require.Same(t, m[i], old)
						m = slices.Delete(slices.Clone(m), i, i+1)
					}
				}
				got, ok := tr.Get(key(s))
				j, want := m.find(s)
				require.Equal(t, want, ok)
				if ok {
					require.Same(t, m[j], got)
				}
				if step%(size/5+1) == 0 {
					forks = append(forks, frozen{tr, m})
					tr = tr.fork()
				}
			}
			checkTree(t, tr, m)
			for _, f := range forks {
				checkTree(t, f.tr, f.m)
			}
		})
	}
}

// TestBTreeSeek checks SeekGE and SeekLE against the model for keys present,
// absent, before the first and past the last.
func TestBTreeSeek(t *testing.T) {
	var m model
	entries := []any{}
	for i := range 1000 {
		e := &strEntry{fmt.Sprintf("k%04d", i*2)}
		m = append(m, e)
		entries = append(entries, e)
	}
	trees := map[string]*btree{}
	for _, leafPfx := range []bool{false, true} {
		trees[fmt.Sprintf("built/leafPfx=%v", leafPfx)] = buildBTree(strKey, leafPfx, entries, func(i int) key { return key(m[i].s) })
		inserted := newBTree(strKey, leafPfx)
		for _, e := range rand.New(rand.NewPCG(1, 1)).Perm(len(m)) {
			inserted.Set(key(m[e].s), m[e])
		}
		trees[fmt.Sprintf("inserted/leafPfx=%v", leafPfx)] = inserted
	}
	for name, tr := range trees {
		t.Run(name, func(t *testing.T) {
			checkTree(t, tr, m)
			for _, probe := range []string{"", "a", "k0000", "k0001", "k0998", "k0999", "k1000", "k1998", "k1999", "z"} {
				i, found := m.find(probe)
				c := tr.cursor()
				ok := c.SeekGE(key(probe))
				require.Equal(t, i < len(m), ok, "SeekGE %q", probe)
				if ok {
					require.Equal(t, m[i].s, c.Item().(*strEntry).s, "SeekGE %q", probe)
				}
				le := i - 1
				if found {
					le = i
				}
				ok = c.SeekLE(key(probe))
				require.Equal(t, le >= 0, ok, "SeekLE %q", probe)
				if ok {
					require.Equal(t, m[le].s, c.Item().(*strEntry).s, "SeekLE %q", probe)
				}
			}
		})
	}
}

// TestBTreeEmptiesAndRegrows deletes everything, in random order, then
// inserts again.
func TestBTreeEmptiesAndRegrows(t *testing.T) {
	tr := newBTree(strKey, true)
	rng := rand.New(rand.NewPCG(3, 3))
	for range 2 {
		perm := rng.Perm(3000)
		for _, i := range perm {
			tr.Set(key(fmt.Sprint(i)), &strEntry{fmt.Sprint(i)})
		}
		require.Equal(t, 3000, tr.Len())
		for _, i := range rng.Perm(3000) {
			_, ok := tr.Delete(key(fmt.Sprint(i)))
			require.True(t, ok)
		}
		require.Zero(t, tr.Len())
		require.Nil(t, tr.root)
		require.False(t, tr.cursor().SeekGE(nil))
	}
}

// FuzzKeyFold checks that index keys fold text exactly as Fold does.
func FuzzKeyFold(f *testing.F) {
	for _, s := range []string{"", "rossi", "Nicolò", "ß", "ǅ", "\xff\xfe", "mario.rossi@example.it", "İ", "ﬀ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, newKey().str(Fold(s)), newKey().fold(s))
	})
}

// FuzzCompareText checks the primary-key comparison against comparing the
// built keys.
func FuzzCompareText(f *testing.F) {
	for _, c := range [][2]string{{"", ""}, {"o1", "o1\x00"}, {"o1", "o10\x00"}, {"o10", "o1\x00"}, {"o1", "o1"}, {"o1", "o1\x00x"}, {"", "\x00"}, {"a", ""}} {
		f.Add(c[0], []byte(c[1]))
	}
	f.Fuzz(func(t *testing.T, s string, k []byte) {
		want := bytes.Compare(newKey().str(s), k)
		require.Equal(t, want, compareText(s, k))
	})
}

// TestPrefixOrder checks that keys whose prefixes differ compare as their
// prefixes do.
func TestPrefixOrder(t *testing.T) {
	keys := []key{nil, {0}, {0, 0}, {1}, key("a"), key("a\x00"), key("a\x00b"), key("ab"), key("abcdefgh"), key("abcdefgh\x00"), key("abcdefgi"), {0xff}}
	for _, a := range keys {
		for _, b := range keys {
			if pa, pb := prefix(a), prefix(b); pa != pb {
				assert.Equal(t, bytes.Compare(a, b) < 0, pa < pb, "%q %q", a, b)
			}
		}
	}
}
