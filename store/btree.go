package store

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
)

// btree is a copy-on-write B+tree of index entries in key order. It is the
// storage of every table index (see db.go).
//
// Entries are interface values: a record pointer, or a *multiRef for an
// index with several keys per record. Leaves do not store keys: keyOf
// computes an entry's key when a search compares it, so an index entry costs
// one 16-byte slot (go-immutable-radix, measured, costs about 430 bytes).
// Inner nodes keep their separator keys, so a search builds keys only in the
// one leaf it reaches; they also keep the first eight bytes of each key as a
// number (pfx), and so do the leaves of a primary index, so most comparisons
// read one word of a packed array instead of following pointers to the key
// or the record.
//
// Versions share nodes. Every tree value carries an owner tag; a node may be
// changed in place only by the tree that owns it, any other tree copies it
// first (path copying). A write transaction works on a tree with a fresh
// tag, so the committed trees it started from, which readers may be walking,
// never change.
type btree struct {
	root    *node
	owner   uint64
	keys    entryKeys
	n       int
	leafPfx bool // leaves keep the prefixes of their entries' keys
}

// entryKeys gives the keys of a tree's entries.
type entryKeys interface {
	// entryKey appends the key of e to buf.
	entryKey(buf key, e any) key
	// compare compares the key of e with k, using buf as scratch space.
	compare(e any, k key, buf *key) int
}

// node is a leaf (children nil; items are the entries) or an inner node,
// where keys[i] is a lower bound of the keys under children[i]: every key
// under children[i-1] is less than keys[i], every key under children[i] is
// not.
type node struct {
	owner    uint64
	items    []any
	keys     []key
	pfx      []uint64 // prefix of keys[i] (inner), of items[i]'s key (leaf with leafPfx)
	children []*node
}

// prefix returns the first eight bytes of k, big-endian, zero-padded. Keys
// whose prefixes differ compare as their prefixes do; equal prefixes say
// nothing.
func prefix(k key) uint64 {
	if len(k) >= 8 {
		return binary.BigEndian.Uint64(k)
	}
	var b [8]byte
	copy(b[:], k)
	return binary.BigEndian.Uint64(b[:])
}

// nodeMax is the most entries a leaf, or children an inner node, holds.
const nodeMax = 64

var owners atomic.Uint64

// scratch lends key buffers to searches, which compute a key for every
// entry they compare.
var scratch = sync.Pool{New: func() any { b := make(key, 0, 128); return &b }}

func newOwner() uint64 { return owners.Add(1) }

func newBTree(keys entryKeys, leafPfx bool) *btree {
	return &btree{owner: newOwner(), keys: keys, leafPfx: leafPfx}
}

// fork returns a tree that shares every node with t and copies what it
// changes; t itself stays as it is.
func (t *btree) fork() *btree {
	return &btree{root: t.root, owner: newOwner(), keys: t.keys, n: t.n, leafPfx: t.leafPfx}
}

// Len returns the number of entries.
func (t *btree) Len() int { return t.n }

func (n *node) leaf() bool { return n.children == nil }

// size is the number of entries of a leaf or children of an inner node.
func (n *node) size() int {
	if n.leaf() {
		return len(n.items)
	}
	return len(n.children)
}

// compareAt compares the key of leaf entry i with k (whose prefix is kp).
func (t *btree) compareAt(n *node, i int, k key, kp uint64, buf *key) int {
	if n.pfx != nil {
		if p := n.pfx[i]; p != kp {
			if p < kp {
				return -1
			}
			return 1
		}
	}
	return t.keys.compare(n.items[i], k, buf)
}

// lowerBound returns the first position in a leaf whose key is not less than
// k, and whether that key equals k. buf is scratch space.
func (t *btree) lowerBound(n *node, k key, kp uint64, buf *key) (int, bool) {
	lo, hi := 0, len(n.items)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.compareAt(n, m, k, kp, buf) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(n.items) {
		return lo, false
	}
	return lo, t.compareAt(n, lo, k, kp, buf) == 0
}

