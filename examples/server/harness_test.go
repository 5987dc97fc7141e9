package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/taxcode"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// childEnv marks the test binary re-executed as the server.
const childEnv = "REGISTRA_SERVER_CHILD"

// TestMain runs the server itself when re-executed by a test: the child
// takes its settings from REGISTRA_* variables, exactly as a deployment
// would.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, nil, os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "registra:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// freeAddr returns a loopback address with a port free at the time of the
// call; the server binds it again (a restarted server must keep its public
// URL, which its certificates name).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// server is the example server running as a child process.
type server struct {
	t        *testing.T
	dir      string
	api, pub string
	roots    string
	cmd      *exec.Cmd
	stdout   *lines
	stderr   *bytes.Buffer
	client   *http.Client
}

// lines collects a process's output lines and signals new ones.
type lines struct {
	mu   sync.Mutex
	all  []string
	more chan struct{}
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// waitFor returns the first line containing s, waiting up to d.
func (l *lines) waitFor(t *testing.T, s string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		for _, x := range l.all {
			if strings.Contains(x, s) {
				l.mu.Unlock()
				return x
			}
		}
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("no %q in the server's output:\n%s", s, l)
		}
	}
}

// startServer starts the server on dir, api and pub, trusting the evidence
// roots in roots, and waits until it serves.
func startServer(t *testing.T, dir, api, pub, roots string, env ...string) *server {
	t.Helper()
	s := &server{t: t, dir: dir, api: api, pub: pub, roots: roots, stdout: &lines{more: make(chan struct{}, 1)}, stderr: &bytes.Buffer{}}
	s.cmd = exec.Command(os.Args[0], "-test.run=^$")
	s.cmd.Env = append(os.Environ(), childEnv+"=1", "REGISTRA_DATA="+dir, "REGISTRA_ADDR="+api, "REGISTRA_PUBLIC_ADDR="+pub,
		"REGISTRA_EVIDENCE_ROOTS="+roots, "REGISTRA_LOG_LEVEL=warn")
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stderr = &syncWriter{w: s.stderr}
	out, err := s.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, s.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.stdout.mu.Lock()
			s.stdout.all = append(s.stdout.all, sc.Text())
			s.stdout.mu.Unlock()
			select {
			case s.stdout.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill() // the test failed before stopping it
			_ = s.cmd.Wait()
		}
	})
	s.stdout.waitFor(t, "operator API on https://", 2*time.Minute)
	b, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(b))
	s.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 32,
	}}
	return s
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// stop sends SIGTERM and checks the server shuts down cleanly.
func (s *server) stop() {
	s.t.Helper()
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGTERM))
	require.NoErrorf(s.t, s.cmd.Wait(), "stderr:\n%s", s.stderr)
}

// kill sends SIGKILL: no shutdown of any kind.
func (s *server) kill() {
	s.t.Helper()
	require.NoError(s.t, s.cmd.Process.Kill())
	_ = s.cmd.Wait() // "signal: killed"
}

type reply struct {
	status int
	raw    []byte
	body   map[string]any
}

// do sends a JSON request to the API; body may be []byte sent as is.
func (s *server) do(method, path, token string, body any) reply {
	s.t.Helper()
	r, err := s.try(method, path, token, "application/json", body)
	require.NoError(s.t, err)
	return r
}

// try is do without failing the test on transport errors (a killed server).
func (s *server) try(method, path, token, contentType string, body any) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, "https://"+s.api+path, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: res.StatusCode, raw: raw}
	if strings.Contains(res.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			return reply{}, err
		}
	}
	return r, nil
}

// public fetches a path of the public listener.
func (s *server) public(path string) []byte {
	s.t.Helper()
	res, err := http.Get("http://" + s.pub + path)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	require.Equalf(s.t, http.StatusOK, res.StatusCode, "GET %s: %s", path, b)
	return b
}

// totpUser tracks the TOTP steps an operator used: the server refuses a
// step twice and accepts one step either side of its clock.
type totpUser struct {
	name, password, secret string
	last                   int64
}

// code returns a code for the next unused step, waiting for the clock when
// the next step is more than one step ahead.
func (u *totpUser) code(t *testing.T) string {
	t.Helper()
	for {
		now := time.Now().Unix() / 30
		step := max(u.last+1, now)
		if step <= now+1 {
			u.last = step
			c, err := totp.GenerateCode(u.secret, time.Unix(step*30, 0))
			require.NoError(t, err)
			return c
		}
		<-time.After(time.Until(time.Unix((now+1)*30, 0))) // a real server's real clock
	}
}

