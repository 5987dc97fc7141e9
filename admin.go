package registra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/internal/taxcode"
	"github.com/registra-pki/registra/store"
)

// Unit is an office of an organisation: a main unit, or a secondary unit
// under a main one (Manuale operatore, "Login and Dashboard").
type Unit = access.Unit

// Organisation is a partner organisation with its units.
type Organisation struct {
	// ClientCode identifies the organisation (access.Organisation's rules).
	ClientCode string
	// Name is the display name.
	Name string
	// Units are its main and secondary units.
	Units []Unit
}

// OperatorInput creates an operator.
type OperatorInput struct {
	// Org is the client code; zero means the acting operator's.
	Org string
	// Username is the login name and the operator's ID.
	Username string
	Name     string
	Email    string
	// TaxCode is the operator's own tax code, as their qualified signature
	// certificate carries it: a recognition report is accepted only when
	// signed in the name of the operator who records it, or of the officer
	// named (Manuale operatore, "Introduction to the Recognition Process":
	// "The Operator must have an active signature certificate in its
	// name"). Optional; required to record Live ID recognitions and
	// signed Offline reports.
	TaxCode string
	Roles   []access.Role
	// Unit is the unit the operator works in; required except for admins.
	Unit string
	// Password is the initial password.
	Password access.Password `json:"-"`
}

// OperatorUpdate changes an operator. Nil fields are left unchanged.
type OperatorUpdate struct {
	Name     *string
	Email    *string
	TaxCode  *string
	Roles    []access.Role
	Unit     *string
	Disabled *bool
}

// Operator is an operator as the platform shows it.
type Operator struct {
	ID        string
	Username  string
	Org       string
	Unit      string
	Name      string
	Email     string
	TaxCode   string
	Roles     []access.Role
	Disabled  bool
	Enrolled  bool
	CreatedAt time.Time
}

// BootstrapInput creates the first organisation and its admin.
type BootstrapInput struct {
	Organisation Organisation
	Admin        OperatorInput
}

// storeUnitID returns the store ID of an organisation's unit: unit IDs are
// unique within their organisation only.
func storeUnitID(org, unit string) string { return org + ":" + unit }

// unitLocal returns the organisation-local ID of a stored unit ID.
func unitLocal(org, id string) string { return strings.TrimPrefix(id, org+":") }

// operatorView shows a stored operator; enrolled tells whether its TOTP
// enrolment is confirmed.
func operatorView(op store.Operator, enrolled bool) Operator {
	roles, _ := splitRoles(op.Role) //nolint:errcheck // roles were checked when written
	return Operator{ID: op.ID, Username: op.Username, Org: op.OrgID, Unit: unitLocal(op.OrgID, op.UnitID),
		Name: op.Name, Email: op.Email, TaxCode: op.TaxCode, Roles: roles, Disabled: op.Disabled, Enrolled: enrolled,
		CreatedAt: op.CreatedAt}
}

// storedOperatorView shows a stored operator with its enrolment as the
// snapshot holds it.
func storedOperatorView(snap store.Snapshot, op store.Operator) (Operator, error) {
	c, err := snap.Credentials(op.ID)
	if err != nil && !isNotFound(err) {
		return Operator{}, err
	}
	return operatorView(op, c.Confirmed), nil
}

// organisationCommands validates org and returns the commands that create
// it with its units.
func (p *Platform) organisationCommands(org Organisation) ([]store.Command, error) {
	ao := access.Organisation{ClientCode: org.ClientCode, Name: org.Name, Units: org.Units}
	if err := ao.Validate(); err != nil {
		return nil, wrap("organisation", err)
	}
	units, err := unitCommands(org.ClientCode, org.Units, nil)
	if err != nil {
		return nil, err
	}
	return append([]store.Command{store.PutOrganisation{
		Organisation: store.Organisation{ID: org.ClientCode, ClientCode: org.ClientCode, Name: org.Name}}}, units...), nil
}

