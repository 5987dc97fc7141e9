package access

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Organisation is a partner (reseller or corporate customer) identified by
// its client code (Manuale operatore, "Introduction": "all users belonging
// to a given organization, coded by a client code"), with the units its
// operators work in.
type Organisation struct {
	// ClientCode identifies the organisation: 2 to 32 characters among
	// A-Z, 0-9, '-' and '_'.
	ClientCode string
	// Name is the display name. Required, at most 200 bytes.
	Name string
	// Units are the organisation's main and secondary units.
	Units []Unit
}

// Unit is an office of an organisation. Main units have no parent; a
// secondary unit's parent is a main unit (Manuale operatore, "Login and
// Dashboard": "indicating the main and secondary unit").
type Unit struct {
	// ID identifies the unit within its organisation: 1 to 64 characters
	// among letters, digits, '-', '_' and '.'.
	ID string
	// Name is the display name. Required, at most 200 bytes.
	Name string
	// Parent is the ID of the main unit a secondary unit belongs to;
	// empty for a main unit.
	Parent string
}

// Main reports whether u is a main unit.
func (u Unit) Main() bool { return u.Parent == "" }

// Validate checks the organisation and its unit tree: a valid client code
// and name; unique, well-formed unit IDs; at least one main unit; every
// secondary unit under a main unit (two levels only).
func (o Organisation) Validate() error {
	if err := checkClientCode("organisation.client_code", o.ClientCode); err != nil {
		return err
	}
	if err := checkName("organisation.name", o.Name); err != nil {
		return err
	}
	main := map[string]bool{}
	seen := map[string]bool{}
	for i, u := range o.Units {
		f := fmt.Sprintf("organisation.units[%d]", i)
		if err := checkID(f+".id", u.ID, 64); err != nil {
			return err
		}
		if seen[u.ID] {
			return &FieldError{Field: f + ".id", Rule: fmt.Sprintf("duplicate unit %q", u.ID)}
		}
		seen[u.ID] = true
		if err := checkName(f+".name", u.Name); err != nil {
			return err
		}
		if u.Main() {
			main[u.ID] = true
		}
	}
	if len(main) == 0 {
		return &FieldError{Field: "organisation.units", Rule: "must include a main unit"}
	}
	for i, u := range o.Units {
		if !u.Main() && !main[u.Parent] {
			return &FieldError{Field: fmt.Sprintf("organisation.units[%d].parent", i),
				Rule: fmt.Sprintf("must be a main unit of the organisation, not %q", u.Parent)}
		}
	}
	return nil
}

// Unit returns the unit with id.
func (o Organisation) Unit(id string) (Unit, bool) {
	i := slices.IndexFunc(o.Units, func(u Unit) bool { return u.ID == id })
	if i < 0 {
		return Unit{}, false
	}
	return o.Units[i], true
}

// Operator is a person who uses the partner platform, with their roles,
// units and credentials. Authenticate and the enrolment functions return an
// updated copy; the caller persists it.
type Operator struct {
	// ID identifies the operator (the audit trail's actor). Required.
	ID string
	// Username is the login name: 3 to 64 characters among lower-case
	// letters, digits, '.', '_', '-' and '@'.
	Username string
	// Org is the client code of the operator's organisation.
	Org string
	// Units are the IDs of the units the operator may work in. Required,
	// except for admins.
	Units []string
	// Roles are the operator's profiles. At least one, no duplicates.
	Roles []Role
	// Disabled operators cannot log in.
	Disabled bool
	// Credentials are the operator's password hash, TOTP enrolment and
	// failure counters.
	Credentials Credentials
}

// Credentials is the secret-bearing state of an operator's login.
type Credentials struct {
	// PasswordHash is the Argon2id PHC string ([HashPassword]).
	PasswordHash PasswordHash
	// TOTP is the multi-factor enrolment.
	TOTP TOTP
	// Failures counts consecutive failed logins.
	Failures int
	// LockedUntil is set while the account is locked.
	LockedUntil time.Time
}

// TOTP is an operator's TOTP enrolment (RFC 6238).
type TOTP struct {
	// Secret is the shared secret, base32 without padding.
	Secret TOTPSecret
	// Confirmed is set once the operator proved the authenticator app
	// works by entering a valid code ([Authenticator.ConfirmTOTP]).
	Confirmed bool
	// LastStep is the time step (Unix time / 30 s) of the last accepted
	// code; a code from that step or an earlier one is a replay.
	LastStep int64
}

