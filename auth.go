package registra

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/store"
)

// Actor is the authenticated operator a Platform method acts for, as
// [Platform.Authenticate] or [Platform.Login] returned it. Methods reload
// the operator by OperatorID on every call, so that a role change or a
// disabled account takes effect at once; the other fields are for display.
type Actor struct {
	// OperatorID identifies the operator (it equals the username).
	OperatorID string
	// Org is the client code of the operator's organisation.
	Org string
	// Roles are the operator's roles when the actor was made.
	Roles []access.Role
}

// Session is an opened operator session.
type Session struct {
	// Token is the bearer token, handed to the client once.
	Token access.SessionToken
	// ExpiresAt is the session's absolute end; it also ends after
	// access.Config.SessionIdle without use.
	ExpiresAt time.Time
	// Actor is the logged-in operator.
	Actor Actor
}

// Enrolment is a TOTP enrolment for an authenticator app: the base32 secret
// and the otpauth URI (both redact themselves when printed).
type Enrolment = access.Enrollment

// directory satisfies access.Directory over a store snapshot. It
// remembers the credentials it loaded, so that the caller writes the
// changed ones back with the version it read.
type directory struct {
	p    *Platform
	snap store.Snapshot
	prev store.Credentials
	old  access.Credentials
}

func (d *directory) OperatorByUsername(ctx context.Context, username string) (access.Operator, bool, error) {
	op, err := d.snap.OperatorByUsername(username)
	if isNotFound(err) {
		return access.Operator{}, false, nil
	}
	if err != nil {
		return access.Operator{}, false, err
	}
	aop, err := d.p.accessOperator(op)
	if err != nil {
		return access.Operator{}, false, err
	}
	d.prev, d.old, _, err = d.p.credentials(ctx, d.snap, op.ID)
	if err != nil {
		return access.Operator{}, false, err
	}
	aop.Credentials = d.old
	return aop, true, nil
}

// saveCredentials returns the command that writes back op's credentials
// as a call through d changed them.
func (d *directory) saveCredentials(ctx context.Context, op access.Operator) (store.Command, error) {
	return d.p.putCredentials(ctx, op.Org, op.ID, d.prev, d.old, op.Credentials)
}

// accessOperator returns the access view of a stored operator, without its
// credentials (see [Platform.credentials]).
func (p *Platform) accessOperator(op store.Operator) (access.Operator, error) {
	roles, err := splitRoles(op.Role)
	if err != nil {
		return access.Operator{}, &Error{Op: "operator", Err: fmt.Errorf("operator %q: %w", op.ID, err)}
	}
	aop := access.Operator{ID: op.ID, Username: op.Username, Org: op.OrgID, Roles: roles, Disabled: op.Disabled}
	if op.UnitID != "" {
		aop.Units = []string{unitLocal(op.OrgID, op.UnitID)}
	}
	return aop, nil
}

// actor loads the acting operator. An operator that no longer exists or is
// disabled is unauthenticated.
func (p *Platform) actor(snap store.Snapshot, a Actor) (store.Operator, access.Operator, error) {
	op, err := snap.Operator(a.OperatorID)
	if isNotFound(err) || (err == nil && op.Disabled) {
		return store.Operator{}, access.Operator{}, fmt.Errorf("%w: operator %q is unknown or disabled", ErrUnauthenticated, a.OperatorID)
	}
	if err != nil {
		return store.Operator{}, access.Operator{}, wrap("actor", err)
	}
	aop, err := p.accessOperator(op)
	if err != nil {
		return store.Operator{}, access.Operator{}, err
	}
	return op, aop, nil
}

func actorOf(aop access.Operator) Actor {
	return Actor{OperatorID: aop.ID, Org: aop.Org, Roles: aop.Roles}
}