// Bootstrap creates the first organisation and its admin on a platform
// without operators, and returns the admin's TOTP enrolment. The enrolment
// is already confirmed: its secret is handed to the admin out of band (the
// example server writes it to DATA/bootstrap.json), so the admin logs in
// with the password and a code at once. A platform with operators refuses
// with [ErrConflict].
func (p *Platform) Bootstrap(ctx context.Context, in BootstrapInput) (Enrolment, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return Enrolment{}, err
	}
	orgs, err := snap.Organisations()
	for _, o := range orgs {
		if err != nil {
			break
		}
		var ops []store.Operator
		if ops, err = snap.Operators(o.ID); err == nil && len(ops) > 0 {
			snap.Close()
			return Enrolment{}, fmt.Errorf("%w: the platform already has operators", ErrConflict)
		}
	}
	snap.Close()
	if err != nil {
		return Enrolment{}, wrap("bootstrap", err)
	}
	in.Admin.Org = in.Organisation.ClientCode
	if len(in.Admin.Roles) == 0 {
		in.Admin.Roles = []access.Role{access.RoleAdmin}
	}
	cmds, err := p.organisationCommands(in.Organisation)
	if err != nil {
		return Enrolment{}, err
	}
	aop, sop, err := p.newOperator(ctx, in.Admin, in.Organisation)
	if err != nil {
		return Enrolment{}, err
	}
	aop, enr, err := p.auth.EnrollTOTP(aop)
	if err != nil {
		return Enrolment{}, wrap("bootstrap", err)
	}
	aop.Credentials.TOTP.Confirmed = true
	put, err := p.putCredentials(ctx, sop.OrgID, sop.ID, store.Credentials{}, access.Credentials{}, aop.Credentials)
	if err != nil {
		return Enrolment{}, wrap("bootstrap", err)
	}
	now := p.clock()
	cmds = append(cmds, store.PutOperator{Operator: sop}, put,
		auditEvent(in.Organisation.ClientCode, sop.ID, "platform.bootstrap", sop.ID, now,
			auditDetails{Outcome: outcomeDone, Input: digest(in)}))
	if _, err := p.apply(ctx, "bootstrap", cmds...); err != nil {
		return Enrolment{}, err
	}
	return enr, nil
}

// newOperator validates in against its organisation and returns the access
// and store records of a new operator, with its password set.
func (p *Platform) newOperator(ctx context.Context, in OperatorInput, org Organisation) (access.Operator, store.Operator, error) {
	aop := access.Operator{ID: in.Username, Username: in.Username, Org: org.ClientCode, Roles: in.Roles}
	if in.Unit != "" {
		aop.Units = []string{in.Unit}
	}
	if err := aop.Validate(access.Organisation{ClientCode: org.ClientCode, Name: org.Name, Units: org.Units}); err != nil {
		return access.Operator{}, store.Operator{}, wrap("operator", err)
	}
	tax, err := operatorTaxCode(in.TaxCode)
	if err != nil {
		return access.Operator{}, store.Operator{}, err
	}
	aop, err = p.auth.SetPassword(ctx, aop, in.Password)
	if err != nil {
		return access.Operator{}, store.Operator{}, wrap("operator", err)
	}
	sop := store.Operator{ID: aop.ID, OrgID: org.ClientCode, Username: in.Username, Name: in.Name, Email: in.Email,
		TaxCode: tax, Role: joinRoles(in.Roles)}
	if in.Unit != "" {
		sop.UnitID = storeUnitID(org.ClientCode, in.Unit)
	}
	return aop, sop, nil
}

// operatorTaxCode checks an operator's tax code: empty (none registered)
// or a valid tax code, returned in upper case.
func operatorTaxCode(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	code, err := taxcode.Parse(s)
	if err != nil {
		return "", fieldErr("tax_code", taxCodeRule(err))
	}
	return code.String(), nil
}

// organisation reads an organisation with its units.
func (p *Platform) organisation(snap store.Snapshot, id string) (Organisation, store.Organisation, error) {
	so, err := snap.Organisation(id)
	if isNotFound(err) {
		return Organisation{}, store.Organisation{}, notFound("organisation", id)
	}
	if err != nil {
		return Organisation{}, store.Organisation{}, wrap("organisation", err)
	}
	units, err := orgUnits(snap, so.ID)
	if err != nil {
		return Organisation{}, store.Organisation{}, wrap("organisation", err)
	}
	return Organisation{ClientCode: so.ID, Name: so.Name, Units: units}, so, nil
}

