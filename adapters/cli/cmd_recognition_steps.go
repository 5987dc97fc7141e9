package cli

import (
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
)

// The steps of the recognitions made with the applicant (Live ID, Video
// ID, SPID): the applicant's OTP form signature first, then the method's
// own step.

// wireChallenge is the answer to a started form signature.
type wireChallenge struct {
	ChallengeID string    `json:"challenge_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	Destination string    `json:"destination"`
	Link        string    `json:"link"`
}

// wireSPIDLogin is the answer to a started SPID login.
type wireSPIDLogin struct {
	URL        string    `json:"url"`
	RequestID  string    `json:"request_id"`
	RelayState string    `json:"relay_state"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// readFileFlag reads the file named by --flag.
func readFileFlag(flag, file string) (formFile, error) {
	if err := required(flag, file); err != nil {
		return formFile{}, err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return formFile{}, usagef("--%s: %v", flag, err)
	}
	return formFile{name: filepath.Base(file), data: b}, nil
}

func newFormSignature(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "form-signature",
		Short: "The applicant's OTP signature of the request form (Live ID, Video ID, SPID)",
		Long: `form-signature runs the first step of the Live ID, Video ID and SPID
recognitions: 'start' sends the applicant an OTP for the signature of the
request form; 'complete' enters the code, and the platform has a one-shot
certificate issued and the form signed with it. The applicant may instead
enter the code themselves with the link token 'start' prints (POST
/v1/applicant/form-signature, no session). The method's own step
('live-id', 'video-id', 'spid-login') then records the recognition.`,
		Example: "  registra recognition form-signature start ORDER --form request-form.pdf\n" +
			"  registra recognition form-signature complete ORDER CHALLENGE --otp-file -",
		Args: exactArgs(),
	}
	var form string
	start := &cobra.Command{
		Use:     "start ORDER",
		Short:   "Send the applicant an OTP to sign the request form (IR, RAO; any operator for Video ID and SPID)",
		Example: "  registra recognition form-signature start ORDER --form request-form.pdf",
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := readFileFlag("form", form)
			if err != nil {
				return err
			}
			f.field = "form"
			r := post(path("v1", "orders", args[0], "recognition", "form-signature"), &multipartBody{files: []formFile{f}})
			var ch wireChallenge
			return e.call(cmd.Context(), r, &ch, func(w io.Writer) error {
				return kv(w, "Challenge", ch.ChallengeID, "Sent to", ch.Destination, "Expires", ch.ExpiresAt.Format(time.RFC3339),
					"Applicant link token", ch.Link)
			})
		},
	}
	start.Flags().StringVar(&form, "form", "", "the request form the applicant signs (PDF)")
	var otpFile string
	complete := &cobra.Command{
		Use:   "complete ORDER CHALLENGE",
		Short: "Sign the request form with the OTP the applicant received",
		Long: `complete enters the code the applicant received for CHALLENGE (prompted for,
or --otp-file, "-" for a line of standard input). A wrong code uses one of
the attempts; once the form is signed, record the recognition with the
method's own step. For a Video ID order whose provider's session record
came first, the signature records the recognition: the order is printed
with its status.`,
		Example: "  registra recognition form-signature complete ORDER CHALLENGE\n" +
			"  echo 123456 | registra recognition form-signature complete ORDER CHALLENGE --otp-file -",
		Args: exactArgs("ORDER", "CHALLENGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := e.secret("otp-file", otpFile, "OTP code")
			if err != nil {
				return err
			}
			r := post(path("v1", "orders", args[0], "recognition", "form-signature", args[1]), map[string]string{"otp": code})
			var o wireOrder
			return e.call(cmd.Context(), r, &o, func(w io.Writer) error {
				fprintf(w, "request form of %s signed\n", args[0])
				return printOrder(w, &o)
			})
		},
	}
	complete.Flags().StringVar(&otpFile, "otp-file", "", "file holding the applicant's OTP (\"-\": a line of standard input); prompted for when absent")
	c.AddCommand(start, complete)
	return c
}

