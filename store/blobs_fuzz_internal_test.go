package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPackSegment: whatever a pack segment holds (a crash's torn tail,
// damage, another program's bytes), opening the store neither fails nor
// panics, an indexed blob is served only if it matches its hash, and a
// new blob is stored and served.
func FuzzPackSegment(f *testing.F) {
	rec := func(data []byte) []byte {
		h := packHeader(data, sha256.Sum256(data))
		return append(h[:], data...)
	}
	one, two := rec([]byte("certificate")), rec([]byte("envelope"))
	f.Add(append(append([]byte{}, one...), two...))
	f.Add(append(append([]byte{}, one...), two[:len(two)-3]...))
	f.Add(append(append([]byte{}, one...), two[:packHeaderLen-1]...))
	f.Add(append(append([]byte{}, one[:len(one)-1]...), 'X'))
	f.Add(make([]byte, 100))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, seg []byte) {
		ctx := context.Background()
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, packsDir), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, packsDir, segmentName(1)), seg, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := newBlobStore(dir)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer func() {
			if err := b.close(); err != nil {
				t.Error(err)
			}
		}()
		for sum := range b.index {
			h := hex.EncodeToString(sum[:])
			data, err := b.Get(ctx, h)
			switch {
			case err == nil && sha256.Sum256(data) != sum:
				t.Fatalf("blob %s served with other content", h)
			case err != nil && !errors.Is(err, ErrCorrupt):
				t.Fatalf("indexed blob %s: %v", h, err)
			}
		}
		h, err := b.Put(ctx, []byte("a new blob"))
		if err != nil {
			t.Fatalf("put: %v", err)
		}
		if got, err := b.Get(ctx, h); err != nil || string(got) != "a new blob" {
			t.Fatalf("get after put: %q, %v", got, err)
		}
	})
}