// scope checks that aop may use permission perm on organisation org.
// Another organisation is not found unless the operator is an admin and
// the permission administrative; a missing permission is refused and
// audited.
func (p *Platform) scope(ctx context.Context, aop access.Operator, perm access.Permission, org, op, subject string) error {
	err := access.Authorize(aop, perm, org)
	if err == nil {
		return nil
	}
	if org != aop.Org && !slices.Contains(aop.Roles, access.RoleAdmin) {
		return notFound("organisation", org)
	}
	return p.refuse(ctx, op, aop.Org, aop.ID, subject, err)
}

// CreateOrganisation creates a partner organisation with its units
// (admins only).
func (p *Platform) CreateOrganisation(ctx context.Context, a Actor, org Organisation) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return err
	}
	if err := p.scope(ctx, aop, access.PermOrganisationManage, org.ClientCode, "organisation.create", org.ClientCode); err != nil {
		return err
	}
	cmds, err := p.organisationCommands(org)
	if err != nil {
		return err
	}
	if _, err := snap.Organisation(org.ClientCode); err == nil {
		return fmt.Errorf("%w: organisation %q exists", ErrConflict, org.ClientCode)
	}
	cmds = append(cmds, auditEvent(org.ClientCode, aop.ID, "organisation.create", org.ClientCode, p.clock(),
		auditDetails{Outcome: outcomeDone, Input: digest(org)}))
	_, err = p.apply(ctx, "organisation.create", cmds...)
	return err
}

// Organisation returns an organisation with its units: an operator's own,
// or any for admins.
func (p *Platform) Organisation(ctx context.Context, a Actor, id string) (Organisation, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return Organisation{}, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return Organisation{}, err
	}
	if id != aop.Org && !slices.Contains(aop.Roles, access.RoleAdmin) {
		return Organisation{}, notFound("organisation", id)
	}
	org, _, err := p.organisation(snap, id)
	return org, err
}

// PutUnit adds or renames a unit of an organisation (admins only). The
// organisation's unit tree must stay valid (a secondary unit under a main
// one, two levels only).
func (p *Platform) PutUnit(ctx context.Context, a Actor, org string, u Unit) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return err
	}
	if err := p.scope(ctx, aop, access.PermUnitManage, org, "unit.put", storeUnitID(org, u.ID)); err != nil {
		return err
	}
	o, _, err := p.organisation(snap, org)
	if err != nil {
		return err
	}
	o.Units = append(slices.DeleteFunc(slices.Clone(o.Units), func(x Unit) bool { return x.ID == u.ID }), u)
	ao := access.Organisation{ClientCode: o.ClientCode, Name: o.Name, Units: o.Units}
	if err := ao.Validate(); err != nil {
		return wrap("unit.put", err)
	}
	id := storeUnitID(org, u.ID)
	cmds, err := unitCommands(org, []Unit{u}, func(id string) uint64 {
		su, err := snap.Unit(id)
		if err != nil {
			return 0
		}
		return su.Version
	})
	if err != nil {
		return err
	}
	_, err = p.apply(ctx, "unit.put", append(cmds,
		auditEvent(org, aop.ID, "unit.put", id, p.clock(), auditDetails{Outcome: outcomeDone, Input: digest(u)}))...)
	return err
}

