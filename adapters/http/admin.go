package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
)

// Role is an operator role by its wire name; the schema lists the roles of
// access's one role table.
type Role string

// Schema returns an enum of every role's wire name.
func (Role) Schema(huma.Registry) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString, Description: "An operator role (access.RolePermissions)."}
	for _, r := range access.Roles() {
		s.Enum = append(s.Enum, r.String())
	}
	return s
}

// roles converts wire names; names outside the enum never reach here (the
// schema refuses them), and ParseRole refuses them again.
func roles(names []Role) ([]access.Role, error) {
	out := make([]access.Role, 0, len(names))
	for _, n := range names {
		r, err := access.ParseRole(string(n))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func roleNames(rs []access.Role) []Role {
	out := make([]Role, len(rs))
	for i, r := range rs {
		out[i] = Role(r.String())
	}
	return out
}

// UnitView is a unit of an organisation.
type UnitView struct {
	ID     string `json:"id" doc:"The unit's ID within its organisation."`
	Name   string `json:"name" doc:"The display name."`
	Parent string `json:"parent,omitempty" doc:"The main unit of a secondary unit; empty for a main unit."`
}

// OrganisationView is a partner organisation.
type OrganisationView struct {
	ClientCode string     `json:"client_code" doc:"The organisation's client code."`
	Name       string     `json:"name" doc:"The display name."`
	Units      []UnitView `json:"units" doc:"Main and secondary units."`
}

func organisationView(o registra.Organisation) OrganisationView {
	v := OrganisationView{ClientCode: o.ClientCode, Name: o.Name, Units: make([]UnitView, len(o.Units))}
	for i, u := range o.Units {
		v.Units[i] = UnitView{ID: u.ID, Name: u.Name, Parent: u.Parent}
	}
	return v
}

func (v OrganisationView) organisation() registra.Organisation {
	o := registra.Organisation{ClientCode: v.ClientCode, Name: v.Name, Units: make([]registra.Unit, len(v.Units))}
	for i, u := range v.Units {
		o.Units[i] = registra.Unit{ID: u.ID, Name: u.Name, Parent: u.Parent}
	}
	return o
}

// OperatorView is an operator.
type OperatorView struct {
	ID        string    `json:"id" doc:"The operator's ID (the username)."`
	Username  string    `json:"username"`
	Org       string    `json:"org" doc:"The client code of the operator's organisation."`
	Unit      string    `json:"unit,omitempty"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	TaxCode   string    `json:"tax_code,omitempty" doc:"The operator's own tax code: the recognition reports they sign must be signed in this name."`
	Roles     []Role    `json:"roles"`
	Disabled  bool      `json:"disabled"`
	Enrolled  bool      `json:"enrolled" doc:"Whether the operator confirmed a TOTP enrolment."`
	CreatedAt time.Time `json:"created_at"`
}

func operatorView(o registra.Operator) OperatorView {
	return OperatorView{ID: o.ID, Username: o.Username, Org: o.Org, Unit: o.Unit, Name: o.Name, Email: o.Email, TaxCode: o.TaxCode,
		Roles: roleNames(o.Roles), Disabled: o.Disabled, Enrolled: o.Enrolled, CreatedAt: o.CreatedAt}
}

// EnrolmentView is a TOTP enrolment, shown once to be handed to the
// operator.
type EnrolmentView struct {
	Secret string `json:"secret" doc:"The base32 TOTP secret, for manual entry."`
	URI    string `json:"uri" doc:"The otpauth:// URI for authenticator apps."`
}

func enrolmentView(e registra.Enrolment) EnrolmentView {
	return EnrolmentView{Secret: e.Secret.Reveal(), URI: e.URI.Reveal()}
}

// OrganisationInput creates an organisation.
type OrganisationInput struct {
	Body OrganisationView
}

// OrganisationOutput is one organisation.
type OrganisationOutput struct {
	Body OrganisationView
}

// OrgPath names an organisation.
type OrgPath struct {
	Org string `path:"org" maxLength:"64" doc:"The organisation's client code."`
}

// UnitInput adds or renames a unit.
type UnitInput struct {
	Org  string `path:"org" maxLength:"64"`
	Unit string `path:"unit" maxLength:"64"`
	Body struct {
		Name   string `json:"name"`
		Parent string `json:"parent,omitempty" required:"false"`
	}
}

// CreateOperatorInput creates an operator.
type CreateOperatorInput struct {
	Body struct {
		Org      string `json:"org,omitempty" required:"false" doc:"The client code; the caller's organisation when empty."`
		Username string `json:"username"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		TaxCode  string `json:"tax_code,omitempty" required:"false" maxLength:"16" doc:"The operator's own tax code, as their qualified signature certificate carries it (TINIT-<tax code>): required for RAOs and IRs who record Live ID recognitions or sign Offline reports."`
		Roles    []Role `json:"roles" minItems:"1"`
		Unit     string `json:"unit,omitempty" required:"false" doc:"The operator's unit; required except for admins."`
		Password string `json:"password" doc:"The initial password."`
	}
}

// CreatedOperatorOutput is a new operator and their TOTP enrolment.
type CreatedOperatorOutput struct {
	Body struct {
		Operator OperatorView  `json:"operator"`
		TOTP     EnrolmentView `json:"totp" doc:"The TOTP enrolment, confirmed by the operator with POST /v1/enrolments."`
	}
}

// OperatorPath names an operator.
type OperatorPath struct {
	ID string `path:"id" maxLength:"64"`
}

// OperatorOutput is one operator.
type OperatorOutput struct {
	Body OperatorView
}

// OperatorsInput lists an organisation's operators.
type OperatorsInput struct {
	Org string `query:"org" maxLength:"64" doc:"The client code; the caller's organisation when empty."`
}

// OperatorsOutput is a list of operators.
type OperatorsOutput struct {
	Body struct {
		Operators []OperatorView `json:"operators"`
	}
}

// UpdateOperatorInput changes an operator; absent fields are unchanged.
type UpdateOperatorInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Name     *string `json:"name,omitempty" required:"false"`
		Email    *string `json:"email,omitempty" required:"false"`
		TaxCode  *string `json:"tax_code,omitempty" required:"false" maxLength:"16" doc:"The operator's own tax code; empty removes it."`
		Roles    []Role  `json:"roles,omitempty" required:"false"`
		Unit     *string `json:"unit,omitempty" required:"false"`
		Disabled *bool   `json:"disabled,omitempty" required:"false"`
	}
}

