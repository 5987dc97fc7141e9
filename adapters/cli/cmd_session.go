package cli

import (
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/access"
)

// loginBody is the body of POST /v1/sessions and POST /v1/enrolments.
type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
}

// credentialFlags are where the password and TOTP code come from.
type credentialFlags struct {
	username, passwordFile, otpFile string
}

func (f *credentialFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.username, "username", "", "operator's username (default $REGISTRA_USERNAME)")
	c.Flags().StringVar(&f.passwordFile, "password-file", "", "file holding the password (\"-\": a line of standard input); prompted for when absent")
	c.Flags().StringVar(&f.otpFile, "otp-file", "", "file holding the current TOTP code (\"-\": a line of standard input); prompted for when absent")
}

// read returns the credentials: the password first, then the code, so that
// a script pipes "password\ncode\n" into standard input.
func (f *credentialFlags) read(e *env) (loginBody, error) {
	user := f.username
	if user == "" {
		user = e.getenv("REGISTRA_USERNAME")
	}
	if user == "" {
		return loginBody{}, usagef("--username is required")
	}
	pw, err := e.secret("password-file", f.passwordFile, "Password")
	if err != nil {
		return loginBody{}, err
	}
	otp, err := e.secret("otp-file", f.otpFile, "TOTP code")
	if err != nil {
		return loginBody{}, err
	}
	return loginBody{Username: user, Password: pw, OTP: strings.TrimSpace(otp)}, nil
}

func newLogin(e *env) *cobra.Command {
	var f credentialFlags
	c := &cobra.Command{
		Use:   "login",
		Short: "Log in to the operator API and keep the session",
		Long: `login opens a session with the operator's password and a current TOTP code, and
keeps the token for the client commands in the user's configuration directory
(registra/session.json, mode 0600), with the server URL and --ca-file.

On a terminal the password and the code are prompted for without echo. Scripts
give them with --password-file and --otp-file, or pipe them in on standard
input, the password on the first line and the code on the second.`,
		Example: `  registra login --server https://127.0.0.1:8443 --ca-file ./registra-data/tls/ca.pem --username rao1
  printf '%s\n%s\n' "$PASSWORD" "$(oathtool --totp -b "$SECRET")" | registra login --server https://pki.example.com --username rao1`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, server, caFile, err := e.anonClient()
			if err != nil {
				return err
			}
			body, err := f.read(e)
			if err != nil {
				return err
			}
			var s wireSession
			if _, err := c.do(cmd.Context(), post("/v1/sessions", body), &s); err != nil {
				return errorf("login", err)
			}
			file, err := e.saveSession(savedSession{Server: server, CAFile: caFile, Username: body.Username,
				Token: access.SessionToken(s.Token), ExpiresAt: s.ExpiresAt})
			if err != nil {
				return errorf("saving the session", err)
			}
			out := struct {
				Server    string    `json:"server"`
				Operator  wireActor `json:"operator"`
				ExpiresAt string    `json:"expires_at"`
				File      string    `json:"session_file"`
			}{server, s.Operator, ts(s.ExpiresAt), file}
			return e.out.emit(out, func(w io.Writer) error {
				fprintf(w, "logged in to %s as %s (%s, %s) until %s\n", server, s.Operator.ID, s.Operator.Org,
					strings.Join(s.Operator.Roles, ", "), ts(s.ExpiresAt))
				return nil
			})
		},
	}
	f.bind(c)
	return c
}

func newLogout(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "logout",
		Short:   "End the session and forget its token",
		Example: "  registra logout",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.apiClient()
			if err != nil {
				return err
			}
			if _, err := c.do(cmd.Context(), request{method: http.MethodDelete, path: "/v1/sessions/current"}, nil); err != nil {
				return errorf("logout", err)
			}
			if err := e.removeSession(); err != nil {
				return err
			}
			return e.out.emit(map[string]bool{"logged_out": true}, func(w io.Writer) error {
				fprintf(w, "logged out\n")
				return nil
			})
		},
	}
}

func newWhoami(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "whoami",
		Short:   "Show the logged-in operator",
		Example: "  registra whoami --json",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var a wireActor
			return e.call(cmd.Context(), get("/v1/sessions/current"), &a, func(w io.Writer) error {
				return kv(w, "Operator", a.ID, "Organisation", a.Org, "Roles", strings.Join(a.Roles, ", "))
			})
		},
	}
}

func newPasswd(e *env) *cobra.Command {
	var currentFile, newFile string
	c := &cobra.Command{
		Use:   "passwd",
		Short: "Change the logged-in operator's password",
		Long: `passwd changes the logged-in operator's password, after the current one (a
wrong one counts towards the lockout, as at login). Every session of the
operator ends, this one too: log in again with the new password.

On a terminal both passwords are prompted for without echo. Scripts give them
with --current-file and --new-file, or pipe them in on standard input, the
current password on the first line and the new one on the second.`,
		Example: "  registra passwd\n  printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | registra passwd",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			current, err := e.secret("current-file", currentFile, "Current password")
			if err != nil {
				return err
			}
			next, err := e.secret("new-file", newFile, "New password")
			if err != nil {
				return err
			}
			c, err := e.apiClient()
			if err != nil {
				return err
			}
			body := map[string]string{"current_password": current, "new_password": next}
			if _, err := c.do(cmd.Context(), request{method: http.MethodPut, path: "/v1/sessions/current/password", body: body}, nil); err != nil {
				return errorf("passwd", err)
			}
			if err := e.removeSession(); err != nil {
				return err
			}
			return e.out.emit(map[string]bool{"changed": true}, func(w io.Writer) error {
				fprintf(w, "password changed; every session ended: run 'registra login'\n")
				return nil
			})
		},
	}
	c.Flags().StringVar(&currentFile, "current-file", "", "file holding the current password (\"-\": a line of standard input); prompted for when absent")
	c.Flags().StringVar(&newFile, "new-file", "", "file holding the new password (\"-\": a line of standard input); prompted for when absent")
	return c
}

func newEnrol(e *env) *cobra.Command {
	var f credentialFlags
	c := &cobra.Command{
		Use:   "enrol",
		Short: "Confirm a new operator's TOTP enrolment",
		Long: `enrol confirms the TOTP enrolment of a new operator (or of one whose enrolment
was reset) with the password and a code of the newly enrolled authenticator
app. The operator can then log in with a later code.`,
		Example: "  registra enrol --server https://127.0.0.1:8443 --ca-file ca.pem --username rao1",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, _, err := e.anonClient()
			if err != nil {
				return err
			}
			body, err := f.read(e)
			if err != nil {
				return err
			}
			if _, err := c.do(cmd.Context(), post("/v1/enrolments", body), nil); err != nil {
				return errorf("enrolment", err)
			}
			return e.out.emit(map[string]string{"enrolled": body.Username}, func(w io.Writer) error {
				fprintf(w, "TOTP enrolment of %s confirmed\n", body.Username)
				return nil
			})
		},
	}
	f.bind(c)
	return c
}