// Organisations lists the organisations (admins only), sorted by client
// code.
func (p *Platform) Organisations(ctx context.Context, a Actor) ([]Organisation, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return nil, err
	}
	if err := access.Authorize(aop, access.PermOrganisationManage, aop.Org); err != nil {
		return nil, p.refuse(ctx, "organisation.list", aop.Org, aop.ID, "", err)
	}
	orgs, err := snap.Organisations()
	if err != nil {
		return nil, wrap("organisation.list", err)
	}
	var out []Organisation
	for _, so := range orgs {
		o, _, err := p.organisation(snap, so.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// CreateOperator creates an operator (master RAOs in their organisation,
// admins in any) and returns the TOTP enrolment to hand over: the operator
// confirms it ([Platform.ConfirmTOTP]) before the first login.
func (p *Platform) CreateOperator(ctx context.Context, a Actor, in OperatorInput) (Operator, Enrolment, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return Operator{}, Enrolment{}, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return Operator{}, Enrolment{}, err
	}
	if in.Org == "" {
		in.Org = aop.Org
	}
	if err := p.scope(ctx, aop, access.PermOperatorManage, in.Org, "operator.create", in.Username); err != nil {
		return Operator{}, Enrolment{}, err
	}
	org, _, err := p.organisation(snap, in.Org)
	if err != nil {
		return Operator{}, Enrolment{}, err
	}
	target, sop, err := p.newOperator(ctx, in, org)
	if err != nil {
		return Operator{}, Enrolment{}, err
	}
	if err := access.AuthorizeOperatorChange(aop, target); err != nil {
		return Operator{}, Enrolment{}, p.refuse(ctx, "operator.create", aop.Org, aop.ID, in.Username, err)
	}
	if _, err := snap.Operator(sop.ID); err == nil {
		return Operator{}, Enrolment{}, fmt.Errorf("%w: username %q is taken", ErrConflict, in.Username)
	}
	if _, err := snap.OperatorByUsername(sop.Username); err == nil {
		return Operator{}, Enrolment{}, fmt.Errorf("%w: username %q is taken", ErrConflict, in.Username)
	}
	target, enr, err := p.auth.EnrollTOTP(target)
	if err != nil {
		return Operator{}, Enrolment{}, wrap("operator.create", err)
	}
	put, err := p.putCredentials(ctx, sop.OrgID, sop.ID, store.Credentials{}, access.Credentials{}, target.Credentials)
	if err != nil {
		return Operator{}, Enrolment{}, wrap("operator.create", err)
	}
	r, err := p.apply(ctx, "operator.create", store.PutOperator{Operator: sop}, put,
		auditEvent(in.Org, aop.ID, "operator.create", sop.ID, p.clock(), auditDetails{Outcome: outcomeDone, Input: digest(in)}))
	if err != nil {
		return Operator{}, Enrolment{}, err
	}
	sop.Version = r.Index
	return operatorView(sop, target.Credentials.TOTP.Confirmed), enr, nil
}

// lookupOperator loads a target operator for an operator-management action:
// another organisation's operator is not found (admins excepted).
func (p *Platform) lookupOperator(ctx context.Context, snap store.Snapshot, aop access.Operator, id, op string) (store.Operator, access.Operator, error) {
	sop, err := snap.Operator(id)
	if isNotFound(err) || (err == nil && sop.OrgID != aop.Org && !slices.Contains(aop.Roles, access.RoleAdmin)) {
		return store.Operator{}, access.Operator{}, notFound("operator", id)
	}
	if err != nil {
		return store.Operator{}, access.Operator{}, wrap(op, err)
	}
	if err := p.scope(ctx, aop, access.PermOperatorManage, sop.OrgID, op, id); err != nil {
		return store.Operator{}, access.Operator{}, err
	}
	target, err := p.accessOperator(sop)
	if err != nil {
		return store.Operator{}, access.Operator{}, err
	}
	return sop, target, nil
}

// UpdateOperator changes an operator's name, e-mail, roles, unit or
// disabled flag. Disabling ends the operator's sessions.
func (p *Platform) UpdateOperator(ctx context.Context, a Actor, id string, up OperatorUpdate) (Operator, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return Operator{}, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return Operator{}, err
	}
	sop, target, err := p.lookupOperator(ctx, snap, aop, id, "operator.update")
	if err != nil {
		return Operator{}, err
	}
	next := sop
	if up.Name != nil {
		next.Name = *up.Name
	}
	if up.Email != nil {
		next.Email = *up.Email
	}
	if up.TaxCode != nil {
		if next.TaxCode, err = operatorTaxCode(*up.TaxCode); err != nil {
			return Operator{}, err
		}
	}
	if up.Roles != nil {
		target.Roles = up.Roles
		next.Role = joinRoles(up.Roles)
	}
	if up.Unit != nil {
		target.Units, next.UnitID = nil, ""
		if *up.Unit != "" {
			target.Units, next.UnitID = []string{*up.Unit}, storeUnitID(sop.OrgID, *up.Unit)
		}
	}
	if up.Disabled != nil {
		target.Disabled, next.Disabled = *up.Disabled, *up.Disabled
	}
	org, _, err := p.organisation(snap, sop.OrgID)
	if err != nil {
		return Operator{}, err
	}
	if err := target.Validate(access.Organisation{ClientCode: org.ClientCode, Name: org.Name, Units: org.Units}); err != nil {
		return Operator{}, wrap("operator.update", err)
	}
	if err := access.AuthorizeOperatorChange(aop, target); err != nil {
		return Operator{}, p.refuse(ctx, "operator.update", aop.Org, aop.ID, id, err)
	}
	cmds := []store.Command{store.PutOperator{Operator: next, ExpectVersion: sop.Version},
		auditEvent(sop.OrgID, aop.ID, "operator.update", id, p.clock(), auditDetails{Outcome: outcomeDone, Input: digest(up)})}
	if next.Disabled {
		end, err := endSessions(snap, id)
		if err != nil {
			return Operator{}, wrap("operator.update", err)
		}
		cmds = append(cmds, end...)
	}
	r, err := p.apply(ctx, "operator.update", cmds...)
	if err != nil {
		return Operator{}, err
	}
	next.Version = r.Index
	return storedOperatorView(snap, next)
}

