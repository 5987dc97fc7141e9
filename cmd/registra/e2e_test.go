package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/taxcode"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// buildCLI builds the registra binary into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "registra")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// cliRunner runs the binary with a private configuration directory.
type cliRunner struct {
	t      *testing.T
	bin    string
	config string
}

// run runs the binary and returns its standard output, standard error and
// exit code.
func (c cliRunner) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+c.config, "HOME="+c.config)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(c.t, err)
	}
	return out.String(), errb.String(), code
}

// ok runs the binary, requires exit 0 and decodes its --json output into v.
func (c cliRunner) ok(v any, stdin string, args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(stdin, args...)
	require.Equal(c.t, 0, code, "registra %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), out, errs)
	if v != nil {
		require.NoError(c.t, json.Unmarshal([]byte(out), v), "registra %s: %s", strings.Join(args, " "), out)
	}
	return out
}

// serveProcess is a running `registra serve`.
type serveProcess struct {
	cmd     *exec.Cmd
	done    chan error
	api     string
	stopped bool
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `registra serve` on dir, with the operator API on a free
// loopback port and the public listener on publicAddr, and waits until it
// says where the API listens. The process is stopped with SIGTERM by its
// pid at the end of the test.
func startServe(t *testing.T, c cliRunner, dir, publicAddr string) *serveProcess {
	t.Helper()
	cmd := exec.Command(c.bin, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--public-addr", publicAddr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+c.config, "HOME="+c.config)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	sp := &serveProcess{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		sp.done <- cmd.Wait()
	}()
	t.Cleanup(func() { sp.stop(t) })
	timeout := time.After(2 * time.Minute)
	for sp.api == "" {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "registra serve ended: %s", stderr.String())
			if addr, found := strings.CutPrefix(l, "registra: operator API on https://"); found {
				_, port, err := net.SplitHostPort(addr)
				require.NoError(t, err)
				sp.api = "https://localhost:" + port
			}
		case <-timeout:
			t.Fatalf("registra serve did not start: %s", stderr.String())
		}
	}
	go func() {
		for range lines { //nolint:revive // drain the rest of the output
		}
	}()
	return sp
}

// stop ends the server with SIGTERM (a graceful shutdown) and waits for it.
func (sp *serveProcess) stop(t *testing.T) {
	t.Helper()
	if sp.stopped {
		return
	}
	sp.stopped = true
	if err := sp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return
	}
	select {
	case err := <-sp.done:
		assert.NoError(t, err, "registra serve exits 0 on SIGTERM")
	case <-time.After(30 * time.Second):
		_ = sp.cmd.Process.Kill() //nolint:errcheck // the test fails anyway
		t.Error("registra serve did not stop on SIGTERM")
	}
}

