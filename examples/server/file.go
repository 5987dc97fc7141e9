package main

import (
	"os"
	"path/filepath"
)

// writeFile writes b to path atomically: a temporary file with mode,
// fsynced, then renamed over path.
func writeFile(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) //nolint:errcheck // gone after the rename
	if err := f.Chmod(mode); err != nil {
		f.Close() //nolint:errcheck // the chmod error is reported
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close() //nolint:errcheck // the write error is reported
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close() //nolint:errcheck // the sync error is reported
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