// ResetOperatorTOTP removes an operator's TOTP enrolment and returns a new
// one to hand over; the operator's sessions end.
func (p *Platform) ResetOperatorTOTP(ctx context.Context, a Actor, id string) (Enrolment, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return Enrolment{}, err
	}
	defer snap.Close()
	aop, sop, target, prev, err := p.operatorToReset(ctx, snap, a, id, "operator.reset_totp")
	if err != nil {
		return Enrolment{}, err
	}
	old := target.Credentials
	target, enr, err := p.auth.EnrollTOTP(access.ResetTOTP(target))
	if err != nil {
		return Enrolment{}, wrap("operator.reset_totp", err)
	}
	if err := p.resetCredentials(ctx, snap, aop.ID, sop, prev, old, target.Credentials, "operator.reset_totp"); err != nil {
		return Enrolment{}, err
	}
	return enr, nil
}

// ResetOperatorPassword sets a new password for an operator who forgot
// theirs (master RAOs in their organisation, admins anywhere, as for
// [Platform.UpdateOperator]): the password policy applies, failures and any
// lock are cleared, the operator's sessions end, and the reset is audited
// (the password never is). The TOTP enrolment stays: the operator logs in
// with the new password and their authenticator app.
func (p *Platform) ResetOperatorPassword(ctx context.Context, a Actor, id string, pw access.Password) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	aop, sop, target, prev, err := p.operatorToReset(ctx, snap, a, id, "operator.reset_password")
	if err != nil {
		return err
	}
	return p.setPassword(ctx, snap, aop.ID, sop, target, prev, pw, "operator.reset_password")
}

// operatorToReset loads, from snap, the acting operator and the operator id
// whose credentials the actor may reset (op names the action in a refusal):
// its store record, its access record with the credentials opened, and the
// credentials as the store holds them.
func (p *Platform) operatorToReset(ctx context.Context, snap store.Snapshot, a Actor, id, op string) (
	access.Operator, store.Operator, access.Operator, store.Credentials, error) {
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return access.Operator{}, store.Operator{}, access.Operator{}, store.Credentials{}, err
	}
	sop, target, err := p.lookupOperator(ctx, snap, aop, id, op)
	if err != nil {
		return access.Operator{}, store.Operator{}, access.Operator{}, store.Credentials{}, err
	}
	if err := access.AuthorizeOperatorChange(aop, target); err != nil {
		return access.Operator{}, store.Operator{}, access.Operator{}, store.Credentials{}, p.refuse(ctx, op, aop.Org, aop.ID, id, err)
	}
	prev, old, _, err := p.credentials(ctx, snap, id)
	if err != nil {
		return access.Operator{}, store.Operator{}, access.Operator{}, store.Credentials{}, wrap(op, err)
	}
	target.Credentials = old
	return aop, sop, target, prev, nil
}