// login opens a session.
func (s *server) login(u *totpUser) string {
	s.t.Helper()
	r := s.do(http.MethodPost, "/v1/sessions", "", map[string]string{"username": u.name, "password": u.password, "otp": u.code(s.t)})
	require.Equalf(s.t, http.StatusOK, r.status, "login %s: %s", u.name, r.raw)
	return r.body["token"].(string)
}

// admin reads DATA/bootstrap.json.
func (s *server) admin() *totpUser {
	s.t.Helper()
	var b bootstrap
	raw, err := os.ReadFile(filepath.Join(s.dir, BootstrapFile))
	require.NoError(s.t, err)
	require.NoError(s.t, json.Unmarshal(raw, &b))
	return &totpUser{name: b.Username, password: b.Password, secret: b.TOTPSecret}
}

// operator creates an operator with a role and confirms its enrolment.
func (s *server) operator(adminToken, org, name, role string) *totpUser {
	s.t.Helper()
	u := &totpUser{name: name, password: "a long enough password 123"}
	r := s.do(http.MethodPost, "/v1/operators", adminToken, map[string]any{"org": org, "username": name, "name": "Test " + name,
		"email": name + "@registra.example", "roles": []string{role}, "unit": demoUnit, "password": u.password})
	require.Equalf(s.t, http.StatusCreated, r.status, "create operator: %s", r.raw)
	u.secret = r.body["totp"].(map[string]any)["secret"].(string)
	c := s.do(http.MethodPost, "/v1/enrolments", "", map[string]string{"username": name, "password": u.password, "otp": u.code(s.t)})
	require.Equalf(s.t, http.StatusNoContent, c.status, "confirm: %s", c.raw)
	return u
}

