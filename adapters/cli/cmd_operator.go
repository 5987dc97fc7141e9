package cli

import (
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/access"
)

func roleNames() string {
	var names []string
	for _, r := range access.Roles() {
		names = append(names, r.String())
	}
	return strings.Join(names, ", ")
}

func newOperator(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "operator",
		Short:   "Manage operators (master RAOs in their organisation, admins everywhere)",
		Example: "  registra operator create --username rao1 --name \"Anna Bianchi\" --email anna@example.com --role rao --unit main\n  registra operator list",
		Args:    exactArgs(),
	}
	var body struct {
		Org      string   `json:"org,omitempty"`
		Username string   `json:"username"`
		Name     string   `json:"name"`
		Email    string   `json:"email"`
		TaxCode  string   `json:"tax_code,omitempty"`
		Roles    []string `json:"roles"`
		Unit     string   `json:"unit,omitempty"`
		Password string   `json:"password"`
	}
	var pwFile string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an operator and print the TOTP enrolment to hand over",
		Long: `create creates an operator with an initial password and prints the TOTP
enrolment (secret and otpauth URI) to hand over; the operator confirms it
with 'registra enrol' before the first login. Roles: ` + roleNames() + `.`,
		Example: "  registra operator create --username rao1 --name \"Anna Bianchi\" --email anna@example.com --tax-code BNCNNA80A41F205U --role rao --unit main --password-file pw.txt",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []struct{ n, v string }{{"username", body.Username}, {"name", body.Name}, {"email", body.Email}} {
				if err := required(f.n, f.v); err != nil {
					return err
				}
			}
			if len(body.Roles) == 0 {
				return usagef("--role is required: %s", roleNames())
			}
			for _, r := range body.Roles {
				if _, err := access.ParseRole(r); err != nil {
					return usagef("--role: %q: use %s", r, roleNames())
				}
			}
			var err error
			if body.Password, err = e.secret("password-file", pwFile, "Initial password"); err != nil {
				return err
			}
			var out wireCreatedOperator
			return e.call(cmd.Context(), post("/v1/operators", body), &out, func(w io.Writer) error {
				if err := printOperator(w, out.Operator); err != nil {
					return err
				}
				fprintf(w, "\nTOTP secret: %s\nTOTP URI:    %s\n", out.TOTP.Secret, out.TOTP.URI)
				return nil
			})
		},
	}
	fl := create.Flags()
	fl.StringVar(&body.Org, "org", "", "client code of the organisation (default: yours)")
	fl.StringVar(&body.Username, "username", "", "login name, also the operator's ID")
	fl.StringVar(&body.Name, "name", "", "display name")
	fl.StringVar(&body.Email, "email", "", "e-mail")
	fl.StringVar(&body.TaxCode, "tax-code", "", "the operator's own tax code, as their qualified signature certificate carries it (RAOs and IRs who sign recognition reports)")
	fl.StringSliceVar(&body.Roles, "role", nil, "role(s): "+roleNames())
	fl.StringVar(&body.Unit, "unit", "", "the operator's unit (required except for admins)")
	fl.StringVar(&pwFile, "password-file", "", "file holding the initial password (\"-\": a line of standard input); prompted for when absent")

	var org string
	list := &cobra.Command{
		Use:     "list",
		Short:   "List an organisation's operators",
		Example: "  registra operator list\n  registra operator list --org DEMO --json",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if org != "" {
				q.Set("org", org)
			}
			var out struct {
				Operators []wireOperator `json:"operators"`
			}
			return e.call(cmd.Context(), request{method: "GET", path: "/v1/operators", query: q}, &out, func(w io.Writer) error {
				t := newTable(w, "ID", "NAME", "ORG", "UNIT", "ROLES", "ENROLLED", "DISABLED")
				for _, o := range out.Operators {
					t.AppendRow([]any{o.ID, o.Name, o.Org, o.Unit, strings.Join(o.Roles, ","), o.Enrolled, o.Disabled})
				}
				render(w, t)
				return nil
			})
		},
	}
	list.Flags().StringVar(&org, "org", "", "client code of the organisation (default: yours)")

	getc := &cobra.Command{
		Use:     "get OPERATOR",
		Short:   "Show an operator",
		Example: "  registra operator get rao1",
		Args:    exactArgs("OPERATOR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var o wireOperator
			return e.call(cmd.Context(), get(path("v1", "operators", args[0])), &o, func(w io.Writer) error { return printOperator(w, o) })
		},
	}
	c.AddCommand(create, list, getc, newOperatorUpdate(e), newOperatorResetTOTP(e), newOperatorResetPassword(e))
	return c
}

