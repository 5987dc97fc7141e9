// Package atomicfile writes files so that a reader, or a restart after a
// crash, finds either the old content or the new one, never a mix: the data
// goes to a temporary file in the same directory, which is synced and then
// renamed (or linked) into place, and the directory is synced so that the new
// name itself is durable.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces the file at path with data, with mode perm. The directory
// must exist. On error the file at path is unchanged and no temporary file
// is left behind.
func Write(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp) // best effort: the rename error is the one to report
		return err
	}
	return syncDir(filepath.Dir(path))
}

// Create writes data to a new file at path, with mode perm. Unlike [Write]
// it never replaces a file: when path exists it returns an error matching
// fs.ErrExist and leaves that file as it is, so that of two concurrent
// creators exactly one wins.
func Create(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) //nolint:errcheck // the linked name stays; the temporary one goes
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data to a synced temporary file beside path and returns
// its name.
func writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp) // best effort: the write error is the one to report
		return "", err
	}
	return tmp, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