// applicant returns a complete, valid applicant i as JSON fields, and its
// recognition snapshot.
func applicant(t *testing.T, i int) (map[string]any, recognition.Applicant) {
	t.Helper()
	given := []string{"Mario", "Giulia", "Luca", "Anna", "Paolo", "Sara"}[i%6]
	surname := []string{"Rossi", "Bianchi", "Verdi", "Esposito", "Romano", "Colombo"}[(i/6)%6]
	sex, s := taxcode.Male, "M"
	if i%2 == 1 {
		sex, s = taxcode.Female, "F"
	}
	born := time.Date(1950+i%50, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
	code, err := taxcode.Compute(taxcode.Person{Surname: surname, GivenName: given, BirthDate: born, Sex: sex, Place: "H501"})
	require.NoError(t, err)
	now := time.Now().UTC()
	email, mobile := fmt.Sprintf("holder%d.%d@example.org", i, now.UnixNano()%1e6), fmt.Sprintf("+39340%07d", (i*7919+int(now.UnixNano()/1e3))%1e7)
	return map[string]any{
			"tax_code": code.String(), "first_name": given, "surname": surname, "sex": s, "birth_date": born.Format(time.DateOnly),
			"birth_place": "H501",
			"document": map[string]any{"country": "IT", "type": "identity_card", "number": fmt.Sprintf("CA%05dAB", i),
				"issued_on": now.AddDate(-2, 0, 0).Format(time.DateOnly), "expires_on": now.AddDate(8, 0, 0).Format(time.DateOnly)},
			"residence": map[string]any{"street": "Via Roma 1", "postal_code": "00100", "city": "Roma", "province": "RM", "country": "IT"},
			"email":     email, "mobile": mobile, "privacy_consent": true,
		}, recognition.Applicant{TaxCode: code.String(), GivenName: given, Surname: surname, DateOfBirth: born.Format(time.DateOnly),
			Email: email, Mobile: mobile}
}

// evidence seals an Offline recognition of order id, made by the RAO name
// of org, with the test evidence CA's sealer.
func evidence(t *testing.T, sealer *recognition.Sealer, id, org, name string, a recognition.Applicant) []byte {
	t.Helper()
	v, err := recognition.NewOffline(recognition.OfflineConfig{})
	require.NoError(t, err)
	ev, err := v.Verify(context.Background(), recognition.Submission{
		OrderID:   id,
		Applicant: a,
		Operator:  recognition.Operator{ID: name, Name: name, Role: "rao", Org: org, Unit: demoUnit},
		Consents:  []recognition.Consent{{Name: recognition.ConsentPrivacy, Given: true}},
		Uploads: []recognition.Upload{
			{Kind: recognition.KindDocumentFront, Name: "front.jpg", Data: recognitiontest.JPEG("front " + id)},
			{Kind: recognition.KindDocumentBack, Name: "back.png", Data: recognitiontest.PNG("back " + id)},
			{Kind: recognition.KindSignedPaperForm, Name: "form.pdf", Data: recognitiontest.PDF("request form " + id)},
			{Kind: recognition.KindReport, Name: "report.pdf", Data: recognitiontest.PDF("report " + id)},
		},
	})
	require.NoError(t, err)
	sealed, err := sealer.Seal(context.Background(), &ev)
	require.NoError(t, err)
	b, err := sealed.MarshalBinary()
	require.NoError(t, err)
	return b
}

// evidenceCA makes the test evidence CA, writes its root for the server,
// and returns the sealer.
func evidenceCA(t *testing.T) (*recognition.Sealer, string) {
	t.Helper()
	now := time.Now()
	evca := recognitiontest.NewRoot(t, "Evidence Test CA", now.AddDate(-1, 0, 0), now.AddDate(10, 0, 0))
	cert, key := evca.IssueEvidenceCert(t)
	sealer, err := recognition.NewSealer(recognition.SealerConfig{Certificate: cert, Key: key, Chain: evca.Chain()})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "evidence-roots.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: evca.Root().Raw}), 0o644))
	return sealer, path
}

// recognise uploads a sealed bundle for order id.
func (s *server) recognise(token, id string, bundle []byte) reply {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("bundle", "evidence.bin")
	require.NoError(s.t, err)
	_, err = fw.Write(bundle)
	require.NoError(s.t, err)
	require.NoError(s.t, mw.Close())
	r, err := s.try(http.MethodPost, "/v1/orders/"+id+"/recognition", token, mw.FormDataContentType(), buf.Bytes())
	require.NoError(s.t, err)
	return r
}

// recogniseOffline uploads the artefacts of an Offline recognition of order
// id; the server verifies and seals them with its own evidence key.
func (s *server) recogniseOffline(token, id string) reply {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range []struct {
		field string
		data  []byte
	}{
		{"signed_paper_form", recognitiontest.PDF("request form " + id)},
		{"recognition_report", recognitiontest.PDF("report " + id)},
		{"document_front", recognitiontest.JPEG("front " + id)},
		{"document_back", recognitiontest.PNG("back " + id)},
	} {
		fw, err := mw.CreateFormFile(f.field, f.field)
		require.NoError(s.t, err)
		_, err = fw.Write(f.data)
		require.NoError(s.t, err)
	}
	require.NoError(s.t, mw.Close())
	r, err := s.try(http.MethodPost, "/v1/orders/"+id+"/recognition/offline", token, mw.FormDataContentType(), buf.Bytes())
	require.NoError(s.t, err)
	return r
}

// issued takes applicant i through draft, submit, recognition and issuance
// by the RAO, and returns the product. The recognition is a bundle sealed
// with sealer, or, when sealer is nil, the uploaded artefacts sealed by the
// server.
func (s *server) issued(t *testing.T, token, org, rao string, sealer *recognition.Sealer, i int) map[string]any {
	t.Helper()
	a, snap := applicant(t, i)
	r := s.do(http.MethodPost, "/v1/orders", token, map[string]any{"product_type": "remote_signature", "method": "offline", "applicant": a})
	require.Equalf(t, http.StatusCreated, r.status, "create: %s", r.raw)
	id := r.body["id"].(string)
	r = s.do(http.MethodPost, "/v1/orders/"+id+"/submit", token, nil)
	require.Equalf(t, http.StatusOK, r.status, "submit: %s", r.raw)
	require.Equal(t, "to_identify", r.body["status"])
	if sealer != nil {
		r = s.recognise(token, id, evidence(t, sealer, id, org, rao, snap))
	} else {
		r = s.recogniseOffline(token, id)
	}
	require.Equalf(t, http.StatusOK, r.status, "recognition: %s", r.raw)
	require.Equal(t, "to_issue", r.body["status"])
	r = s.do(http.MethodPost, "/v1/orders/"+id+"/issue", token, map[string]any{"passphrase": map[string]any{"use_tax_code": true}})
	require.Equalf(t, http.StatusCreated, r.status, "issue: %s", r.raw)
	require.Equal(t, "active", r.body["status"])
	return r.body
}