func newOperatorUpdate(e *env) *cobra.Command {
	var name, email, taxCode, unit string
	var roles []string
	var disable, enable bool
	c := &cobra.Command{
		Use:   "update OPERATOR",
		Short: "Change an operator's name, e-mail, tax code, roles or unit, or disable or enable the account",
		Long: `update changes only what its flags name. --roles replaces the roles. Disabling
ends the operator's sessions.`,
		Example: "  registra operator update rao1 --role rao --role master_rao\n  registra operator update rao1 --tax-code BNCNNA80A41F205U\n  registra operator update op7 --disable",
		Args:    exactArgs("OPERATOR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			var body struct {
				Name     *string  `json:"name,omitempty"`
				Email    *string  `json:"email,omitempty"`
				TaxCode  *string  `json:"tax_code,omitempty"`
				Roles    []string `json:"roles,omitempty"`
				Unit     *string  `json:"unit,omitempty"`
				Disabled *bool    `json:"disabled,omitempty"`
			}
			if fl.Changed("name") {
				body.Name = &name
			}
			if fl.Changed("email") {
				body.Email = &email
			}
			if fl.Changed("tax-code") {
				body.TaxCode = &taxCode
			}
			if fl.Changed("unit") {
				body.Unit = &unit
			}
			for _, r := range roles {
				if _, err := access.ParseRole(r); err != nil {
					return usagef("--role: %q: use %s", r, roleNames())
				}
			}
			body.Roles = roles
			switch {
			case disable && enable:
				return usagef("--disable and --enable exclude each other")
			case disable, enable:
				body.Disabled = &disable
			}
			if body.Name == nil && body.Email == nil && body.TaxCode == nil && body.Unit == nil && body.Roles == nil && body.Disabled == nil {
				return usagef("nothing to change: give --name, --email, --tax-code, --role, --unit, --disable or --enable")
			}
			var o wireOperator
			r := request{method: "PATCH", path: path("v1", "operators", args[0]), body: body}
			return e.call(cmd.Context(), r, &o, func(w io.Writer) error { return printOperator(w, o) })
		},
	}
	fl := c.Flags()
	fl.StringVar(&name, "name", "", "display name")
	fl.StringVar(&email, "email", "", "e-mail")
	fl.StringVar(&taxCode, "tax-code", "", "the operator's own tax code (empty removes it)")
	fl.StringVar(&unit, "unit", "", "unit")
	fl.StringSliceVar(&roles, "role", nil, "role(s), replacing the current ones: "+roleNames())
	fl.BoolVar(&disable, "disable", false, "disable the account (its sessions end)")
	fl.BoolVar(&enable, "enable", false, "enable the account again")
	return c
}

func newOperatorResetTOTP(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-totp OPERATOR",
		Short: "Replace an operator's TOTP enrolment and print the new one to hand over",
		Long: `reset-totp removes the operator's TOTP enrolment (a lost phone), ends their
sessions and prints a new enrolment; the operator confirms it with
'registra enrol' before logging in again.`,
		Example: "  registra operator reset-totp rao1",
		Args:    exactArgs("OPERATOR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var en wireEnrolment
			return e.call(cmd.Context(), post(path("v1", "operators", args[0], "totp-reset"), nil), &en, func(w io.Writer) error {
				fprintf(w, "TOTP secret: %s\nTOTP URI:    %s\n", en.Secret, en.URI)
				return nil
			})
		},
	}
}

func newOperatorResetPassword(e *env) *cobra.Command {
	var pwFile string
	c := &cobra.Command{
		Use:   "reset-password OPERATOR",
		Short: "Set a new password for an operator who forgot theirs",
		Long: `reset-password sets a new password for the operator (a forgotten one), clears
failed logins and any lock, and ends their sessions. The TOTP enrolment stays:
the operator logs in with the new password and their authenticator app.`,
		Example: "  registra operator reset-password rao1 --password-file pw.txt",
		Args:    exactArgs("OPERATOR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := e.secret("password-file", pwFile, "New password")
			if err != nil {
				return err
			}
			body := map[string]string{"password": pw}
			return e.call(cmd.Context(), post(path("v1", "operators", args[0], "password-reset"), body), nil, func(w io.Writer) error {
				fprintf(w, "password of %s reset; their sessions ended\n", args[0])
				return nil
			})
		},
	}
	c.Flags().StringVar(&pwFile, "password-file", "", "file holding the new password (\"-\": a line of standard input); prompted for when absent")
	return c
}

func printOperator(w io.Writer, o wireOperator) error {
	yes := map[bool]string{true: "yes", false: "no"}
	return kv(w, "Operator", o.ID, "Name", o.Name, "E-mail", o.Email, "Tax code", o.TaxCode, "Organisation", o.Org, "Unit", o.Unit,
		"Roles", strings.Join(o.Roles, ", "), "Enrolled", yes[o.Enrolled], "Disabled", yes[o.Disabled], "Created", ts(o.CreatedAt))
}
