package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/envelope"
)

// clock is a settable Now for tests that drive RunOnce by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sealed is a delivery of real envelopes, with the secrets that made them,
// so that tests can check those secrets never show up.
type sealed struct {
	d          *envelope.Delivery
	codes      envelope.Codes
	passphrase envelope.Passphrase
}

func newSealed(t testing.TB, id string) sealed {
	t.Helper()
	ctx := context.Background()
	codes, err := envelope.RemoteSignature.Generate(nil)
	require.NoError(t, err)
	pass := envelope.Passphrase("RSSMRA85T10A562S")
	c, err := envelope.NewCMS(envelope.CMSConfig{Iterations: envelope.MinIterations})
	require.NoError(t, err)
	p7m, err := c.Seal(ctx, codes, pass)
	require.NoError(t, err)
	p, err := envelope.NewPDF(envelope.PDFConfig{})
	require.NoError(t, err)
	pdf, err := p.Seal(ctx, codes, pass)
	require.NoError(t, err)
	return sealed{
		d: &envelope.Delivery{ID: id, ProductID: "prod-" + id, To: "mario.rossi@example.it",
			HolderName: "Mario D'Rossi <b>", Envelopes: []*envelope.Envelope{p7m, pdf}},
		codes: codes, passphrase: pass,
	}
}

func newSealedForBench(b *testing.B) *envelope.Delivery { return newSealed(b, "bench").d }

// message is a received message taken apart.
type message struct {
	header      netmail.Header
	text, html  string
	attachments map[string][]byte
	types       map[string]string
}

func parseMessage(t *testing.T, data []byte) message {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	m := message{header: msg.Header, attachments: map[string][]byte{}, types: map[string]string{}}
	var walk func(h map[string][]string, body io.Reader)
	walk = func(h map[string][]string, body io.Reader) {
		get := func(k string) string {
			if v := h[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		mt, params, err := mime.ParseMediaType(get("Content-Type"))
		require.NoError(t, err)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if errors.Is(err, io.EOF) {
					return
				}
				require.NoError(t, err)
				walk(p.Header, p)
			}
		}
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		if strings.EqualFold(get("Content-Transfer-Encoding"), "base64") {
			b, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
			require.NoError(t, err)
		}
		_, dparams, _ := mime.ParseMediaType(get("Content-Disposition"))
		switch {
		case dparams["filename"] != "":
			m.attachments[dparams["filename"]] = b
			m.types[dparams["filename"]] = mt
		case mt == "text/plain":
			m.text = string(b)
		case mt == "text/html":
			m.html = string(b)
		}
	}
	walk(msg.Header, msg.Body)
	return m
}

func baseConfig(t *testing.T, srv *testServer, clk *clock) Config {
	t.Helper()
	return Config{
		Host: "127.0.0.1", Port: srv.port(), TLS: NoTLS,
		From: "noreply@registra.example", FromName: "registra",
		QueueDir: filepath.Join(t.TempDir(), "queue"),
		Now:      clk.Now, Timeout: 10 * time.Second,
	}
}