// route returns the child of an inner node that may hold k (prefix kp): the
// last one whose lower bound is not greater than k (the first otherwise).
func route(n *node, k key, kp uint64) int {
	lo, hi := 1, len(n.keys)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		var less bool
		if p := n.pfx[m]; p != kp {
			less = kp < p
		} else {
			less = bytes.Compare(k, n.keys[m]) < 0
		}
		if less {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo - 1
}

// Get returns the entry whose key is k.
func (t *btree) Get(k key) (any, bool) {
	n := t.root
	if n == nil {
		return nil, false
	}
	kp := prefix(k)
	for !n.leaf() {
		n = n.children[route(n, k, kp)]
	}
	buf := scratch.Get().(*key)
	i, ok := t.lowerBound(n, k, kp, buf)
	scratch.Put(buf)
	if !ok {
		return nil, false
	}
	return n.items[i], true
}

// own makes *np a node t may change, copying it when another tree owns it.
func (t *btree) own(np **node) *node {
	n := *np
	if n.owner == t.owner {
		return n
	}
	c := &node{owner: t.owner, items: slices.Clone(n.items), pfx: slices.Clone(n.pfx)}
	if n.children != nil {
		c.keys = slices.Clone(n.keys)
		c.children = slices.Clone(n.children)
	}
	*np = c
	return c
}

// Set inserts e, whose key is k, replacing the entry with the same key; it
// returns the replaced entry.
func (t *btree) Set(k key, e any) (any, bool) {
	kp := prefix(k)
	if t.root == nil {
		t.root = &node{owner: t.owner, items: []any{e}}
		if t.leafPfx {
			t.root.pfx = []uint64{kp}
		}
		t.n = 1
		return nil, false
	}
	buf := scratch.Get().(*key)
	old, replaced, sep, right := t.insert(&t.root, k, kp, e, buf)
	scratch.Put(buf)
	if right != nil {
		left := t.root
		t.root = &node{owner: t.owner, keys: []key{nil, sep}, pfx: []uint64{0, prefix(sep)}, children: []*node{left, right}}
	}
	if !replaced {
		t.n++
	}
	return old, replaced
}

// insert puts e under *np. When the node splits it returns the new right
// half and its lower bound.
func (t *btree) insert(np **node, k key, kp uint64, e any, buf *key) (old any, replaced bool, sep key, right *node) {
	n := *np
	if n.leaf() {
		i, found := t.lowerBound(n, k, kp, buf)
		switch {
		case found:
			n = t.own(np)
			old = n.items[i]
			n.items[i] = e
			return old, true, nil, nil
		case n.owner == t.owner:
			n.items = slices.Insert(n.items, i, e)
			if t.leafPfx {
				n.pfx = slices.Insert(n.pfx, i, kp)
			}
		default: // copy and insert in one exactly sized slice
			n = &node{owner: t.owner, items: insertCopy(n.items, i, e)}
			if t.leafPfx {
				n.pfx = insertCopy((*np).pfx, i, kp)
			}
			*np = n
		}
		sep, right = t.split(n)
		return nil, false, sep, right
	}
	n = t.own(np)
	i := route(n, k, kp)
	old, replaced, csep, r := t.insert(&n.children[i], k, kp, e, buf)
	if r != nil {
		n.children = slices.Insert(n.children, i+1, r)
		n.keys = slices.Insert(n.keys, i+1, csep)
		n.pfx = slices.Insert(n.pfx, i+1, prefix(csep))
	}
	sep, right = t.split(n)
	return old, replaced, sep, right
}

// insertCopy returns s with v inserted at i, in a new exactly sized slice.
func insertCopy[T any](s []T, i int, v T) []T {
	out := make([]T, len(s)+1)
	copy(out, s[:i])
	out[i] = v
	copy(out[i+1:], s[i:])
	return out
}

// split halves n when it is over the maximum and returns the new right half
// with its lower bound. Both halves get slices of their own, sized exactly.
func (t *btree) split(n *node) (key, *node) {
	size := n.size()
	if size <= nodeMax {
		return nil, nil
	}
	h := size / 2
	if n.leaf() {
		r := &node{owner: t.owner, items: slices.Clone(n.items[h:])}
		n.items = slices.Clone(n.items[:h])
		if n.pfx != nil {
			r.pfx = slices.Clone(n.pfx[h:])
			n.pfx = slices.Clone(n.pfx[:h])
		}
		return t.keys.entryKey(nil, r.items[0]), r
	}
	r := &node{owner: t.owner, keys: slices.Clone(n.keys[h:]), pfx: slices.Clone(n.pfx[h:]), children: slices.Clone(n.children[h:])}
	n.keys = slices.Clone(n.keys[:h])
	n.pfx = slices.Clone(n.pfx[:h])
	n.children = slices.Clone(n.children[:h])
	sep := r.keys[0]
	r.keys[0] = nil
	return sep, r
}

// Delete removes the entry whose key is k and returns it.
func (t *btree) Delete(k key) (any, bool) {
	old, ok := t.Get(k)
	if !ok {
		return nil, false
	}
	buf := scratch.Get().(*key)
	t.remove(&t.root, k, prefix(k), buf)
	scratch.Put(buf)
	t.n--
	for t.root != nil && !t.root.leaf() && len(t.root.children) == 1 {
		t.root = t.root.children[0]
	}
	if t.root != nil && t.root.size() == 0 {
		t.root = nil
	}
	return old, true
}

// remove deletes k, known to be present, under *np. Empty nodes are dropped
// from their parent; nodes are not merged.
func (t *btree) remove(np **node, k key, kp uint64, buf *key) {
	n := t.own(np)
	if n.leaf() {
		i, _ := t.lowerBound(n, k, kp, buf)
		n.items = slices.Delete(n.items, i, i+1)
		if n.pfx != nil {
			n.pfx = slices.Delete(n.pfx, i, i+1)
		}
		return
	}
	i := route(n, k, kp)
	t.remove(&n.children[i], k, kp, buf)
	if n.children[i].size() == 0 {
		n.children = slices.Delete(n.children, i, i+1)
		n.keys = slices.Delete(n.keys, i, i+1)
		n.pfx = slices.Delete(n.pfx, i, i+1)
		if len(n.keys) > 0 {
			n.keys[0], n.pfx[0] = nil, 0
		}
	}
}

// buildBTree makes a tree of entries with full nodes from their keys in
// strictly increasing order (keys(i) is the key of entries[i]). The leaves
// share the backing array of entries, which must not change after.
func buildBTree(ek entryKeys, leafPfx bool, entries []any, keys func(i int) key) *btree {
	t := newBTree(ek, leafPfx)
	t.n = len(entries)
	if len(entries) == 0 {
		return t
	}
	owner := newOwner() // no tree owns the built nodes: the first write copies
	type built struct {
		n   *node
		low key
	}
	level := make([]built, 0, (len(entries)+nodeMax-1)/nodeMax)
	for i := 0; i < len(entries); i += nodeMax {
		j := min(i+nodeMax, len(entries))
		leaf := &node{owner: owner, items: entries[i:j:j]}
		if leafPfx {
			leaf.pfx = make([]uint64, j-i)
			for x := i; x < j; x++ {
				leaf.pfx[x-i] = prefix(keys(x))
			}
		}
		level = append(level, built{leaf, bytes.Clone(keys(i))})
	}
	for len(level) > 1 {
		up := make([]built, 0, (len(level)+nodeMax-1)/nodeMax)
		for i := 0; i < len(level); i += nodeMax {
			j := min(i+nodeMax, len(level))
			in := &node{owner: owner, keys: make([]key, j-i), pfx: make([]uint64, j-i), children: make([]*node, j-i)}
			for c, b := range level[i:j] {
				in.children[c] = b.n
				if c > 0 {
					in.keys[c], in.pfx[c] = b.low, prefix(b.low)
				}
			}
			up = append(up, built{in, level[i].low})
		}
		level = up
	}
	t.root = level[0].n
	return t
}

// treeCursor walks a tree in order. It sees the tree as it was when the
// cursor was made: trees of committed transactions never change.
type treeCursor struct {
	t     *btree
	root  *node
	stack []frame
	buf   key
}

type frame struct {
	n *node
	i int
}

func (t *btree) cursor() *treeCursor { return &treeCursor{t: t, root: t.root, buf: make(key, 0, 128)} }

// Item returns the entry under the cursor.
func (c *treeCursor) Item() any {
	f := c.stack[len(c.stack)-1]
	return f.n.items[f.i]
}

// SeekGE moves to the first entry whose key is not less than k.
func (c *treeCursor) SeekGE(k key) bool {
	c.stack = c.stack[:0]
	n := c.root
	if n == nil {
		return false
	}
	kp := prefix(k)
	for !n.leaf() {
		i := route(n, k, kp)
		c.stack = append(c.stack, frame{n, i})
		n = n.children[i]
	}
	i, _ := c.t.lowerBound(n, k, kp, &c.buf)
	c.stack = append(c.stack, frame{n, i})
	if i < len(n.items) {
		return true
	}
	c.stack[len(c.stack)-1].i = len(n.items) - 1
	return c.Next()
}

// SeekLE moves to the last entry whose key is not greater than k.
func (c *treeCursor) SeekLE(k key) bool {
	if !c.SeekGE(k) {
		return c.Last()
	}
	if c.t.keys.compare(c.Item(), k, &c.buf) <= 0 {
		return true
	}
	return c.Prev()
}

// Last moves to the entry with the largest key.
func (c *treeCursor) Last() bool {
	c.stack = c.stack[:0]
	if c.root == nil {
		return false
	}
	c.descend(c.root, true)
	return true
}

func (c *treeCursor) descend(n *node, last bool) {
	for {
		i := 0
		if last {
			i = n.size() - 1
		}
		c.stack = append(c.stack, frame{n, i})
		if n.leaf() {
			return
		}
		n = n.children[i]
	}
}

// Next moves to the next entry; false at the end.
func (c *treeCursor) Next() bool {
	for d := len(c.stack) - 1; d >= 0; d-- {
		f := &c.stack[d]
		if f.i+1 < f.n.size() {
			f.i++
			c.stack = c.stack[:d+1]
			if !f.n.leaf() {
				c.descend(f.n.children[f.i], false)
			}
			return true
		}
	}
	c.stack = c.stack[:0]
	return false
}

// Prev moves to the previous entry; false at the start.
func (c *treeCursor) Prev() bool {
	for d := len(c.stack) - 1; d >= 0; d-- {
		f := &c.stack[d]
		if f.i > 0 {
			f.i--
			c.stack = c.stack[:d+1]
			if !f.n.leaf() {
				c.descend(f.n.children[f.i], true)
			}
			return true
		}
	}
	c.stack = c.stack[:0]
	return false
}
