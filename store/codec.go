package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"
)

// The encoding of commands, batches and snapshot records is our own, small
// and stable: unsigned integers as uvarints, signed as zig-zag varints,
// strings and byte strings as a uvarint length and the bytes, times as a
// presence byte and the zig-zag varint of Unix microseconds (UTC), slices as
// a uvarint count and the elements, struct fields in declaration order. It
// never depends on reflection or map order, so equal values always encode to
// equal bytes (the idempotency hash relies on it). Golden files in
// testdata/codec pin it.

// errDecode is wrapped by every decoding failure (ErrCorrupt for stored
// data).
var errDecode = errors.New("malformed encoding")

// maxDecodedLen caps any single string or slice length while decoding, so
// hostile input cannot make the decoder allocate much.
const maxDecodedLen = 64 << 20

type encoder struct{ b []byte }

func (e *encoder) u64(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.AppendUvarint(e.b, uint64(v)) }
func (e *encoder) i64(v int64)  { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) byte1(v byte) { e.b = append(e.b, v) }
func (e *encoder) boolean(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) bytes(p []byte) {
	e.u64(uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.i64(t.UnixMicro())
}
func (e *encoder) strs(ss []string) {
	e.u64(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

type decoder struct {
	b   []byte
	err error
	// alias makes strings and byte strings point into b instead of copying
	// them: one allocation per record instead of one per field. Only for a
	// b that nothing changes afterwards (a snapshot restore gives every
	// record its own).
	alias bool
	// v2 decodes a record as snapshot formats 1 and 2 wrote it.
	v2 bool
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errDecode, what)
	}
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 {
	v := d.u64()
	if v > math.MaxUint32 {
		d.fail("value overflows uint32")
		return 0
	}
	return uint32(v)
}

func (d *decoder) i64() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) i32() int32 {
	v := d.i64()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("value overflows int32")
		return 0
	}
	return int32(v)
}

func (d *decoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) boolean() bool {
	switch d.byte1() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad bool")
	return false
}

// length reads a length that must fit in the remaining input (each element
// takes at least one byte), so no allocation exceeds the input's size.
func (d *decoder) length() int {
	n := d.u64()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)) || n > maxDecodedLen {
		d.fail("length past end of input")
		return 0
	}
	return int(n)
}

func (d *decoder) raw() []byte {
	n := d.length()
	if d.err != nil {
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string {
	p := d.raw()
	if d.alias && len(p) > 0 {
		return unsafe.String(&p[0], len(p))
	}
	return string(p)
}

func (d *decoder) bytes() []byte {
	p := d.raw()
	switch {
	case len(p) == 0:
		return nil
	case d.alias:
		return p
	}
	return append([]byte(nil), p...)
}

func (d *decoder) time() time.Time {
	switch d.byte1() {
	case 0:
		return time.Time{}
	case 1:
		us := d.i64()
		if us < minMicros || us > maxMicros {
			d.fail("time out of range")
			return time.Time{}
		}
		return time.UnixMicro(us).UTC()
	}
	d.fail("bad time tag")
	return time.Time{}
}

func (d *decoder) strs() []string {
	n := d.length()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, d.str())
	}
	return out
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}
