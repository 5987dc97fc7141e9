package registra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/store"
)

// Directories made before credentials, unit parents and sessions were in
// the store kept them in Dir/accounts: operators/<id>.sealed (the
// credentials as JSON, sealed under the vault key with additional data
// legacyCredentialsAD) and organisations/<org>.json (the unit tree). Open
// imports them once into the store, then renames the directory to
// Dir/accounts.imported, so that nothing a platform acknowledged is lost
// across the upgrade. Sessions were in memory only: there are none to
// import.

const legacyAccountsDir = "accounts"

// legacyCredentials is the sealed JSON of operators/<id>.sealed.
type legacyCredentials struct {
	PasswordHash string    `json:"password_hash"`
	TOTPSecret   string    `json:"totp_secret"`
	Confirmed    bool      `json:"confirmed"`
	LastStep     int64     `json:"last_step"`
	Failures     int       `json:"failures"`
	LockedUntil  time.Time `json:"locked_until"`
}

func legacyCredentialsAD(id string) []byte { return []byte("registra accounts v1 operator " + id) }

// importLegacyAccounts moves Dir/accounts into the store (see above). An
// operator that already has credentials in the store keeps them; a unit
// gets the parent its legacy tree names when it has none. A file that does
// not open is an error, and nothing is renamed: Open fails rather than lose
// an operator's login.
func (p *Platform) importLegacyAccounts(ctx context.Context) error {
	dir := filepath.Join(p.cfg.Dir, legacyAccountsDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	var cmds []store.Command
	units, err := readLegacyFiles(filepath.Join(dir, "organisations"), ".json")
	if err != nil {
		return err
	}
	for org, b := range units {
		var tree []access.Unit
		if err := json.Unmarshal(b, &tree); err != nil {
			return fmt.Errorf("legacy units of %q: %w", org, err)
		}
		for _, u := range tree {
			if u.Parent == "" {
				continue
			}
			su, err := snap.Unit(storeUnitID(org, u.ID))
			if isNotFound(err) || (err == nil && su.ParentID != "") {
				continue
			}
			if err != nil {
				return err
			}
			su.ParentID = storeUnitID(org, u.Parent)
			cmds = append(cmds, store.PutUnit{Unit: su, ExpectVersion: su.Version})
		}
	}
	creds, err := readLegacyFiles(filepath.Join(dir, "operators"), ".sealed")
	if err != nil {
		return err
	}
	for id, b := range creds {
		op, err := snap.Operator(id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := snap.Credentials(id); err == nil {
			continue
		} else if !isNotFound(err) {
			return err
		}
		plain, err := p.kek.Open(ctx, b, legacyCredentialsAD(id))
		if err != nil {
			return fmt.Errorf("legacy credentials of %q: %w", id, err)
		}
		var lc legacyCredentials
		err = json.Unmarshal(plain, &lc)
		clear(plain)
		if err != nil {
			return fmt.Errorf("legacy credentials of %q: %w", id, err)
		}
		c := access.Credentials{PasswordHash: access.PasswordHash(lc.PasswordHash),
			TOTP:     access.TOTP{Secret: access.TOTPSecret(lc.TOTPSecret), Confirmed: lc.Confirmed, LastStep: lc.LastStep},
			Failures: lc.Failures, LockedUntil: lc.LockedUntil}
		put, err := p.putCredentials(ctx, op.OrgID, id, store.Credentials{}, access.Credentials{}, c)
		if err != nil {
			return err
		}
		cmds = append(cmds, put, auditEvent(op.OrgID, "system", "operator.import_credentials", id, p.clock(),
			auditDetails{Outcome: outcomeDone}))
	}
	for len(cmds) > 0 {
		n := min(len(cmds), store.MaxCommands)
		if _, err := p.apply(ctx, "import accounts", cmds[:n]...); err != nil {
			return err
		}
		cmds = cmds[n:]
	}
	return os.Rename(dir, dir+".imported")
}

// readLegacyFiles returns the content of the files of dir named <id><ext>,
// by id; a missing dir has none.
func readLegacyFiles(dir, ext string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ext)
		if !ok || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, nil
}
