package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MaxBlobSize is the largest blob the store accepts.
const MaxBlobSize = 64 << 20

// blobStore keeps blobs as files named by their SHA-256 under a directory.
type blobStore struct {
	dir string
}

var _ BlobStore = (*blobStore)(nil)

func newBlobStore(dir string) (*blobStore, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("store: creating blob directory: %w", err)
	}
	return &blobStore{dir: dir}, nil
}

func (b *blobStore) path(hash string) string { return filepath.Join(b.dir, hash[:2], hash) }

// Put writes data through a temporary file, fsync and rename, so a blob is
// either absent or complete.
func (b *blobStore) Put(ctx context.Context, data []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(data) > MaxBlobSize {
		return "", fieldErr("blob", fmt.Sprintf("is larger than %d bytes", MaxBlobSize))
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	p := b.path(hash)
	if cur, err := os.ReadFile(p); err == nil && sha256.Sum256(cur) == sum {
		return hash, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("store: writing blob: %w", err)
	}
	f, err := os.CreateTemp(filepath.Join(b.dir, "tmp"), hash[:8]+"*")
	if err != nil {
		return "", fmt.Errorf("store: writing blob: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, p)
	}
	if werr != nil {
		_ = os.Remove(tmp) // best effort; the write error is what matters
		return "", fmt.Errorf("store: writing blob: %w", werr)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return "", err
	}
	return hash, nil
}

func (b *blobStore) Get(ctx context.Context, hash string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validHash(hash) {
		return nil, fieldErr("hash", "is not a lower-case hex SHA-256")
	}
	data, err := os.ReadFile(b.path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound("blob", hash)
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading blob: %w", err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != hash {
		return nil, fmt.Errorf("%w: blob %s does not match its hash", ErrCorrupt, hash)
	}
	return data, nil
}

func (b *blobStore) Has(ctx context.Context, hash string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !validHash(hash) {
		return false, fieldErr("hash", "is not a lower-case hex SHA-256")
	}
	_, err := os.Stat(b.path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: reading blob: %w", err)
	}
	return true, nil
}