// Validate checks the operator against their organisation: ID, username,
// organisation, roles, and units that exist in org.
func (op Operator) Validate(org Organisation) error {
	if err := checkID("operator.id", op.ID, 128); err != nil {
		return err
	}
	if err := checkUsername(op.Username); err != nil {
		return err
	}
	if op.Org != org.ClientCode {
		return &FieldError{Field: "operator.org", Rule: fmt.Sprintf("must be the organisation's client code %q", org.ClientCode)}
	}
	if len(op.Roles) == 0 {
		return &FieldError{Field: "operator.roles", Rule: "required"}
	}
	for i, r := range op.Roles {
		if !r.Valid() {
			return &FieldError{Field: fmt.Sprintf("operator.roles[%d]", i), Rule: "unknown role " + r.String()}
		}
		if slices.Index(op.Roles, r) != i {
			return &FieldError{Field: fmt.Sprintf("operator.roles[%d]", i), Rule: "duplicate role " + r.String()}
		}
	}
	if len(op.Units) == 0 && !slices.Contains(op.Roles, RoleAdmin) {
		return &FieldError{Field: "operator.units", Rule: "required"}
	}
	for i, u := range op.Units {
		if _, ok := org.Unit(u); !ok {
			return &FieldError{Field: fmt.Sprintf("operator.units[%d]", i), Rule: fmt.Sprintf("no unit %q in the organisation", u)}
		}
		if slices.Index(op.Units, u) != i {
			return &FieldError{Field: fmt.Sprintf("operator.units[%d]", i), Rule: fmt.Sprintf("duplicate unit %q", u)}
		}
	}
	return nil
}

// WorksIn reports whether the operator may select unit as working unit.
func (op Operator) WorksIn(unit string) bool { return slices.Contains(op.Units, unit) }

// Permissions returns what the operator's roles grant, sorted; nil for a
// disabled operator.
func (op Operator) Permissions() []Permission {
	if op.Disabled {
		return nil
	}
	return PermissionsOf(op.Roles)
}

// Authorize decides whether op may use permission p on a resource of
// organisation resourceOrg. It refuses, with [ErrPermission]: a disabled
// operator; a permission none of op's roles grants; a resource of another
// organisation, unless op is an admin and p is administrative (organisations,
// units, catalogue, CA, operators). Orders, products and audit events of
// another organisation are never reachable.
func Authorize(op Operator, p Permission, resourceOrg string) error {
	deny := func(rule string) error {
		return &PermissionError{Operator: op.ID, Permission: p, Org: resourceOrg, Rule: rule}
	}
	switch {
	case op.Disabled:
		return deny("operator is disabled")
	case !Grants(op.Roles, p):
		return deny("no role of the operator grants it")
	case resourceOrg == "" || op.Org == "":
		return deny("resource or operator has no organisation")
	case resourceOrg == op.Org:
		return nil
	case slices.Contains(op.Roles, RoleAdmin) && acrossOrganisations(p):
		return nil
	default:
		return deny("resource belongs to another organisation")
	}
}

// AuthorizeOperatorChange decides whether actor may create, change or disable
// the operator record target (as it will be after the change). The actor
// needs [PermOperatorManage] in target's organisation ([Authorize]); nobody
// manages their own record this way (no self-promotion); only an admin may
// give or hold the admin role, so a master RAO manages the operators of
// their own organisation up to master RAO.
func AuthorizeOperatorChange(actor, target Operator) error {
	if err := Authorize(actor, PermOperatorManage, target.Org); err != nil {
		return err
	}
	deny := func(rule string) error {
		return &PermissionError{Operator: actor.ID, Permission: PermOperatorManage, Org: target.Org, Rule: rule}
	}
	if actor.ID == target.ID {
		return deny("operators do not manage their own record")
	}
	if slices.Contains(target.Roles, RoleAdmin) && !slices.Contains(actor.Roles, RoleAdmin) {
		return deny("only an admin manages admins")
	}
	return nil
}

func checkClientCode(field, s string) error {
	if len(s) < 2 || len(s) > 32 || strings.ContainsFunc(s, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_'
	}) {
		return &FieldError{Field: field, Rule: "must be 2 to 32 characters among A-Z, 0-9, '-' and '_'"}
	}
	return nil
}

func checkID(field, s string, max int) error {
	if s == "" || len(s) > max || strings.ContainsFunc(s, func(r rune) bool {
		return r > unicode.MaxASCII || (!unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.')
	}) {
		return &FieldError{Field: field, Rule: fmt.Sprintf("must be 1 to %d characters among letters, digits, '-', '_' and '.'", max)}
	}
	return nil
}

func checkUsername(s string) error {
	if len(s) < 3 || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && !strings.ContainsRune("._-@", r)
	}) {
		return &FieldError{Field: "operator.username", Rule: "must be 3 to 64 characters among a-z, 0-9, '.', '_', '-' and '@'"}
	}
	return nil
}

func checkName(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return &FieldError{Field: field, Rule: "required"}
	case !utf8.ValidString(s) || len(s) > 200:
		return &FieldError{Field: field, Rule: "must be at most 200 bytes of UTF-8"}
	case strings.ContainsFunc(s, unicode.IsControl):
		return &FieldError{Field: field, Rule: "must not contain control characters"}
	}
	return nil
}