// EnrolmentOutput is a TOTP enrolment.
type EnrolmentOutput struct {
	Body EnrolmentView
}

// ConfirmEnrolmentInput confirms a TOTP enrolment.
// ResetPasswordInput is the body of POST /v1/operators/{id}/password-reset.
type ResetPasswordInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Password string `json:"password" minLength:"1" maxLength:"1024" doc:"The operator's new password, under the password policy."`
	}
}

// ConfirmEnrolmentInput is the body of POST /v1/enrolments.
type ConfirmEnrolmentInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"64"`
		Password string `json:"password" minLength:"1" maxLength:"1024"`
		OTP      string `json:"otp" minLength:"6" maxLength:"10" doc:"A current code of the newly enrolled authenticator app."`
	}
}

func (a *API) routesAdmin() {
	tags := []string{"organisations"}
	register(a, huma.Operation{OperationID: "create-organisation", Method: http.MethodPost, Path: "/v1/organisations",
		Summary: "Create an organisation with its units", Tags: tags, DefaultStatus: http.StatusCreated},
		secure, func(ctx context.Context, in *OrganisationInput) (*OrganisationOutput, error) {
			if err := a.p.CreateOrganisation(ctx, actorFrom(ctx), in.Body.organisation()); err != nil {
				return nil, a.fail(ctx, err)
			}
			return &OrganisationOutput{Body: in.Body}, nil
		})
	register(a, huma.Operation{OperationID: "get-organisation", Method: http.MethodGet, Path: "/v1/organisations/{org}",
		Summary: "Get an organisation", Tags: tags},
		secure, func(ctx context.Context, in *OrgPath) (*OrganisationOutput, error) {
			o, err := a.p.Organisation(ctx, actorFrom(ctx), in.Org)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &OrganisationOutput{Body: organisationView(o)}, nil
		})
	register(a, huma.Operation{OperationID: "put-unit", Method: http.MethodPut, Path: "/v1/organisations/{org}/units/{unit}",
		Summary: "Add or rename a unit", Tags: tags, DefaultStatus: http.StatusNoContent},
		secure, func(ctx context.Context, in *UnitInput) (*struct{}, error) {
			u := registra.Unit{ID: in.Unit, Name: in.Body.Name, Parent: in.Body.Parent}
			if err := a.p.PutUnit(ctx, actorFrom(ctx), in.Org, u); err != nil {
				return nil, a.fail(ctx, err)
			}
			return nil, nil
		})

	tags = []string{"operators"}
	register(a, huma.Operation{OperationID: "create-operator", Method: http.MethodPost, Path: "/v1/operators",
		Summary: "Create an operator", Description: "Master RAOs create operators of their organisation, admins of any. The answer holds the new operator's TOTP enrolment, shown once.",
		Tags: tags, DefaultStatus: http.StatusCreated},
		secure, func(ctx context.Context, in *CreateOperatorInput) (*CreatedOperatorOutput, error) {
			rs, err := roles(in.Body.Roles)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			op, enr, err := a.p.CreateOperator(ctx, actorFrom(ctx), registra.OperatorInput{Org: in.Body.Org, Username: in.Body.Username,
				Name: in.Body.Name, Email: in.Body.Email, TaxCode: in.Body.TaxCode, Roles: rs, Unit: in.Body.Unit,
				Password: access.Password(in.Body.Password)})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			out := &CreatedOperatorOutput{}
			out.Body.Operator, out.Body.TOTP = operatorView(op), enrolmentView(enr)
			return out, nil
		})
	register(a, huma.Operation{OperationID: "list-operators", Method: http.MethodGet, Path: "/v1/operators",
		Summary: "List an organisation's operators", Tags: tags},
		secure, func(ctx context.Context, in *OperatorsInput) (*OperatorsOutput, error) {
			ops, err := a.p.Operators(ctx, actorFrom(ctx), in.Org)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			out := &OperatorsOutput{}
			out.Body.Operators = make([]OperatorView, len(ops))
			for i, o := range ops {
				out.Body.Operators[i] = operatorView(o)
			}
			return out, nil
		})
	register(a, huma.Operation{OperationID: "get-operator", Method: http.MethodGet, Path: "/v1/operators/{id}",
		Summary: "Get an operator", Tags: tags},
		secure, func(ctx context.Context, in *OperatorPath) (*OperatorOutput, error) {
			op, err := a.p.GetOperator(ctx, actorFrom(ctx), in.ID)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &OperatorOutput{Body: operatorView(op)}, nil
		})
	register(a, huma.Operation{OperationID: "update-operator", Method: http.MethodPatch, Path: "/v1/operators/{id}",
		Summary: "Change an operator", Description: "Absent fields are left unchanged.", Tags: tags},
		secure, func(ctx context.Context, in *UpdateOperatorInput) (*OperatorOutput, error) {
			var rs []access.Role
			if in.Body.Roles != nil {
				var err error
				if rs, err = roles(in.Body.Roles); err != nil {
					return nil, a.fail(ctx, err)
				}
			}
			op, err := a.p.UpdateOperator(ctx, actorFrom(ctx), in.ID, registra.OperatorUpdate{Name: in.Body.Name, Email: in.Body.Email,
				TaxCode: in.Body.TaxCode, Roles: rs, Unit: in.Body.Unit, Disabled: in.Body.Disabled})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &OperatorOutput{Body: operatorView(op)}, nil
		})
	register(a, huma.Operation{OperationID: "reset-operator-totp", Method: http.MethodPost, Path: "/v1/operators/{id}/totp-reset",
		Summary: "Reset an operator's TOTP enrolment", Description: "Returns a new enrolment, which the operator confirms with POST /v1/enrolments.", Tags: tags},
		secure, func(ctx context.Context, in *OperatorPath) (*EnrolmentOutput, error) {
			enr, err := a.p.ResetOperatorTOTP(ctx, actorFrom(ctx), in.ID)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &EnrolmentOutput{Body: enrolmentView(enr)}, nil
		})
	register(a, huma.Operation{OperationID: "reset-operator-password", Method: http.MethodPost, Path: "/v1/operators/{id}/password-reset",
		Summary: "Set a new password for an operator who forgot theirs", Description: "Clears failures and any lock and ends the operator's sessions; the TOTP enrolment stays.",
		Tags: tags, DefaultStatus: http.StatusNoContent},
		secure, func(ctx context.Context, in *ResetPasswordInput) (*struct{}, error) {
			if err := a.p.ResetOperatorPassword(ctx, actorFrom(ctx), in.ID, access.Password(in.Body.Password)); err != nil {
				return nil, a.fail(ctx, err)
			}
			return nil, nil
		})
	register(a, huma.Operation{OperationID: "confirm-enrolment", Method: http.MethodPost, Path: "/v1/enrolments",
		Summary: "Confirm a TOTP enrolment", Description: "A new operator (or one whose enrolment was reset) confirms the enrolment with the password and a code, before logging in.",
		Tags: []string{"sessions"}, DefaultStatus: http.StatusNoContent},
		public, func(ctx context.Context, in *ConfirmEnrolmentInput) (*struct{}, error) {
			if err := a.p.ConfirmTOTP(ctx, in.Body.Username, access.Password(in.Body.Password), access.Passcode(in.Body.OTP)); err != nil {
				return nil, a.fail(ctx, err)
			}
			return nil, nil
		})
}