// TestDeliverOverSTARTTLSWithAuth sends an envelope through a real SMTP
// server on loopback with STARTTLS and AUTH PLAIN, and checks what arrived.
func TestDeliverOverSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := selfSigned(t)
	srv := newTestServer(t, serverTLS, true)
	clk := newClock()
	cfg := baseConfig(t, srv, clk)
	cfg.TLS, cfg.TLSConfig = STARTTLS, clientTLS
	cfg.Username, cfg.Password = "registra", "smtp-secret"
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := New(cfg)
	require.NoError(t, err)

	s := newSealed(t, "env-1")
	ctx := context.Background()
	require.NoError(t, m.Enqueue(ctx, s.d))
	st, err := m.Status(ctx, "env-1")
	require.NoError(t, err)
	assert.Equal(t, Queued, st.State)

	p, err := m.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, Pass{Sent: 1}, p)
	st, err = m.Status(ctx, "env-1")
	require.NoError(t, err)
	assert.Equal(t, Sent, st.State)
	assert.Equal(t, 1, st.Attempts)
	assert.Equal(t, clk.Now(), st.SentAt)

	msgs := srv.messages()
	require.Len(t, msgs, 1)
	got := msgs[0]
	assert.True(t, got.TLS, "sent before STARTTLS")
	assert.Equal(t, "registra", got.User)
	assert.Equal(t, "noreply@registra.example", got.From)
	assert.Equal(t, []string{"mario.rossi@example.it"}, got.To)

	msg := parseMessage(t, got.Data)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, Subject, subject)
	assert.Equal(t, "<mario.rossi@example.it>", msg.header.Get("To"))
	assert.Equal(t, "<env-1@registra.example>", msg.header.Get("Message-ID"))
	assert.Contains(t, msg.text, "Gentile Mario D'Rossi <b>,")
	assert.Contains(t, msg.text, "Dear Mario D'Rossi <b>,")
	assert.Contains(t, msg.text, "il suo codice\r\nfiscale (in maiuscolo)")
	assert.Contains(t, msg.text, "your tax code")
	assert.Contains(t, msg.html, "Gentile Mario D&#39;Rossi &lt;b&gt;,")
	assert.Contains(t, msg.html, `lang="en"`)
	assert.Contains(t, msg.html, "tax code")
	require.Len(t, msg.attachments, 2)
	assert.Equal(t, s.d.Envelopes[0].Data, msg.attachments["codes.p7m"])
	assert.Equal(t, s.d.Envelopes[1].Data, msg.attachments["codes.pdf"])
	assert.Equal(t, "application/octet-stream", msg.types["codes.p7m"])
	assert.Equal(t, "application/pdf", msg.types["codes.pdf"])

	// The attachment that arrived opens with the passphrase: end to end.
	c, err := envelope.NewCMS(envelope.CMSConfig{})
	require.NoError(t, err)
	codes, err := c.Open(ctx, &envelope.Envelope{Data: msg.attachments["codes.p7m"]}, s.passphrase)
	require.NoError(t, err)
	assert.Equal(t, s.codes, codes)

	// Nothing secret in the message, the logs or the queue.
	scan := map[string][]byte{"message": got.Data, "logs": logs.Bytes()}
	queued, err := os.ReadFile(filepath.Join(cfg.QueueDir, "env-1.json"))
	require.NoError(t, err)
	scan["queue"] = queued
	for where, b := range scan {
		for _, c := range s.codes {
			assert.NotContains(t, string(b), string(c.Code), "code in %s", where)
		}
		assert.NotContains(t, string(b), string(s.passphrase), "passphrase in %s", where)
		assert.NotContains(t, string(b), "smtp-secret", "SMTP password in %s", where)
	}
}

// TestServerDownThenBack: the server is down, the envelope stays queued and
// survives a restart of the mailer; when the server is back and the
// backoff has passed, it is delivered.
func TestServerDownThenBack(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, nil, false)
	srv.stop()
	clk := newClock()
	cfg := baseConfig(t, srv, clk)
	m, err := New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	s := newSealed(t, "env-down")
	require.NoError(t, m.Enqueue(ctx, s.d))

	p, err := m.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Retrying)
	assert.Equal(t, clk.Now().Add(DefaultInitialBackoff), p.NextAttemptAt)
	st, err := m.Status(ctx, "env-down")
	require.NoError(t, err)
	assert.Equal(t, Queued, st.State)
	assert.Equal(t, 1, st.Attempts)
	assert.Contains(t, st.LastError, "connection refused")
	assert.Zero(t, st.ReplyCode)

	// The process restarts: a new mailer over the same directory.
	m, err = New(cfg)
	require.NoError(t, err)
	srv.start()

	// Not due yet: nothing is sent.
	clk.Add(DefaultInitialBackoff - time.Second)
	p, err = m.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, Pass{NextAttemptAt: st.NextAttemptAt}, p)
	assert.Empty(t, srv.messages())

	clk.Add(time.Second)
	p, err = m.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Sent)
	st, err = m.Status(ctx, "env-down")
	require.NoError(t, err)
	assert.Equal(t, Sent, st.State)
	assert.Equal(t, 2, st.Attempts)
	require.Len(t, srv.messages(), 1)
	msg := parseMessage(t, srv.messages()[0].Data)
	assert.Equal(t, s.d.Envelopes[0].Data, msg.attachments["codes.p7m"])
}

