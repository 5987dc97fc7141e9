package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/registra-pki/registra/recognition"
)

// orderStringField is a string field of an order input settable by a flag.
type orderStringField struct {
	flag, usage string
	field       func(*wireOrderInput) *string
}

// orderStringFields are the order input's string fields, one flag each.
var orderStringFields = []orderStringField{
	{"product-type", "catalogue product ID (registra catalogue)", func(o *wireOrderInput) *string { return &o.ProductType }},
	{"method", "recognition method: offline, live_id, video_id, sign_id or spid", func(o *wireOrderInput) *string { return &o.Method }},
	{"unit", "unit the request is entered in (default: the operator's)", func(o *wireOrderInput) *string { return &o.Unit }},
	{"external-code", "the partner's lookup code", func(o *wireOrderInput) *string { return &o.ExternalCode }},
	{"nickname", "free search key", func(o *wireOrderInput) *string { return &o.Nickname }},
	{"device-serial", "serial of the holder's device", func(o *wireOrderInput) *string { return &o.DeviceSerial }},
	{"role-organization", "organisation of a role certificate", func(o *wireOrderInput) *string { return &o.RoleOrganization }},
	{"role-organization-id", "its identifier, e.g. VATIT-01234567890", func(o *wireOrderInput) *string { return &o.RoleOrganizationID }},
	{"role-title", "title of a role certificate", func(o *wireOrderInput) *string { return &o.RoleTitle }},
	{"tax-code", "applicant's tax code (codice fiscale)", func(o *wireOrderInput) *string { return &o.Applicant.TaxCode }},
	{"first-name", "applicant's first name", func(o *wireOrderInput) *string { return &o.Applicant.FirstName }},
	{"surname", "applicant's surname", func(o *wireOrderInput) *string { return &o.Applicant.Surname }},
	{"sex", "applicant's sex as in the tax code: M or F", func(o *wireOrderInput) *string { return &o.Applicant.Sex }},
	{"birth-date", "applicant's date of birth, YYYY-MM-DD", func(o *wireOrderInput) *string { return &o.Applicant.BirthDate }},
	{"birth-place", "cadastral code of the place of birth, e.g. H501", func(o *wireOrderInput) *string { return &o.Applicant.BirthPlace }},
	{"email", "applicant's e-mail", func(o *wireOrderInput) *string { return &o.Applicant.Email }},
	{"mobile", "applicant's mobile, E.164 (+39...)", func(o *wireOrderInput) *string { return &o.Applicant.Mobile }},
	{"document-country", "identity document's issuing country, ISO 3166-1 alpha-2", func(o *wireOrderInput) *string { return &o.Applicant.Document.Country }},
	{"document-type", "identity_card, passport or driving_licence", func(o *wireOrderInput) *string { return &o.Applicant.Document.Type }},
	{"document-number", "identity document's number", func(o *wireOrderInput) *string { return &o.Applicant.Document.Number }},
	{"document-issued", "identity document's issue date, YYYY-MM-DD", func(o *wireOrderInput) *string { return &o.Applicant.Document.IssuedOn }},
	{"document-expires", "identity document's expiry date, YYYY-MM-DD", func(o *wireOrderInput) *string { return &o.Applicant.Document.ExpiresOn }},
	{"street", "residence: street", func(o *wireOrderInput) *string { return &o.Applicant.Residence.Street }},
	{"postal-code", "residence: postal code", func(o *wireOrderInput) *string { return &o.Applicant.Residence.PostalCode }},
	{"city", "residence: city", func(o *wireOrderInput) *string { return &o.Applicant.Residence.City }},
	{"province", "residence: province", func(o *wireOrderInput) *string { return &o.Applicant.Residence.Province }},
	{"country", "residence: country", func(o *wireOrderInput) *string { return &o.Applicant.Residence.Country }},
}

// orderFlags reads an order input from --file and the field flags, a flag
// overriding the file.
type orderFlags struct {
	file      string
	values    wireOrderInput
	duration  int
	privacy   bool
	marketing bool
}

func (f *orderFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.file, "file", "", "JSON order input, as the API takes it (\"-\": standard input); flags override its fields")
	for _, sf := range orderStringFields {
		fs.StringVar(sf.field(&f.values), sf.flag, "", sf.usage)
	}
	fs.IntVar(&f.duration, "duration-months", 0, "validity in months (default: the product's)")
	fs.BoolVar(&f.privacy, "privacy-consent", false, "the applicant gave the privacy consent")
	fs.BoolVar(&f.marketing, "marketing-consent", false, "the applicant gave the marketing consent")
}

