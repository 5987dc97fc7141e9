package store

import (
	"encoding/binary"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

// fold appends s as Fold would write it, without building the folded
// string: keys are computed on every comparison.
func (k key) fold(s string) key {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				k = utf8.AppendRune(k, unicode.ToUpper(r))
			}
			return append(k, 0)
		} else if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
			k = append(k, c)
		} else {
			k = append(k, c)
		}
	}
	return append(k, 0)
}

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
