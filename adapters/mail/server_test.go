package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// received is one message the test server accepted.
type received struct {
	From string
	To   []string
	Data []byte
	User string
	Pass string
	TLS  bool
}

// testServer is an in-process SMTP server on 127.0.0.1 (go-smtp), which
// can be stopped and started again on the same address.
type testServer struct {
	t        *testing.T
	addr     string
	tls      *tls.Config
	needAuth bool
	// implicit serves TLS from the first byte (SMTPS) instead of STARTTLS.
	implicit bool
	// rcptErr, when set, is the reply to RCPT TO.
	mu      sync.Mutex
	rcptErr *smtp.SMTPError
	msgs    []received
	srv     *smtp.Server
	l       net.Listener
}

// newTestServer returns a server listening on a free loopback port. With
// tlsConf it offers STARTTLS; with needAuth it requires AUTH PLAIN as
// user/secret.
func newTestServer(t *testing.T, tlsConf *tls.Config, needAuth bool) *testServer {
	t.Helper()
	return startTestServer(t, &testServer{t: t, tls: tlsConf, needAuth: needAuth})
}

// newImplicitTLSServer returns an SMTPS server (TLS from the first byte).
func newImplicitTLSServer(t *testing.T, tlsConf *tls.Config) *testServer {
	t.Helper()
	return startTestServer(t, &testServer{t: t, tls: tlsConf, implicit: true})
}

func startTestServer(t *testing.T, s *testServer) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.addr = l.Addr().String()
	s.serve(l)
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) port() int { return s.addrPort().Port }

func (s *testServer) addrPort() *net.TCPAddr {
	a, err := net.ResolveTCPAddr("tcp", s.addr)
	require.NoError(s.t, err)
	return a
}

func (s *testServer) serve(l net.Listener) {
	if s.implicit {
		l = tls.NewListener(l, s.tls)
	}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.TLSConfig = s.tls
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	s.mu.Lock()
	s.srv, s.l = srv, l
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// stop closes the listener and every connection: the server is down.
func (s *testServer) stop() {
	s.mu.Lock()
	srv, l := s.srv, s.l
	s.srv, s.l = nil, nil
	s.mu.Unlock()
	// Close the listener directly too: Serve may not have registered it
	// with the server yet.
	if l != nil {
		_ = l.Close()
	}
	if srv != nil {
		_ = srv.Close()
	}
}

// start listens again on the same address.
func (s *testServer) start() {
	l, err := net.Listen("tcp", s.addr)
	require.NoError(s.t, err)
	s.serve(l)
}

func (s *testServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *testServer) setRcptErr(e *smtp.SMTPError) {
	s.mu.Lock()
	s.rcptErr = e
	s.mu.Unlock()
}

// NewSession implements smtp.Backend.
func (s *testServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &testSession{s: s, tls: isTLS, conn: c}, nil
}

type testSession struct {
	s    *testServer
	conn *smtp.Conn
	tls  bool
	cur  received
	auth bool
}

func (ss *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "registra" || pass != "smtp-secret" {
			return errors.New("bad credentials")
		}
		ss.cur.User, ss.cur.Pass, ss.auth = user, pass, true
		return nil
	}), nil
}

func (ss *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.needAuth && !ss.auth {
		return smtp.ErrAuthRequired
	}
	ss.cur.From = from
	return nil
}

func (ss *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	e := ss.s.rcptErr
	ss.s.mu.Unlock()
	if e != nil {
		return e
	}
	ss.cur.To = append(ss.cur.To, to)
	return nil
}

func (ss *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.Data = b
	_, ss.cur.TLS = ss.conn.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.cur)
	ss.s.mu.Unlock()
	return nil
}

func (ss *testSession) Reset()        { ss.cur = received{User: ss.cur.User, Pass: ss.cur.Pass} }
func (ss *testSession) Logout() error { return nil }

// selfSigned returns a server TLS config for 127.0.0.1 and a client config
// that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtp test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client
}