func newRecognitionLiveID(e *env) *cobra.Command {
	var uploads []string
	c := &cobra.Command{
		Use:   "live-id ORDER",
		Short: "Record a Live ID recognition from the report you signed (IR, RAO; to_identify → to_issue)",
		Long: `live-id is the last step of the Live ID method, after the applicant's form
signature: it uploads the recognition report you signed (--upload
signed_report=FILE, a .p7m) and the identity document images (--upload
document_front=FILE and document_back=FILE, or document_both=FILE). The
report must be signed with a qualified certificate in your name: the tax
code registered for you ('registra operator update --tax-code'). The
platform verifies the report and the form signature, seals the evidence and
moves the order to to_issue.`,
		Example: `  registra recognition live-id ORDER --upload signed_report=report.pdf.p7m \
      --upload document_front=front.jpg --upload document_back=back.jpg`,
		Args: exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := readUploads(uploads)
			if err != nil {
				return err
			}
			r := post(path("v1", "orders", args[0], "recognition", "live-id"), &multipartBody{files: files})
			var o wireOrder
			return e.call(cmd.Context(), r, &o, func(w io.Writer) error { return printOrder(w, &o) })
		},
	}
	c.Flags().StringArrayVar(&uploads, "upload", nil, "an artefact, KIND=FILE (repeat for each)")
	return c
}

func newRecognitionVideoID(e *env) *cobra.Command {
	var session, timestamp, signature string
	c := &cobra.Command{
		Use:   "video-id ORDER",
		Short: "Record a Video ID recognition from the provider's session record (to_identify → to_issue)",
		Long: `video-id is the last step of the Video ID method, after the applicant's form
signature: it relays the video provider's session record (--session, the
JSON body byte for byte) with the values of the provider's
X-Registra-Timestamp and X-Registra-Signature headers (--timestamp,
--signature). The platform authenticates the record, verifies it with the
form signature, seals the evidence and moves the order to to_issue.`,
		Example: `  registra recognition video-id ORDER --session session.json --timestamp 1764756000 --signature v1=5d41402a…`,
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := readFileFlag("session", session)
			if err != nil {
				return err
			}
			if err := required("timestamp", timestamp); err != nil {
				return err
			}
			if err := required("signature", signature); err != nil {
				return err
			}
			f.field = "session"
			r := post(path("v1", "orders", args[0], "recognition", "video-id"), &multipartBody{files: []formFile{f},
				fields: [][2]string{{"timestamp", timestamp}, {"signature", signature}}})
			var o wireOrder
			return e.call(cmd.Context(), r, &o, func(w io.Writer) error { return printOrder(w, &o) })
		},
	}
	c.Flags().StringVar(&session, "session", "", "the provider's session record (JSON, as received)")
	c.Flags().StringVar(&timestamp, "timestamp", "", "the provider's timestamp (Unix seconds)")
	c.Flags().StringVar(&signature, "signature", "", "the provider's signature, v1=<hex>")
	return c
}

func newRecognitionSPIDLogin(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "spid-login ORDER",
		Short: "Start the applicant's SPID login and print where to send them",
		Long: `spid-login is the last step of the SPID method, after the applicant's form
signature: it prints the identity provider's address, with a signed
AuthnRequest, to send the applicant to. After the login the identity
provider posts the response to the platform's assertion consumer service
(/v1/recognition/spid/acs), which records the recognition; follow the order
with 'registra order get ORDER'.`,
		Example: "  registra recognition spid-login ORDER\n  registra recognition spid-login ORDER --json | jq -r .url",
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := post(path("v1", "orders", args[0], "recognition", "spid", "login"), nil)
			var l wireSPIDLogin
			return e.call(cmd.Context(), r, &l, func(w io.Writer) error {
				return kv(w, "Login URL", l.URL, "Request", l.RequestID, "Expires", l.ExpiresAt.Format(time.RFC3339))
			})
		},
	}
}
