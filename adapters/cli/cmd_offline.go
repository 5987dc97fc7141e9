package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// offlineFlags are the inputs of `registra recognition offline`.
type offlineFlags struct {
	uploads                    []string
	officerID, officerGiven    string
	officerSurname, officerTax string
	officerRole                string
}

func newRecognitionOffline(e *env) *cobra.Command {
	var f offlineFlags
	c := &cobra.Command{
		Use:   "offline ORDER",
		Short: "Upload an in-person recognition's artefacts; the platform verifies, seals and records them",
		Long: `offline is the recognition step of the Offline method: the applicant was seen
in person and signed the paper form. It uploads the artefacts (--upload
KIND=FILE: document_front, document_back or document_both, signed_paper_form,
recognition_report or signed_report) to the operator API, where the platform
verifies them, seals the evidence with its own evidence key and moves the
order to to_issue.

An operator who did not recognise the applicant names the recognising officer,
a registered IR or RAO of the organisation (--officer-id, --officer-given-name,
--officer-surname, --officer-tax-code, --officer-role).`,
		Example: `  registra recognition offline ORDER --upload document_front=front.jpg --upload document_back=back.jpg \
      --upload signed_paper_form=form.pdf --upload recognition_report=report.pdf`,
		Args: exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			files, err := readUploads(f.uploads)
			if err != nil {
				return err
			}
			c, err := e.apiClient()
			if err != nil {
				return err
			}
			body := &multipartBody{files: files, fields: [][2]string{
				{"officer_id", f.officerID}, {"officer_given_name", f.officerGiven}, {"officer_surname", f.officerSurname},
				{"officer_tax_code", f.officerTax}, {"officer_role", f.officerRole}}}
			r := post(path("v1", "orders", args[0], "recognition", "offline"), body)
			var rec wireOrder
			return e.callWith(ctx, c, r, &rec, func(w io.Writer) error { return printOrder(w, &rec) })
		},
	}
	fl := c.Flags()
	fl.StringArrayVar(&f.uploads, "upload", nil, "an artefact, KIND=FILE (repeat for each)")
	fl.StringVar(&f.officerID, "officer-id", "", "the recognising officer's operator ID, when you upload for them")
	fl.StringVar(&f.officerGiven, "officer-given-name", "", "the recognising officer's given name")
	fl.StringVar(&f.officerSurname, "officer-surname", "", "the recognising officer's surname")
	fl.StringVar(&f.officerTax, "officer-tax-code", "", "the recognising officer's tax code")
	fl.StringVar(&f.officerRole, "officer-role", "", "the recognising officer's role: ir, rao or master_rao")
	return c
}

// readUploads reads KIND=FILE arguments as multipart file fields named KIND.
func readUploads(specs []string) ([]formFile, error) {
	if len(specs) == 0 {
		return nil, usagef("--upload is required: KIND=FILE for each artefact")
	}
	var out []formFile
	for _, s := range specs {
		kind, file, ok := strings.Cut(s, "=")
		if !ok || kind == "" || file == "" {
			return nil, usagef("--upload: %q is not KIND=FILE", s)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--upload: %v", err)
		}
		out = append(out, formFile{field: kind, name: filepath.Base(file), data: b})
	}
	return out, nil
}