// apply sets the fields given on the command line (and in --file) over base.
func (f *orderFlags) apply(e *env, fs *pflag.FlagSet, base *wireOrderInput) error {
	if f.file != "" {
		b, err := e.readInput("file", f.file)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(base); err != nil {
			return usagef("--file: %v", err)
		}
	}
	for _, sf := range orderStringFields {
		if fs.Changed(sf.flag) {
			*sf.field(base) = *sf.field(&f.values)
		}
	}
	if fs.Changed("duration-months") {
		base.DurationMonths = f.duration
	}
	if fs.Changed("privacy-consent") {
		base.Applicant.PrivacyConsent = f.privacy
	}
	if fs.Changed("marketing-consent") {
		base.Applicant.MarketingConsent = f.marketing
	}
	return checkOrderInput(base)
}

// checkOrderInput checks what the command line can get wrong before the
// server sees it: the method's and the dates' spelling. The server checks
// everything else.
func checkOrderInput(o *wireOrderInput) error {
	if o.Method != "" {
		if _, err := recognition.ParseMethod(o.Method); err != nil {
			return usagef("--method: %q is not a recognition method: use %s", o.Method, methodNames())
		}
	}
	for name, v := range map[string]string{"birth-date": o.Applicant.BirthDate, "document-issued": o.Applicant.Document.IssuedOn,
		"document-expires": o.Applicant.Document.ExpiresOn} {
		if v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return usagef("--%s: %q is not a date (YYYY-MM-DD)", name, v)
		}
	}
	return nil
}

func methodNames() string {
	var names []string
	for _, m := range recognition.Methods() {
		names = append(names, m.String())
	}
	return strings.Join(names, ", ")
}

func newOrder(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "order",
		Short: "Create, update, submit, delete and show orders",
		Example: `  registra order create --product-type remote_signature --method offline --tax-code RSSMRA80A01H501U \
      --first-name Mario --surname Rossi --email mario.rossi@example.com --privacy-consent
  registra order submit ORDER`,
		Args: exactArgs(),
	}
	c.AddCommand(newOrderCreate(e), newOrderUpdate(e), newOrderSubmit(e), newOrderDelete(e), newOrderGet(e), newOrderImport(e))
	return c
}

