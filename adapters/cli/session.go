package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/internal/atomicfile"
)

// SessionFile is the name of the saved session in the configuration
// directory.
const SessionFile = "session.json"

// savedSession is what `registra login` keeps for the client commands.
type savedSession struct {
	// Server is the API's base URL.
	Server string `json:"server"`
	// CAFile is the PEM file of the server's CA, when not a system root.
	CAFile string `json:"ca_file,omitempty"`
	// Username is the logged-in operator.
	Username string `json:"username"`
	// Token is the bearer token; it redacts itself when printed.
	Token access.SessionToken `json:"-"`
	// ExpiresAt is the session's absolute end.
	ExpiresAt time.Time `json:"expires_at"`
}

// sessionFile is the on-disk form: the token in clear, which only this file
// (mode 0600) holds.
type sessionFile struct {
	savedSession
	Token string `json:"token"`
}

// configDir returns the directory of the saved session.
func (e *env) configDir() (string, error) {
	if e.cfg.ConfigDir != "" {
		return e.cfg.ConfigDir, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the configuration directory: %w", err)
	}
	return filepath.Join(d, "registra"), nil
}

// saveSession writes s to the configuration directory, readable by the user
// only (directory 0700, file 0600), replacing the file atomically.
func (e *env) saveSession(s savedSession) (string, error) {
	dir, err := e.configDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(sessionFile{savedSession: s, Token: s.Token.Reveal()}, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, SessionFile)
	return path, atomicfile.Write(path, append(b, '\n'), 0o600)
}

// loadSession reads the saved session; a missing file is ErrNotLoggedIn.
func (e *env) loadSession() (savedSession, error) {
	dir, err := e.configDir()
	if err != nil {
		return savedSession{}, err
	}
	b, err := os.ReadFile(filepath.Join(dir, SessionFile))
	if errors.Is(err, fs.ErrNotExist) {
		return savedSession{}, fmt.Errorf("%w: run `registra login --server URL` first", ErrNotLoggedIn)
	}
	if err != nil {
		return savedSession{}, err
	}
	var f sessionFile
	if err := json.Unmarshal(b, &f); err != nil {
		return savedSession{}, fmt.Errorf("reading %s: %w", SessionFile, err)
	}
	s := f.savedSession
	s.Token = access.SessionToken(f.Token)
	return s, nil
}

// removeSession deletes the saved session; a missing one is not an error.
func (e *env) removeSession() error {
	dir, err := e.configDir()
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, SessionFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
