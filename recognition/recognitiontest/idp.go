package recognitiontest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"html"
	"io"
	"log"
	"maps"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	dsig "github.com/russellhaering/goxmldsig"
	"golang.org/x/crypto/bcrypt"
)

// IdP is an in-process SAML identity provider (github.com/crewjam/saml
// samlidp) that releases SPID attributes (fiscalNumber, name, familyName,
// dateOfBirth, email, mobilePhone) for its users.
type IdP struct {
	// Level is the authentication context class the assertions carry.
	// NewIdP sets "https://www.spid.gov.it/SpidL2"; set it before a login.
	Level  string
	Server *samlidp.Server
	HTTP   *httptest.Server
	Key    *rsa.PrivateKey
	Cert   *x509.Certificate

	mu    sync.Mutex
	attrs map[string]map[string]string
}

// NewIdP starts an identity provider on a loopback port; it stops with the
// test.
func NewIdP(t testing.TB) *IdP {
	t.Helper()
	idp := &IdP{attrs: map[string]map[string]string{}, Level: "https://www.spid.gov.it/SpidL2"}
	var handler http.Handler
	idp.HTTP = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(idp.HTTP.Close)
	idp.Key, idp.Cert = SelfSignedRSA(t, "Test SPID Identity Provider")
	base, err := url.Parse(idp.HTTP.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := samlidp.New(samlidp.Options{
		URL: *base, Key: idp.Key, Certificate: idp.Cert, Store: &samlidp.MemoryStore{},
		Logger: log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatalf("samlidp: %v", err)
	}
	srv.IDP.AssertionMaker = spidAssertionMaker{idp: idp}
	// SPID requires SHA-256 signatures; samlidp defaults to SHA-1. A test
	// may set Server.IDP.SignatureMethod back before the first login.
	srv.IDP.SignatureMethod = dsig.RSASHA256SignatureMethod
	idp.Server = srv
	handler = srv
	return idp
}

// Metadata returns the identity provider's metadata XML.
func (idp *IdP) Metadata(t testing.TB) []byte {
	t.Helper()
	b, err := xml.Marshal(idp.Server.IDP.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RegisterSP registers a service provider from its metadata XML.
func (idp *IdP) RegisterSP(t testing.TB, name string, metadata []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, idp.HTTP.URL+"/services/"+name, bytes.NewReader(metadata))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := idp.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("registering service provider: status %d", resp.StatusCode)
	}
}

// AddUser adds a user with a password and the SPID attributes released for
// them.
func (idp *IdP) AddUser(t testing.TB, name, password string, attrs map[string]string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.Server.Store.Put("/users/"+name, &samlidp.User{Name: name, HashedPassword: hash, Email: attrs["email"]}); err != nil {
		t.Fatal(err)
	}
	idp.mu.Lock()
	idp.attrs[name] = attrs
	idp.mu.Unlock()
}

var samlResponseField = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)

// Login follows an HTTP-Redirect login URL as a browser would: it logs in
// with the password form, then returns the SAMLResponse the identity
// provider posts back (base64, as received by the assertion consumer).
func (idp *IdP) Login(t testing.TB, loginURL, user, password string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := client.PostForm(idp.HTTP.URL+"/login", url.Values{"user": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: status %d", resp.StatusCode)
	}
	resp, err = client.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := samlResponseField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no SAMLResponse in the identity provider's answer (status %d):\n%s", resp.StatusCode, body)
	}
	return html.UnescapeString(string(m[1]))
}

// spidAssertionMaker adds the user's SPID attributes to the default
// assertion.
type spidAssertionMaker struct{ idp *IdP }

// MakeAssertion builds the default assertion with the user's SPID attributes.
func (m spidAssertionMaker) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	s := *session
	m.idp.mu.Lock()
	attrs := m.idp.attrs[session.UserName]
	m.idp.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		s.CustomAttributes = append(s.CustomAttributes, saml.Attribute{
			Name: k, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
			Values: []saml.AttributeValue{{Type: "xs:string", Value: attrs[k]}},
		})
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, &s); err != nil {
		return err
	}
	m.idp.mu.Lock()
	level := m.idp.Level
	m.idp.mu.Unlock()
	for i := range req.Assertion.AuthnStatements {
		req.Assertion.AuthnStatements[i].AuthnContext.AuthnContextClassRef = &saml.AuthnContextClassRef{Value: level}
	}
	return nil
}

// SelfSignedRSA returns an RSA-2048 key and a self-signed certificate, as
// SAML entities use for signing and encryption.
func SelfSignedRSA(t testing.TB, name string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key := newRSAKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, parse(t, der)
}

var encryptionKey = regexp.MustCompile(`(?s)<KeyDescriptor use="encryption">.*?</KeyDescriptor>`)

// WithoutEncryption removes the encryption key from service provider
// metadata, so that the identity provider sends the assertion in clear
// (signed, not encrypted).
func WithoutEncryption(metadata []byte) []byte {
	return encryptionKey.ReplaceAll(metadata, nil)
}
