package cli

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/recognition"
)

func newRecognition(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "recognition",
		Short: "Record the applicant's recognition, and show what each method needs",
		Example: "  registra recognition requirements offline\n  registra recognition offline ORDER --upload document_front=front.jpg ...\n" +
			"  registra recognition form-signature start ORDER --form request-form.pdf\n  registra recognition spid-login ORDER\n" +
			"  registra recognition record ORDER --bundle evidence.bin",
		Args: exactArgs(),
	}
	var bundle string
	rec := &cobra.Command{
		Use:   "record ORDER",
		Short: "Record a recognition from a sealed evidence bundle (IR, RAO; to_identify → to_issue)",
		Long: `record uploads the sealed evidence bundle of the applicant's recognition, made
by the recognition station with package recognition's verifier and sealer.
The platform verifies the seal against its evidence roots and the manifest
against the order (method, applicant, organisation, checks, consent) before
recording it. Check a bundle first with 'registra evidence verify'.`,
		Example: "  registra recognition record ORDER --bundle evidence.bin",
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required("bundle", bundle); err != nil {
				return err
			}
			b, err := e.readInput("bundle", bundle)
			if err != nil {
				return err
			}
			r := post(path("v1", "orders", args[0], "recognition"), &multipartBody{files: []formFile{{field: "bundle", name: "bundle.bin", data: b}}})
			var o wireOrder
			return e.call(cmd.Context(), r, &o, func(w io.Writer) error { return printOrder(w, &o) })
		},
	}
	rec.Flags().StringVar(&bundle, "bundle", "", "the sealed evidence bundle (\"-\": standard input)")

	req := &cobra.Command{
		Use:       "requirements METHOD",
		Short:     "Show a recognition method's steps, artefacts and roles",
		Example:   "  registra recognition requirements offline\n  registra recognition requirements sign_id --json",
		Args:      exactArgs("METHOD"),
		ValidArgs: strings.Split(methodNames(), ", "),
		RunE: func(_ *cobra.Command, args []string) error {
			m, err := recognition.ParseMethod(args[0])
			if err != nil {
				return usagef("METHOD: %q: use %s", args[0], methodNames())
			}
			r := m.Requirements()
			return e.out.emit(r, func(w io.Writer) error {
				var steps, arts, roles []string
				for _, s := range r.Steps {
					steps = append(steps, string(s))
				}
				for _, a := range r.Artefacts {
					arts = append(arts, string(a))
				}
				for _, ro := range r.Roles {
					roles = append(roles, string(ro))
				}
				yes := map[bool]string{true: "yes", false: "no"}
				return kv(w, "Method", m.String(), "Steps", strings.Join(steps, " → "), "Artefacts", strings.Join(arts, ", "),
					"Document images", yes[r.DocumentImages], "OTP signature", yes[r.OTPSignature], "Roles", strings.Join(roles, ", "),
					"Usage limited", yes[r.UsageLimited])
			})
		},
	}
	c.AddCommand(rec, req, newRecognitionOffline(e), newFormSignature(e), newRecognitionLiveID(e), newRecognitionVideoID(e),
		newRecognitionSPIDLogin(e))
	return c
}