// Login checks a username, password and TOTP code, and opens a session.
// Failures count towards the lockout and are audited; every refusal wraps
// [ErrUnauthenticated] and says nothing of which factor failed.
func (p *Platform) Login(ctx context.Context, username string, pw access.Password, code access.Passcode) (*Session, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	now := p.clock()
	dir := &directory{p: p, snap: snap}
	op, lerr := p.auth.Login(ctx, dir, username, pw, code, now)
	if lerr != nil {
		if op.ID != "" {
			rule := "refused"
			if ae, ok := errors.AsType[*access.AuthError](lerr); ok {
				rule = ae.Failure.String()
			} else if errors.Is(lerr, access.ErrLocked) {
				rule = "locked"
			} else if errors.Is(lerr, access.ErrEnrolmentRequired) {
				rule = "enrolment required"
			}
			// The failure counts and its audit event are one batch.
			put, err := dir.saveCredentials(ctx, op)
			if err != nil {
				return nil, wrap("login", err)
			}
			if _, err := p.apply(ctx, "login", put, auditEvent(op.Org, op.ID, "session.login", op.ID, now,
				auditDetails{Outcome: outcomeRefused, Rule: rule})); err != nil {
				return nil, err
			}
		}
		return nil, wrap("login", lerr)
	}
	tok, sess, err := p.auth.NewSession(op, now)
	if err != nil {
		return nil, wrap("login", err)
	}
	put, err := dir.saveCredentials(ctx, op)
	if err != nil {
		return nil, wrap("login", err)
	}
	if _, err := p.apply(ctx, "login", put, store.PutSession{Session: sessionRecord(sess)},
		auditEvent(op.Org, op.ID, "session.login", op.ID, now, auditDetails{Outcome: outcomeDone})); err != nil {
		return nil, err
	}
	return &Session{Token: tok, ExpiresAt: sess.Expires, Actor: actorOf(op)}, nil
}

// Authenticate checks a session token and returns the operator it belongs
// to. An unknown, ended, expired or idle session, or a disabled operator,
// wraps [ErrUnauthenticated].
func (p *Platform) Authenticate(ctx context.Context, token string) (Actor, error) {
	tok, err := access.ParseSessionToken(token)
	if err != nil {
		return Actor{}, fmt.Errorf("%w: malformed session token", ErrUnauthenticated)
	}
	snap, err := p.snapshot(ctx)
	if err != nil {
		return Actor{}, err
	}
	defer snap.Close()
	stored, err := snap.Session(access.SessionID(tok))
	if isNotFound(err) {
		return Actor{}, fmt.Errorf("%w: unknown session", ErrUnauthenticated)
	}
	if err != nil {
		return Actor{}, wrap("authenticate", err)
	}
	now := p.clock()
	s, err := p.auth.CheckSession(accessSession(stored), tok, now)
	if err != nil {
		return Actor{}, wrap("authenticate", err)
	}
	_, aop, err := p.actor(snap, Actor{OperatorID: s.Operator})
	if err != nil {
		return Actor{}, err
	}
	if s.LastSeen.Sub(stored.LastSeen) >= p.sessionTouch() {
		// A conflict is a concurrent use (which moved LastSeen) or a
		// logout after this check: the session was valid when read.
		_, err := p.store.Apply(ctx, &store.Batch{Commands: []store.Command{
			store.PutSession{Session: sessionRecord(s), ExpectVersion: stored.Version}}})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return Actor{}, wrap("authenticate", err)
		}
	}
	return actorOf(aop), nil
}

// Logout ends the session of token. Ending an unknown session is not an
// error.
func (p *Platform) Logout(ctx context.Context, token string) error {
	tok, err := access.ParseSessionToken(token)
	if err != nil {
		return nil
	}
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	s, err := snap.Session(access.SessionID(tok))
	snap.Close()
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return wrap("logout", err)
	}
	_, err = p.apply(ctx, "logout", store.DeleteSession{ID: s.ID},
		auditEvent(s.OrgID, s.OperatorID, "session.logout", s.OperatorID, p.clock(), auditDetails{Outcome: outcomeDone}))
	return err
}

// ConfirmTOTP completes an operator's TOTP enrolment with a code from the
// authenticator app, after checking the password: the first step of a new
// operator (or of one whose enrolment was reset) before [Platform.Login].
func (p *Platform) ConfirmTOTP(ctx context.Context, username string, pw access.Password, code access.Passcode) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	dir := &directory{p: p, snap: snap}
	op, found, err := dir.OperatorByUsername(ctx, username)
	if err != nil {
		return wrap("confirm totp", err)
	}
	if !found {
		return wrap("confirm totp", p.auth.RejectUnknown(ctx, pw))
	}
	now := p.clock()
	checked, err := p.auth.CheckPassword(ctx, op, pw, now)
	if checked.ID == "" {
		// The hash did not run (busy, or ctx ended): nothing to count.
		return wrap("confirm totp", err)
	}
	op = checked
	if err == nil {
		op, err = p.auth.ConfirmTOTP(op, code, now)
	}
	put, perr := dir.saveCredentials(ctx, op)
	if perr != nil {
		return wrap("confirm totp", perr)
	}
	outcome := auditDetails{Outcome: outcomeDone}
	if err != nil {
		outcome = auditDetails{Outcome: outcomeRefused, Rule: "credentials refused"}
	}
	if _, aerr := p.apply(ctx, "confirm totp", put, auditEvent(op.Org, op.ID, "operator.totp_confirm", op.ID, now, outcome)); aerr != nil {
		return aerr
	}
	return wrap("confirm totp", err)
}
