package registra

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/store"
)

// Operators' credentials, the unit trees and sessions live in the store, so
// that every account change is one Raft-committed batch with its audit
// event. The secrets of a credential (the Argon2id hash and the TOTP
// secret) are sealed with the vault's key-encryption key, bound to the
// operator ID (DESIGN.md "Secrets": TOTP secrets are stored encrypted),
// before they reach a command; the counters (confirmation, last TOTP step,
// failures, lockout) are kept in clear beside them. Sessions are kept under
// the SHA-256 of their token (access.SessionID), never the token.

// sealedSecrets is the plaintext of store.Credentials.Sealed: the secret
// types refuse to marshal themselves, so their values are copied out here,
// only to be encrypted.
type sealedSecrets struct {
	PasswordHash string `json:"password_hash"`
	TOTPSecret   string `json:"totp_secret"`
}

func credentialsAD(id string) []byte { return []byte("registra credentials v2 operator " + id) }

// sessionTouch is how far a session's last use must have moved before
// [Platform.Authenticate] writes it: a session ends after at most that much
// less idle time than access.Config.SessionIdle, and a busy session costs
// one write a minute rather than one per request.
func (p *Platform) sessionTouch() time.Duration {
	idle := p.cfg.Access.SessionIdle
	if idle == 0 {
		idle = access.DefaultSessionIdle
	}
	return min(time.Minute, idle/10)
}

// credentials returns an operator's stored credentials with the secrets
// opened; found is false when the operator has none.
func (p *Platform) credentials(ctx context.Context, snap store.Snapshot, id string) (store.Credentials, access.Credentials, bool, error) {
	sc, err := snap.Credentials(id)
	if isNotFound(err) {
		return store.Credentials{}, access.Credentials{}, false, nil
	}
	if err != nil {
		return store.Credentials{}, access.Credentials{}, false, err
	}
	plain, err := p.kek.Open(ctx, sc.Sealed, credentialsAD(id))
	if err != nil {
		return store.Credentials{}, access.Credentials{}, false, fmt.Errorf("sealed credentials of %q: %w", id, err)
	}
	defer clear(plain)
	var s sealedSecrets
	if err := json.Unmarshal(plain, &s); err != nil {
		return store.Credentials{}, access.Credentials{}, false, fmt.Errorf("sealed credentials of %q: %w", id, err)
	}
	return sc, access.Credentials{PasswordHash: access.PasswordHash(s.PasswordHash),
		TOTP:     access.TOTP{Secret: access.TOTPSecret(s.TOTPSecret), Confirmed: sc.Confirmed, LastStep: sc.LastStep},
		Failures: int(sc.Failures), LockedUntil: sc.LockedUntil}, true, nil
}

// putCredentials returns the command that stores c as the credentials of
// operator id in org. prev is what the store holds (zero: none) and old its
// opened form: when the secrets did not change, the sealed bytes are kept
// and only the counters are written.
func (p *Platform) putCredentials(ctx context.Context, org, id string, prev store.Credentials, old, c access.Credentials) (store.Command, error) {
	next := store.Credentials{OperatorID: id, OrgID: org, Sealed: prev.Sealed, Confirmed: c.TOTP.Confirmed,
		LastStep: max(c.TOTP.LastStep, 0), Failures: uint32(max(c.Failures, 0)), LockedUntil: c.LockedUntil}
	if len(prev.Sealed) == 0 || c.PasswordHash != old.PasswordHash || c.TOTP.Secret != old.TOTP.Secret {
		plain, err := json.Marshal(sealedSecrets{PasswordHash: c.PasswordHash.Reveal(), TOTPSecret: c.TOTP.Secret.Reveal()})
		if err != nil {
			return nil, err
		}
		defer clear(plain)
		if next.Sealed, err = p.kek.Seal(ctx, plain, credentialsAD(id)); err != nil {
			return nil, err
		}
	}
	return store.PutCredentials{Credentials: next, ExpectVersion: prev.Version}, nil
}

// sessionRecord is the store's form of an access session.
func sessionRecord(s access.Session) store.Session {
	return store.Session{ID: s.ID, OperatorID: s.Operator, OrgID: s.Org, CreatedAt: s.Created, LastSeen: s.LastSeen,
		ExpiresAt: s.Expires}
}

// accessSession is the access form of a stored session.
func accessSession(s store.Session) access.Session {
	return access.Session{ID: s.ID, Operator: s.OperatorID, Org: s.OrgID, Created: s.CreatedAt, Expires: s.ExpiresAt,
		LastSeen: s.LastSeen}
}

// endSessions returns the commands that end every session of an operator
// (disabled, or credentials reset).
func endSessions(snap store.Snapshot, operator string) ([]store.Command, error) {
	ss, err := snap.OperatorSessions(operator)
	if err != nil {
		return nil, err
	}
	cmds := make([]store.Command, 0, len(ss))
	for _, s := range ss {
		cmds = append(cmds, store.DeleteSession{ID: s.ID})
	}
	return cmds, nil
}

// orgUnits returns the unit tree of an organisation.
func orgUnits(snap store.Snapshot, org string) ([]access.Unit, error) {
	us, err := snap.Units(org)
	if err != nil {
		return nil, err
	}
	out := make([]access.Unit, 0, len(us))
	for _, u := range us {
		au := access.Unit{ID: unitLocal(org, u.ID), Name: u.Name}
		if u.ParentID != "" {
			au.Parent = unitLocal(org, u.ParentID)
		}
		out = append(out, au)
	}
	return out, nil
}

// unitCommands returns the commands that store an organisation's units,
// main units first (the store refuses a secondary unit before its parent).
func unitCommands(org string, units []access.Unit, version func(id string) uint64) ([]store.Command, error) {
	sorted := slices.Clone(units)
	slices.SortStableFunc(sorted, func(a, b access.Unit) int {
		return cmp.Compare(boolInt(!a.Main()), boolInt(!b.Main()))
	})
	cmds := make([]store.Command, 0, len(sorted))
	for _, u := range sorted {
		id := storeUnitID(org, u.ID)
		if len(id) > store.MaxIDLen {
			return nil, fieldErr("organisation.units", "client code and unit ID together exceed 63 characters")
		}
		su := store.Unit{ID: id, OrgID: org, Name: u.Name}
		if u.Parent != "" {
			su.ParentID = storeUnitID(org, u.Parent)
		}
		var expect uint64
		if version != nil {
			expect = version(id)
		}
		cmds = append(cmds, store.PutUnit{Unit: su, ExpectVersion: expect})
	}
	return cmds, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
