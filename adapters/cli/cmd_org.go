package cli

import (
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// wireUnit is an organisation's unit.
type wireUnit struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// wireOrganisation is a partner organisation.
type wireOrganisation struct {
	ClientCode string     `json:"client_code"`
	Name       string     `json:"name"`
	Units      []wireUnit `json:"units"`
}

func newOrganisation(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "org",
		Short:   "Manage partner organisations and their units (admins)",
		Example: "  registra org create ACME --name \"Acme S.p.A.\" --unit main=\"Head office\"\n  registra org get ACME",
		Args:    exactArgs(),
	}
	var name string
	var units []string
	create := &cobra.Command{
		Use:     "create CLIENT-CODE",
		Short:   "Create a partner organisation with its main unit",
		Example: "  registra org create ACME --name \"Acme S.p.A.\" --unit main=\"Head office\"",
		Args:    exactArgs("CLIENT-CODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required("name", name); err != nil {
				return err
			}
			body := wireOrganisation{ClientCode: args[0], Name: name, Units: []wireUnit{}}
			for _, u := range units {
				id, uname, ok := cutUnit(u)
				if !ok {
					return usagef("--unit: %q is not ID=NAME", u)
				}
				body.Units = append(body.Units, wireUnit{ID: id, Name: uname})
			}
			if len(body.Units) == 0 {
				return usagef("--unit is required: ID=NAME of the main unit")
			}
			var out wireOrganisation
			return e.call(cmd.Context(), post("/v1/organisations", body), &out, func(w io.Writer) error { return printOrganisation(w, out) })
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name")
	create.Flags().StringArrayVar(&units, "unit", nil, "a main unit, ID=NAME (repeat for several)")

	getc := &cobra.Command{
		Use:     "get CLIENT-CODE",
		Short:   "Show an organisation and its units",
		Example: "  registra org get ACME",
		Args:    exactArgs("CLIENT-CODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out wireOrganisation
			return e.call(cmd.Context(), get(path("v1", "organisations", args[0])), &out, func(w io.Writer) error { return printOrganisation(w, out) })
		},
	}

	var unitName, parent string
	unit := &cobra.Command{
		Use:     "unit CLIENT-CODE UNIT",
		Short:   "Add or rename a unit; --parent makes it a secondary unit",
		Example: "  registra org unit ACME branch --name \"Milan branch\" --parent main",
		Args:    exactArgs("CLIENT-CODE", "UNIT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required("name", unitName); err != nil {
				return err
			}
			body := struct {
				Name   string `json:"name"`
				Parent string `json:"parent,omitempty"`
			}{unitName, parent}
			r := request{method: http.MethodPut, path: path("v1", "organisations", args[0], "units", args[1]), body: body}
			return e.call(cmd.Context(), r, nil, func(w io.Writer) error {
				fprintf(w, "unit %s of %s saved\n", args[1], args[0])
				return nil
			})
		},
	}
	unit.Flags().StringVar(&unitName, "name", "", "display name")
	unit.Flags().StringVar(&parent, "parent", "", "the main unit of a secondary unit")
	c.AddCommand(create, getc, unit)
	return c
}

// cutUnit splits ID=NAME.
func cutUnit(s string) (string, string, bool) {
	id, name, ok := strings.Cut(s, "=")
	return id, name, ok && id != "" && name != ""
}

func printOrganisation(w io.Writer, o wireOrganisation) error {
	if err := kv(w, "Organisation", o.ClientCode, "Name", o.Name); err != nil {
		return err
	}
	if len(o.Units) > 0 {
		fprintf(w, "\n")
		t := newTable(w, "UNIT", "NAME", "PARENT")
		for _, u := range o.Units {
			t.AppendRow([]any{u.ID, u.Name, u.Parent})
		}
		render(w, t)
	}
	return nil
}
