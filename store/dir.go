package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The data directory layout:
//
//	REGISTRA-STORE   format marker, written first, checked before anything else
//	LOCK             flock'ed while a process has the directory open
//	raft/wal/        raft-wal segments and metadata (the Raft log)
//	raft/snapshots/  Raft snapshots of the state
//	blobs/packs/     small blobs appended to segments, NNNNNNNN.pack
//	blobs/           larger content-addressed blobs, blobs/ab/abcdef...
const (
	markerFile  = "REGISTRA-STORE"
	lockFile    = "LOCK"
	formatName  = "registra-store"
	formatVer   = 1
	walDir      = "raft/wal"
	snapsDir    = "raft"
	blobsDir    = "blobs"
	blobsTmpDir = "blobs/tmp"
)

type marker struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// prepareDir checks that dir is ours (or creates it empty) and locks it. A
// directory of another program or version fails before anything in it is
// touched.
func prepareDir(dir string) (unlock func(), err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: creating data directory: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("store: reading data directory: %w", err)
	}
	// A marker write cut short by a crash leaves only its temporary file:
	// such a directory is still empty.
	used := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "."+markerFile+".tmp") {
			used++
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, markerFile))
	switch {
	case errors.Is(err, fs.ErrNotExist) && used > 0:
		return nil, fmt.Errorf("%w: %s is not empty and has no %s marker: not a registra store", ErrVersion, dir, markerFile)
	case errors.Is(err, fs.ErrNotExist):
		if err := writeFileAtomic(dir, markerFile, mustJSON(marker{Format: formatName, Version: formatVer})); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("store: reading %s: %w", markerFile, err)
	default:
		var m marker
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%w: %s: unreadable marker: %v", ErrCorrupt, markerFile, err)
		}
		if m.Format != formatName {
			return nil, fmt.Errorf("%w: %s is a %q directory, not %q", ErrVersion, dir, m.Format, formatName)
		}
		if m.Version != formatVer {
			return nil, fmt.Errorf("%w: %s has format version %d, this program reads version %d", ErrVersion, dir, m.Version, formatVer)
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close() // the lock failure is the error worth reporting
		return nil, fmt.Errorf("store: %s is in use by another process: %w", dir, err)
	}
	return func() { _ = f.Close() /* closing releases the flock; nothing to report */ }, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // marker is a fixed struct of strings and ints
	}
	return append(b, '\n')
}

// writeFileAtomic writes name in dir through a temporary file, fsync and
// rename, then fsyncs the directory.
func writeFileAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("store: writing %s: %w", name, err)
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
		werr = os.Rename(tmp, filepath.Join(dir, name))
	}
	if werr != nil {
		_ = os.Remove(tmp) // best effort; the write error is what matters
		return fmt.Errorf("store: writing %s: %w", name, werr)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: syncing %s: %w", dir, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("store: syncing %s: %w", dir, serr)
	}
	if cerr != nil {
		return fmt.Errorf("store: syncing %s: %w", dir, cerr)
	}
	return nil
}
