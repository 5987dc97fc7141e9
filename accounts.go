package registra

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/envelope"
)

// accounts keeps what the store has no table for yet: operators'
// credentials (password hash, TOTP enrolment, failure counters), the unit
// tree of each organisation (units with their parent), and sessions.
//
// Credentials are sealed with AES-256-GCM under the vault's key-encryption
// key, bound to the operator ID (DESIGN.md "Secrets": TOTP secrets are
// stored encrypted); unit trees are plain JSON. Both are files in
// Dir/accounts written atomically (temporary file, fsync, rename). They are
// not replicated by Raft: a cluster needs them in the store (TODO(#4):
// credential and session commands). Sessions live in memory only; a restart
// ends them.
type accounts struct {
	dir string
	kek envelope.KEK

	mu       sync.Mutex
	creds    map[string]access.Credentials
	units    map[string][]access.Unit
	sessions map[string]access.Session
}

// credentialRecord is the sealed form of access.Credentials: the secret
// types refuse to marshal themselves, so their values are copied out here,
// only to be encrypted.
type credentialRecord struct {
	PasswordHash string    `json:"password_hash"`
	TOTPSecret   string    `json:"totp_secret"`
	Confirmed    bool      `json:"confirmed"`
	LastStep     int64     `json:"last_step"`
	Failures     int       `json:"failures"`
	LockedUntil  time.Time `json:"locked_until"`
}

const (
	credentialsDir = "operators"
	unitsDir       = "organisations"
)

func openAccounts(ctx context.Context, dir string, kek envelope.KEK) (*accounts, error) {
	a := &accounts{dir: dir, kek: kek, creds: map[string]access.Credentials{},
		units: map[string][]access.Unit{}, sessions: map[string]access.Session{}}
	for _, d := range []string{credentialsDir, unitsDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, credentialsDir))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".sealed")
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, credentialsDir, e.Name()))
		if err != nil {
			return nil, err
		}
		c, err := a.open(ctx, id, b)
		if err != nil {
			return nil, fmt.Errorf("registra: credentials of %q: %w", id, err)
		}
		a.creds[id] = c
	}
	ents, err = os.ReadDir(filepath.Join(dir, unitsDir))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, unitsDir, e.Name()))
		if err != nil {
			return nil, err
		}
		var us []access.Unit
		if err := json.Unmarshal(b, &us); err != nil {
			return nil, fmt.Errorf("registra: units of %q: %w", id, err)
		}
		a.units[id] = us
	}
	return a, nil
}

func credentialsAD(id string) []byte { return []byte("registra accounts v1 operator " + id) }

func (a *accounts) seal(ctx context.Context, id string, c access.Credentials) ([]byte, error) {
	plain, err := json.Marshal(credentialRecord{PasswordHash: c.PasswordHash.Reveal(), TOTPSecret: c.TOTP.Secret.Reveal(),
		Confirmed: c.TOTP.Confirmed, LastStep: c.TOTP.LastStep, Failures: c.Failures, LockedUntil: c.LockedUntil})
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return a.kek.Seal(ctx, plain, credentialsAD(id))
}

func (a *accounts) open(ctx context.Context, id string, b []byte) (access.Credentials, error) {
	plain, err := a.kek.Open(ctx, b, credentialsAD(id))
	if err != nil {
		return access.Credentials{}, fmt.Errorf("sealed credentials of %q: %w", id, err)
	}
	defer clear(plain)
	var r credentialRecord
	if err := json.Unmarshal(plain, &r); err != nil {
		return access.Credentials{}, err
	}
	return access.Credentials{PasswordHash: access.PasswordHash(r.PasswordHash),
		TOTP:     access.TOTP{Secret: access.TOTPSecret(r.TOTPSecret), Confirmed: r.Confirmed, LastStep: r.LastStep},
		Failures: r.Failures, LockedUntil: r.LockedUntil}, nil
}

// credentials returns an operator's credentials.
func (a *accounts) credentials(id string) (access.Credentials, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.creds[id]
	return c, ok
}

// putCredentials stores an operator's credentials durably.
func (a *accounts) putCredentials(ctx context.Context, id string, c access.Credentials) error {
	b, err := a.seal(ctx, id, c)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := writeAtomic(filepath.Join(a.dir, credentialsDir), id+".sealed", b); err != nil {
		return err
	}
	a.creds[id] = c
	return nil
}

// operatorIDs returns the IDs of every operator with credentials, sorted.
func (a *accounts) operatorIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]string, 0, len(a.creds))
	for id := range a.creds {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// orgUnits returns the unit tree of an organisation.
func (a *accounts) orgUnits(org string) []access.Unit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.units[org])
}

// orgIDs returns the organisations with a unit tree, sorted.
func (a *accounts) orgIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]string, 0, len(a.units))
	for id := range a.units {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// putUnits stores an organisation's unit tree durably.
func (a *accounts) putUnits(org string, us []access.Unit) error {
	b, err := json.Marshal(us)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := writeAtomic(filepath.Join(a.dir, unitsDir), org+".json", b); err != nil {
		return err
	}
	a.units[org] = slices.Clone(us)
	return nil
}

func (a *accounts) session(id string) (access.Session, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[id]
	return s, ok
}

func (a *accounts) putSession(s access.Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions[s.ID] = s
}

// endSessions ends every session of an operator (disabled, or credentials
// reset).
func (a *accounts) endSessions(operator string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, s := range a.sessions {
		if s.Operator == operator {
			a.sessions[id] = s.End(now)
		}
	}
}

// writeAtomic writes name in dir through a synced temporary file and a
// rename, then syncs the directory, so that a crash leaves the old content
// or the new one.
func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) //nolint:errcheck // gone after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