// TestPermanentFailureThenResend: a 550 reply fails the delivery at once,
// with the server's reply recorded; Resend queues the same envelopes again.
func TestPermanentFailureThenResend(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, nil, false)
	srv.setRcptErr(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"})
	clk := newClock()
	m, err := New(baseConfig(t, srv, clk))
	require.NoError(t, err)
	ctx := context.Background()
	s := newSealed(t, "env-550")
	require.NoError(t, m.Enqueue(ctx, s.d))

	p, err := m.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, Pass{Failed: 1}, p)
	st, err := m.Status(ctx, "env-550")
	require.NoError(t, err)
	assert.Equal(t, Failed, st.State)
	assert.Equal(t, 550, st.ReplyCode)
	assert.Contains(t, st.LastError, "mailbox unavailable")
	assert.Contains(t, st.LastError, "5.1.1")

	// A failed delivery is not retried by itself...
	clk.Add(24 * time.Hour)
	p, err = m.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, Pass{}, p)

	// ...until it is resent.
	srv.setRcptErr(nil)
	require.NoError(t, m.Resend(ctx, "env-550"))
	err = m.Resend(ctx, "env-550")
	assert.ErrorIs(t, err, ErrState, "a queued delivery cannot be resent")
	p, err = m.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Sent)
	require.Len(t, srv.messages(), 1)
	msg := parseMessage(t, srv.messages()[0].Data)
	assert.Equal(t, s.d.Envelopes[1].Data, msg.attachments["codes.pdf"])
}

// TestSTARTTLSRequired: with the default policy nothing is sent to a server
// that does not offer STARTTLS.
func TestSTARTTLSRequired(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, nil, false)
	clk := newClock()
	cfg := baseConfig(t, srv, clk)
	cfg.TLS = STARTTLS
	m, err := New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, m.Enqueue(ctx, newSealed(t, "env-tls").d))
	p, err := m.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Retrying)
	st, err := m.Status(ctx, "env-tls")
	require.NoError(t, err)
	assert.Equal(t, Queued, st.State)
	assert.Contains(t, st.LastError, "STARTTLS")
	assert.Empty(t, srv.messages())
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Host: "smtp.example", From: "a@example.it", QueueDir: "/tmp/q"}
	tests := []struct {
		name  string
		mut   func(*Config)
		field string
	}{
		{"ok", func(*Config) {}, ""},
		{"no host", func(c *Config) { c.Host = "" }, "host"},
		{"bad port", func(c *Config) { c.Port = 70000 }, "port"},
		{"bad tls", func(c *Config) { c.TLS = 9 }, "tls"},
		{"password without user", func(c *Config) { c.Password = "x" }, "username"},
		{"no queue", func(c *Config) { c.QueueDir = "" }, "queue_dir"},
		{"negative attempts", func(c *Config) { c.MaxAttempts = -1 }, "max_attempts"},
		{"backoff order", func(c *Config) { c.InitialBackoff, c.MaxBackoff = time.Hour, time.Minute }, "max_backoff"},
		{"bad from", func(c *Config) { c.From = "not an address" }, "from"},
		{"from with name", func(c *Config) { c.From = "A <a@example.it>" }, "from"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.mut(&c)
			err := c.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidInput)
			fe, isField := errors.AsType[*FieldError](err)
			require.True(t, isField)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	c := ok
	c.Host = ""
	assert.EqualError(t, c.Validate(), "mail: host: is required")
}