// TestFullFlow drives the workflow with the registra binary against a
// platform on loopback (issue #11, acceptance 1): init, serve, login,
// create, submit, recognise, issue, suspend, reactivate, revoke,
// search --json, crl show, audit verify.
func TestFullFlow(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	tmp := t.TempDir()
	c := cliRunner{t: t, bin: bin, config: filepath.Join(tmp, "config")}
	dir := filepath.Join(tmp, "data")
	// A free port for the public listener, whose URL init writes into the
	// CA certificates.
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	publicAddr := pub.Addr().String()
	require.NoError(t, pub.Close())
	publicURL := "http://" + publicAddr

	// init
	var initRes struct {
		BootstrapFile string `json:"bootstrap_file"`
	}
	c.ok(&initRes, "", "init", "--data", dir, "--public-url", publicURL, "--json")
	var boot struct {
		Username, Password string
		TOTPSecret         string `json:"totp_secret"`
	}
	b, err := os.ReadFile(initRes.BootstrapFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &boot))

	// serve
	sp := startServe(t, c, dir, publicAddr)
	server, caFile := sp.api, filepath.Join(dir, "tls", "ca.pem")

	// login: the admin, from standard input as a script does.
	now := time.Now()
	code, err := totp.GenerateCode(boot.TOTPSecret, now)
	require.NoError(t, err)
	c.ok(nil, boot.Password+"\n"+code+"\n", "login", "--server", server, "--ca-file", caFile, "--username", boot.Username)
	st, err := os.Stat(filepath.Join(c.config, "registra", "session.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the token is kept readable by the user only")

	// The admin adds a partner organisation with a main and a secondary
	// unit.
	c.ok(nil, "", "org", "create", "ACME", "--name", "Acme S.p.A.", "--unit", "main=Head office")
	c.ok(nil, "", "org", "unit", "ACME", "branch", "--name", "Milan branch", "--parent", "main")
	var org struct {
		Units []struct{ ID, Parent string } `json:"units"`
	}
	c.ok(&org, "", "org", "get", "ACME", "--json")
	require.Len(t, org.Units, 2)

	// The admin creates a RAO, who confirms the enrolment and logs in with
	// the next code (a code is accepted once).
	pwFile := filepath.Join(tmp, "rao-password")
	require.NoError(t, os.WriteFile(pwFile, []byte("rao password for the cli test\n"), 0o600))
	var created struct {
		TOTP struct{ Secret string } `json:"totp"`
	}
	c.ok(&created, "", "operator", "create", "--username", "rao1", "--name", "Anna Bianchi", "--email", "anna@example.com",
		"--role", "rao", "--unit", "main", "--password-file", pwFile, "--json")
	var updated struct{ Name string }
	c.ok(&updated, "", "operator", "update", "rao1", "--name", "Anna B. Bianchi", "--json")
	assert.Equal(t, "Anna B. Bianchi", updated.Name)
	code, err = totp.GenerateCode(created.TOTP.Secret, now)
	require.NoError(t, err)
	c.ok(nil, code+"\n", "enrol", "--username", "rao1", "--password-file", pwFile)
	code, err = totp.GenerateCode(created.TOTP.Secret, now.Add(30*time.Second))
	require.NoError(t, err)
	otpFile := filepath.Join(tmp, "otp")
	require.NoError(t, os.WriteFile(otpFile, []byte(code+"\n"), 0o600))
	c.ok(nil, "", "login", "--username", "rao1", "--password-file", pwFile, "--otp-file", otpFile)
	var me struct{ ID string }
	c.ok(&me, "", "whoami", "--json")
	assert.Equal(t, "rao1", me.ID)

	// create
	born := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	tc, err := taxcode.Compute(taxcode.Person{Surname: "Rossi", GivenName: "Mario", BirthDate: born, Sex: taxcode.Male, Place: "H501"})
	require.NoError(t, err)
	orderFile := filepath.Join(tmp, "order.json")
	require.NoError(t, os.WriteFile(orderFile, fmt.Appendf(nil, `{"product_type":"remote_signature","method":"offline",
		"applicant":{"tax_code":%q,"first_name":"Mario","surname":"Rossi","sex":"M","birth_date":"1980-01-01","birth_place":"H501",
		"document":{"country":"IT","type":"identity_card","number":"CA00001AB","issued_on":%q,"expires_on":%q},
		"residence":{"street":"Via Roma 1","postal_code":"00100","city":"Roma","province":"RM","country":"IT"},
		"email":"mario.rossi@example.org","mobile":"+393400000001"}}`, tc.String(),
		now.AddDate(-2, 0, 0).Format(time.DateOnly), now.AddDate(8, 0, 0).Format(time.DateOnly)), 0o600))
	var order struct {
		ID, Status string
		Version    uint64
	}
	c.ok(&order, "", "order", "create", "--file", orderFile, "--external-code", "EXT-1", "--json")
	assert.Equal(t, "draft", order.Status)

	// Submission needs the privacy consent: refused as one line, exit 1.
	_, errs, exit := c.run("", "order", "submit", order.ID)
	assert.Equal(t, 1, exit)
	assert.Equal(t, 1, strings.Count(errs, "\n"), "one line: %q", errs)
	assert.Contains(t, errs, "registra: ")

	c.ok(&order, "", "order", "update", order.ID, "--privacy-consent", "--json")
	c.ok(&order, "", "order", "submit", order.ID, "--json")
	assert.Equal(t, "to_identify", order.Status)

	// recognise: the artefacts are uploaded; the platform verifies them,
	// seals the evidence and records it.
	uploads := map[string][]byte{"document_front": recognitiontest.JPEG("front"), "document_back": recognitiontest.PNG("back"),
		"signed_paper_form": recognitiontest.PDF("form"), "recognition_report": recognitiontest.PDF("report")}
	args := []string{"recognition", "offline", order.ID, "--json"}
	for kind, data := range uploads {
		f := filepath.Join(tmp, kind)
		require.NoError(t, os.WriteFile(f, data, 0o600))
		args = append(args, "--upload", kind+"="+f)
	}
	c.ok(&order, "", args...)
	assert.Equal(t, "to_issue", order.Status)

	// issue
	var product struct {
		ID, Status   string
		Certificates []struct {
			SerialNumber string `json:"serial_number"`
		}
		Envelopes []struct {
			ID, Format string
		}
	}
	c.ok(&product, "", "issue", order.ID, "--tax-code-passphrase", "--json")
	assert.Equal(t, "active", product.Status)
	require.NotEmpty(t, product.Certificates)
	serial := strings.ToLower(strings.TrimLeft(strings.ReplaceAll(product.Certificates[0].SerialNumber, ":", ""), "0"))

	// The envelope opens with the holder's tax code; resent under a new
	// passphrase, it holds the same codes.
	require.NotEmpty(t, product.Envelopes)
	openCodes := func(ref, pass string) string {
		t.Helper()
		file := filepath.Join(tmp, "codes-"+ref)
		c.ok(nil, "", "envelope", "get", product.ID, ref, "-o", file)
		passFile := filepath.Join(tmp, "pass-"+ref)
		require.NoError(t, os.WriteFile(passFile, []byte(pass+"\n"), 0o600))
		return c.ok(nil, "", "envelope", "open", file, "--passphrase-file", passFile, "--json")
	}
	codes := openCodes(product.Envelopes[0].ID, tc.String())
	assert.Contains(t, codes, "signing_pin")
	newPass := filepath.Join(tmp, "new-pass")
	require.NoError(t, os.WriteFile(newPass, []byte("a new passphrase for the holder\n"), 0o600))
	c.ok(&product, "", "envelope", "resend", product.ID, "--passphrase-file", newPass, "--json")
	require.Greater(t, len(product.Envelopes), 1)
	last := product.Envelopes[len(product.Envelopes)-1]
	if last.Format == product.Envelopes[0].Format {
		assert.JSONEq(t, codes, openCodes(last.ID, "a new passphrase for the holder"), "the same codes")
	}

	// suspend, reactivate, revoke
	contract := filepath.Join(tmp, "contract.pdf")
	require.NoError(t, os.WriteFile(contract, recognitiontest.PDF("suspension contract"), 0o600))
	c.ok(&product, "", "suspend", product.ID, "--until", now.AddDate(0, 0, 7).Format(time.DateOnly), "--notes", "lost phone",
		"--contract", contract, "--json")
	assert.Equal(t, "suspended", product.Status)
	c.ok(&product, "", "reactivate", product.ID, "--json")
	assert.Equal(t, "active", product.Status)
	c.ok(&product, "", "revoke", product.ID, "--requester", "owner", "--motivation", "key_compromise", "--json")
	assert.Equal(t, "revoked", product.Status)

	// Revoking again is refused: exit 1, one line.
	_, errs, exit = c.run("", "revoke", product.ID, "--requester", "owner", "--motivation", "key_compromise")
	assert.Equal(t, 1, exit)
	assert.Contains(t, errs, "(409)")

	// search --json
	var page struct {
		Hits []struct {
			OrderID string `json:"order_id"`
			Status  string `json:"status"`
		} `json:"hits"`
	}
	c.ok(&page, "", "search", "--tax-code", tc.String(), "--json")
	require.Len(t, page.Hits, 1)
	assert.Equal(t, order.ID, page.Hits[0].OrderID)
	assert.Equal(t, "revoked", page.Hits[0].Status)
	c.ok(&page, "", "search", "--list", "revoked", "--all", "--json")
	require.Len(t, page.Hits, 1)

	// crl show: a key compromise is published at once, on the delta CRL
	// (the full CRL follows at its own interval).
	require.Eventually(t, func() bool {
		var s struct {
			Listed []struct{ Serial, Reason string } `json:"listed"`
		}
		out, _, code := c.run("", "crl", "show", publicURL+"/crl/issuing-delta.crl", "--entries", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
			return false
		}
		for _, e := range s.Listed {
			if e.Serial == serial && e.Reason == "keyCompromise" {
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "serial %s on the delta CRL", serial)
	out := c.ok(nil, "", "crl", "show", publicURL+"/crl/issuing-delta.crl", "--issuer", filepath.Join(dir, "ca", "issuing.pem"))
	assert.Contains(t, out, "delta CRL")
	assert.Contains(t, out, "verified")
	out = c.ok(nil, "", "crl", "show", publicURL+"/crl/issuing.crl")
	assert.Contains(t, out, "full CRL")

	// The server is unreachable once stopped: exit 3.
	sp.stop(t)
	_, errs, exit = c.run("", "order", "get", order.ID)
	assert.Equal(t, 3, exit, errs)
	assert.Contains(t, errs, "cannot reach")

	// audit verify
	out = c.ok(nil, "", "audit", "verify", "--data", dir)
	assert.Contains(t, out, "audit trail intact")
}
