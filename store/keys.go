package store

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Index keys are built by hand, so that compound keys sort as the queries
// need: strings end with a NUL (the store refuses NUL in values, so the
// terminator never collides), times are 8 big-endian bytes of Unix
// microseconds with the sign bit flipped (so they sort chronologically),
// serials are a length byte and the magnitude (so they sort numerically).
// Every compound key ends with the record's ID, which makes it unique.

type key []byte

func newKey() key { return make(key, 0, 48) }

func (k key) str(s string) key { return append(append(k, s...), 0) }

func (k key) fold(s string) key { return k.str(Fold(s)) }

func (k key) time(t time.Time) key {
	return binary.BigEndian.AppendUint64(k, uint64(t.UnixMicro())^(1<<63))
}

func (k key) u32(v uint32) key { return binary.BigEndian.AppendUint32(k, v) }

func (k key) u64(v uint64) key { return binary.BigEndian.AppendUint64(k, v) }

func (k key) serial(s []byte) key { return append(append(k, byte(len(s))), s...) }

// Fold is the case folding of text search filters and of case-insensitive
// uniqueness (e-mail, mobile, IUT, user ID): Unicode upper case. Search
// filters match whole values after folding.
func Fold(s string) string { return strings.ToUpper(s) }

// upper returns the smallest key greater than every key starting with k.
func (k key) upper() key {
	return append(append(key(nil), k...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
}

// singleIndex is a go-memdb indexer whose key comes from a function of the
// object; lookups pass one pre-built key.
type singleIndex struct {
	fn func(obj any) (key, bool)
}

func (x singleIndex) FromObject(obj any) (bool, []byte, error) {
	k, ok := x.fn(obj)
	return ok, k, nil
}

func (x singleIndex) FromArgs(args ...any) ([]byte, error) { return argKey(args) }

func (x singleIndex) PrefixFromArgs(args ...any) ([]byte, error) { return argKey(args) }

// multiIndex is a go-memdb indexer with several keys per object.
type multiIndex struct {
	fn func(obj any) []key
}

func (x multiIndex) FromObject(obj any) (bool, [][]byte, error) {
	ks := x.fn(obj)
	out := make([][]byte, len(ks))
	for i, k := range ks {
		out[i] = k
	}
	return len(out) > 0, out, nil
}

func (x multiIndex) FromArgs(args ...any) ([]byte, error) { return argKey(args) }

func (x multiIndex) PrefixFromArgs(args ...any) ([]byte, error) { return argKey(args) }

func argKey(args []any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("store: index lookup: want one key, got %d arguments", len(args))
	}
	k, ok := args[0].(key)
	if !ok {
		return nil, fmt.Errorf("store: index lookup: want a key, got %T", args[0])
	}
	return k, nil
}