func TestEnqueueRejects(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, nil, false)
	cfg := baseConfig(t, srv, newClock())
	m, err := New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	good := newSealed(t, "env-ok").d
	require.NoError(t, m.Enqueue(ctx, good))
	tests := []struct {
		name    string
		mut     func(*envelope.Delivery)
		wantErr error
	}{
		{"duplicate", func(*envelope.Delivery) {}, ErrExists},
		{"path in id", func(d *envelope.Delivery) { d.ID = "../x" }, envelope.ErrInvalidInput},
		{"no envelopes", func(d *envelope.Delivery) { d.ID, d.Envelopes = "env-2", nil }, envelope.ErrInvalidInput},
		{"bad address", func(d *envelope.Delivery) { d.ID, d.To = "env-3", "Mario <m@example.it>" }, ErrInvalidInput},
		{"no address", func(d *envelope.Delivery) { d.ID, d.To = "env-4", "" }, envelope.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := *good
			tc.mut(&d)
			assert.ErrorIs(t, m.Enqueue(ctx, &d), tc.wantErr)
		})
	}
	ids, err := m.ids()
	require.NoError(t, err)
	assert.Equal(t, []string{"env-ok"}, ids, "bad input changes nothing")

	_, err = m.Status(ctx, "missing")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, m.Resend(ctx, "missing"), ErrNotFound)
	_, err = m.Status(ctx, "../etc/passwd")
	assert.ErrorIs(t, err, ErrInvalidInput)
}

// TestNewRemovesTornWrites: a temporary file left by a crash between write
// and rename is removed; the entry it would have replaced is intact.
func TestNewRemovesTornWrites(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, nil, false)
	cfg := baseConfig(t, srv, newClock())
	m, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, m.Enqueue(context.Background(), newSealed(t, "env-x").d))
	torn := filepath.Join(cfg.QueueDir, tmpPrefix+"env-x-123")
	require.NoError(t, os.WriteFile(torn, []byte(`{"status":`), 0o600))

	m, err = New(cfg)
	require.NoError(t, err)
	_, err = os.Stat(torn)
	assert.ErrorIs(t, err, os.ErrNotExist)
	st, err := m.Status(context.Background(), "env-x")
	require.NoError(t, err)
	assert.Equal(t, Queued, st.State)
}

func TestSecretRedacts(t *testing.T) {
	t.Parallel()
	s := Secret("smtp-secret")
	cfg := Config{Password: s}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "cfg", cfg, "s", s)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "cfg", cfg, "s", s)
	for _, out := range []string{buf.String(), s.String(), fmtAll(cfg), fmtAll(s)} {
		assert.NotContains(t, out, "smtp-secret")
	}
}

// TestDeliverOverImplicitTLS sends to an SMTPS server.
func TestDeliverOverImplicitTLS(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := selfSigned(t)
	srv := newImplicitTLSServer(t, serverTLS)
	clk := newClock()
	cfg := baseConfig(t, srv, clk)
	cfg.TLS, cfg.TLSConfig = ImplicitTLS, clientTLS
	m, err := New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, m.Enqueue(ctx, newSealed(t, "env-smtps").d))
	p, err := m.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, Pass{Sent: 1}, p)
	msgs := srv.messages()
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].TLS)

	// A client that does not trust the server's certificate sends nothing.
	srv2 := newImplicitTLSServer(t, serverTLS)
	cfg2 := baseConfig(t, srv2, clk)
	cfg2.TLS = ImplicitTLS
	cfg2.TLSConfig = &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	m2, err := New(cfg2)
	require.NoError(t, err)
	require.NoError(t, m2.Enqueue(ctx, newSealed(t, "env-untrusted").d))
	p, err = m2.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Retrying)
	st, err := m2.Status(ctx, "env-untrusted")
	require.NoError(t, err)
	assert.Contains(t, st.LastError, "certificate")
	assert.Empty(t, srv2.messages())
}