func newOrderCreate(e *env) *cobra.Command {
	var f orderFlags
	c := &cobra.Command{
		Use:   "create",
		Short: "Save a new request as a draft",
		Long: `create saves a new request as a draft. The input comes from --file (the API's
JSON order input) and from the field flags, which override the file. A draft
needs the product, the method and the applicant's tax code and names; the rest
is checked at submission.`,
		Example: `  registra order create --product-type remote_signature --method offline --tax-code RSSMRA80A01H501U \
      --first-name Mario --surname Rossi --sex M --birth-date 1980-01-01 --birth-place H501 \
      --email mario.rossi@example.com --mobile +393331234567 --privacy-consent
  registra order create --file order.json --nickname "desk 4" --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var in wireOrderInput
			if err := f.apply(e, cmd.Flags(), &in); err != nil {
				return err
			}
			var o wireOrder
			return e.call(cmd.Context(), post("/v1/orders", in), &o, func(w io.Writer) error { return printOrder(w, &o) })
		},
	}
	f.bind(c.Flags())
	return c
}

func newOrderUpdate(e *env) *cobra.Command {
	var f orderFlags
	c := &cobra.Command{
		Use:   "update ORDER",
		Short: "Change a draft or a request waiting for recognition",
		Long: `update reads the order, sets the fields given by --file and the flags, and
sends the whole input back with the version it read (If-Match): a change made
meanwhile by someone else is refused rather than overwritten.`,
		Example: "  registra order update ORDER --mobile +393331234567 --privacy-consent\n  registra order update ORDER --file changes.json",
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.apiClient()
			if err != nil {
				return err
			}
			var cur wireOrder
			if _, err := c.do(cmd.Context(), get(path("v1", "orders", args[0])), &cur); err != nil {
				return errorf("reading the order", err)
			}
			in := cur.Input
			if err := f.apply(e, cmd.Flags(), &in); err != nil {
				return err
			}
			var o wireOrder
			r := request{method: http.MethodPut, path: path("v1", "orders", args[0]), body: in,
				header: http.Header{"If-Match": {strconv.Quote(strconv.FormatUint(cur.Version, 10))}}}
			return e.callWith(cmd.Context(), c, r, &o, func(w io.Writer) error { return printOrder(w, &o) })
		},
	}
	f.bind(c.Flags())
	return c
}

func newOrderSubmit(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "submit ORDER",
		Short:   "Submit a draft: every mandatory field is checked (draft → to_identify)",
		Example: "  registra order submit ORDER",
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var o wireOrder
			return e.call(cmd.Context(), post(path("v1", "orders", args[0], "submit"), nil), &o, func(w io.Writer) error { return printOrder(w, &o) })
		},
	}
}

func newOrderDelete(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "delete ORDER",
		Short:   "Delete a request that is not complete",
		Example: "  registra order delete ORDER",
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.call(cmd.Context(), request{method: http.MethodDelete, path: path("v1", "orders", args[0])}, nil, func(w io.Writer) error {
				fprintf(w, "order %s deleted\n", args[0])
				return nil
			})
		},
	}
}

func newOrderGet(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "get ORDER",
		Short:   "Show an order with its history",
		Example: "  registra order get ORDER\n  registra order get ORDER --json | jq -r .status",
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var o wireOrder
			return e.call(cmd.Context(), get(path("v1", "orders", args[0])), &o, func(w io.Writer) error { return printOrder(w, &o) })
		},
	}
}

// importResult is one line of `registra order import --json`.
type importResult struct {
	Line  int    `json:"line"`
	Order string `json:"order,omitempty"`
	Error string `json:"error,omitempty"`
}

func newOrderImport(e *env) *cobra.Command {
	var submit bool
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Create drafts in bulk from a file of JSON order inputs, one per line",
		Long: `import creates one draft per line of FILE (JSON Lines: one API order input per
line; "-" reads standard input), with a progress bar on a terminal, and
prints the order created for each line or why it was refused. --submit also
submits each draft. It exits 1 when any line was refused.`,
		Example: "  registra order import orders.jsonl\n  registra order import orders.jsonl --submit --json > created.json",
		Args:    exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := e.readInput("FILE", args[0])
			if err != nil {
				return err
			}
			lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
			c, err := e.apiClient()
			if err != nil {
				return err
			}
			bar := e.newProgress(int64(len(lines)), "importing orders")
			var results []importResult
			failed := 0
			for i, line := range lines {
				res := importResult{Line: i + 1}
				if err := importLine(cmd, c, line, submit, &res); err != nil {
					if errorsIsTransport(err) {
						bar.done()
						return err
					}
					res.Error, failed = oneLine(err.Error()), failed+1
				}
				results = append(results, res)
				bar.add(1)
			}
			bar.done()
			if err := e.out.emit(results, func(w io.Writer) error {
				t := newTable(w, "LINE", "ORDER", "RESULT")
				for _, r := range results {
					result := r.Error
					if result == "" {
						result = "created"
					}
					t.AppendRow([]any{r.Line, r.Order, result})
				}
				render(w, t)
				return nil
			}); err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%w: %d of %d lines refused", ErrRefused, failed, len(lines))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&submit, "submit", false, "submit each draft after creating it")
	return c
}

// importLine creates (and submits) the order of one line.
func importLine(cmd *cobra.Command, c *client, line []byte, submit bool, res *importResult) error {
	var in wireOrderInput
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return usagef("not an order input: %v", err)
	}
	if err := checkOrderInput(&in); err != nil {
		return err
	}
	var o wireOrder
	if _, err := c.do(cmd.Context(), post("/v1/orders", in), &o); err != nil {
		return err
	}
	res.Order = o.ID
	if submit {
		if _, err := c.do(cmd.Context(), post(path("v1", "orders", o.ID, "submit"), nil), nil); err != nil {
			return fmt.Errorf("created, not submitted: %w", err)
		}
	}
	return nil
}

func printOrder(w io.Writer, o *wireOrder) error {
	a := o.Input.Applicant
	if err := kv(w, "Order", o.ID, "Status", o.Status, "Product type", o.Input.ProductType, "Method", o.Input.Method,
		"Product", o.ProductID, "Applicant", joinNonEmpty(" ", a.FirstName, a.Surname), "Tax code", a.TaxCode,
		"E-mail", a.Email, "Mobile", a.Mobile, "External code", o.Input.ExternalCode, "Nickname", o.Input.Nickname,
		"Organisation", o.Org, "Unit", o.Unit, "Operator", o.OperatorID, "User ID", o.UserID, "IUT", o.IUT,
		"Created", ts(o.CreatedAt), "Updated", ts(o.UpdatedAt), "Activated", ts(o.ActivatedAt),
		"Version", strconv.FormatUint(o.Version, 10)); err != nil {
		return err
	}
	if len(o.History) > 0 {
		fprintf(w, "\n")
		t := newTable(w, "AT", "FROM", "TO", "BY", "PUBLICATION", "DEADLINE", "PUBLISHED")
		for _, h := range o.History {
			t.AppendRow([]any{ts(h.At), h.From, h.To, h.ActorID, h.Publication, ts(h.Deadline), ts(h.PublishedAt)})
		}
		render(w, t)
	}
	return nil
}