// ChangePassword changes the acting operator's own password, after checking
// the current one (a wrong one counts towards the lockout, as at login).
// Every session of the operator ends, the caller's too: the operator logs in
// again with the new password.
func (p *Platform) ChangePassword(ctx context.Context, a Actor, current, next access.Password) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	sop, aop, err := p.actor(snap, a)
	if err != nil {
		return err
	}
	prev, old, _, err := p.credentials(ctx, snap, aop.ID)
	if err != nil {
		return wrap("operator.change_password", err)
	}
	aop.Credentials = old
	now := p.clock()
	checked, err := p.auth.CheckPassword(ctx, aop, current, now)
	if checked.ID == "" {
		return wrap("operator.change_password", err) // the hash did not run
	}
	if err != nil {
		put, perr := p.putCredentials(ctx, sop.OrgID, aop.ID, prev, old, checked.Credentials)
		if perr != nil {
			return wrap("operator.change_password", perr)
		}
		if _, aerr := p.apply(ctx, "operator.change_password", put, auditEvent(sop.OrgID, aop.ID, "operator.change_password",
			aop.ID, now, auditDetails{Outcome: outcomeRefused, Rule: "credentials refused"})); aerr != nil {
			return aerr
		}
		return wrap("operator.change_password", err)
	}
	return p.setPassword(ctx, snap, aop.ID, sop, checked, prev, next, "operator.change_password")
}

// setPassword hashes pw as the new password of target, whose credentials
// are the ones the store holds as prev, and commits it (resetCredentials).
// SetPassword also clears failures and any lock.
func (p *Platform) setPassword(ctx context.Context, snap store.Snapshot, actor string, sop store.Operator, target access.Operator,
	prev store.Credentials, pw access.Password, op string) error {
	old := target.Credentials
	target, err := p.auth.SetPassword(ctx, target, pw)
	if err != nil {
		return wrap(op, err)
	}
	return p.resetCredentials(ctx, snap, actor, sop, prev, old, target.Credentials, op)
}

// resetCredentials commits next as the credentials of operator sop (prev
// as the store holds them, old opened), with the end of the operator's
// sessions and an audit event of actor for op, in one batch.
func (p *Platform) resetCredentials(ctx context.Context, snap store.Snapshot, actor string, sop store.Operator,
	prev store.Credentials, old, next access.Credentials, op string) error {
	put, err := p.putCredentials(ctx, sop.OrgID, sop.ID, prev, old, next)
	if err != nil {
		return wrap(op, err)
	}
	end, err := endSessions(snap, sop.ID)
	if err != nil {
		return wrap(op, err)
	}
	cmds := append([]store.Command{put, auditEvent(sop.OrgID, actor, op, sop.ID, p.clock(), auditDetails{Outcome: outcomeDone})}, end...)
	_, err = p.apply(ctx, op, cmds...)
	return err
}

// Operators lists an organisation's operators, sorted by ID: master RAOs
// their own organisation's, admins any.
func (p *Platform) Operators(ctx context.Context, a Actor, org string) ([]Operator, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return nil, err
	}
	if org == "" {
		org = aop.Org
	}
	if err := p.scope(ctx, aop, access.PermOperatorManage, org, "operator.list", org); err != nil {
		return nil, err
	}
	ops, err := snap.Operators(org)
	if err != nil {
		return nil, wrap("operator.list", err)
	}
	var out []Operator
	for _, sop := range ops {
		v, err := storedOperatorView(snap, sop)
		if err != nil {
			return nil, wrap("operator.list", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// GetOperator returns one operator (same scoping as [Platform.Operators]).
func (p *Platform) GetOperator(ctx context.Context, a Actor, id string) (Operator, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return Operator{}, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return Operator{}, err
	}
	sop, _, err := p.lookupOperator(ctx, snap, aop, id, "operator.read")
	if err != nil {
		return Operator{}, err
	}
	v, err := storedOperatorView(snap, sop)
	return v, wrap("operator.read", err)
}
