package ca_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
)

func TestHierarchyCreateAndReopen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alg    ca.KeyAlgorithm
		sigAlg x509.SignatureAlgorithm
	}{
		{ca.ECDSAP256, x509.ECDSAWithSHA256},
		{ca.ECDSAP384, x509.ECDSAWithSHA384},
		{ca.RSA3072, x509.SHA256WithRSA},
		{ca.RSA4096, x509.SHA256WithRSA},
	}
	for _, tc := range tests {
		t.Run(tc.alg.String(), func(t *testing.T) {
			t.Parallel()
			if tc.alg == ca.RSA4096 && testing.Short() {
				t.Skip("RSA-4096 key generation is slow")
			}
			dir := t.TempDir()
			h := catest.NewHierarchy(t, catest.WithDir(dir), catest.WithKeyAlgorithm(tc.alg))
			assert.Equal(t, tc.alg, h.KeyAlgorithm())
			checkHierarchy(t, h, tc.sigAlg)

			for _, name := range []string{"root", "issuing", "ocsp"} {
				path := filepath.Join(dir, "keys", name+".key")
				fi, err := os.Stat(path)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				block, _ := pem.Decode(b)
				require.NotNil(t, block)
				assert.Equal(t, "PRIVATE KEY", block.Type, "PKCS #8")
				_, err = x509.ParsePKCS8PrivateKey(block.Bytes)
				assert.NoError(t, err)
			}

			again := catest.NewHierarchy(t, catest.WithDir(dir))
			assert.Equal(t, h.Root().Raw, again.Root().Raw)
			assert.Equal(t, h.Issuing().Raw, again.Issuing().Raw)
			assert.Equal(t, h.OCSP().Raw, again.OCSP().Raw)
			assert.True(t, again.IssuingSigner().Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(h.Issuing().PublicKey))
			assert.Equal(t, tc.alg, again.KeyAlgorithm())
		})
	}
}

// checkHierarchy checks the three certificates field by field.
func checkHierarchy(t *testing.T, h *ca.Hierarchy, sigAlg x509.SignatureAlgorithm) {
	t.Helper()
	root, iss, ocsp := h.Root(), h.Issuing(), h.OCSP()

	assert.True(t, root.IsCA)
	assert.True(t, root.BasicConstraintsValid)
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, root.KeyUsage)
	assert.Equal(t, root.Subject.String(), root.Issuer.String())
	assert.NoError(t, root.CheckSignatureFrom(root))
	assert.Equal(t, sigAlg, root.SignatureAlgorithm)
	assert.Equal(t, []string{"IT"}, root.Subject.Country)
	assert.Equal(t, "Registra Test Trust Service Root CA", root.Subject.CommonName)

	assert.True(t, iss.IsCA)
	assert.Equal(t, 0, iss.MaxPathLen)
	assert.True(t, iss.MaxPathLenZero)
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, iss.KeyUsage)
	assert.Equal(t, root.SubjectKeyId, iss.AuthorityKeyId)
	assert.Equal(t, []string{"http://crl.registra.example/root.crl"}, iss.CRLDistributionPoints)
	assert.Equal(t, []string{"http://crl.registra.example/root.cer"}, iss.IssuingCertificateURL)
	assert.False(t, iss.NotAfter.After(root.NotAfter))
	assert.Equal(t, "Registra Test Trust Service Qualified CA", iss.Subject.CommonName)

	assert.False(t, ocsp.IsCA)
	assert.Equal(t, x509.KeyUsageDigitalSignature, ocsp.KeyUsage)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, ocsp.ExtKeyUsage)
	assert.True(t, hasExtension(ocsp, ca.OIDOCSPNoCheck))
	assert.Equal(t, iss.SubjectKeyId, ocsp.AuthorityKeyId)
	assert.False(t, ocsp.NotAfter.After(iss.NotAfter))
	assert.Empty(t, ocsp.CRLDistributionPoints)

	roots := x509.NewCertPool()
	roots.AddCert(root)
	inter := x509.NewCertPool()
	inter.AddCert(iss)
	_, err := ocsp.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}})
	assert.NoError(t, err)

	assert.Equal(t, []*x509.Certificate{iss, root}, h.Chain())
	for _, pair := range []struct {
		cert *x509.Certificate
		pub  any
	}{{root, h.RootSigner().Public()}, {iss, h.IssuingSigner().Public()}, {ocsp, h.OCSPSigner().Public()}} {
		assert.True(t, pair.pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(pair.cert.PublicKey))
	}
}

func hasExtension(c *x509.Certificate, oid []int) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

func TestHierarchyKeyManager(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	km := catest.NewKeyManager()
	names := ca.KeyNames{Root: "pkcs11:id=01;object=root", Issuing: "pkcs11:id=02;object=issuing", OCSP: "pkcs11:id=03;object=ocsp"}
	h := catest.NewHierarchy(t, catest.WithDir(dir), catest.WithKeyManager(km, names))
	checkHierarchy(t, h, x509.ECDSAWithSHA256)
	assert.Equal(t, [3]ca.KeyRef{{Name: names.Root}, {Name: names.Issuing}, {Name: names.OCSP}}, h.KeyRefs())
	_, err := os.Stat(filepath.Join(dir, "keys"))
	assert.ErrorIs(t, err, os.ErrNotExist, "no key material on disk")

	calls := km.Calls
	again := catest.NewHierarchy(t, catest.WithDir(dir), catest.WithKeyManager(km, names))
	assert.Equal(t, h.Issuing().Raw, again.Issuing().Raw)
	assert.Equal(t, calls+3, km.Calls, "reopened through CreateSigner")

	// The same directory without the key manager cannot reach the keys.
	cfg := catest.HierarchyConfig(dir)
	_, err = ca.OpenHierarchy(context.Background(), cfg)
	require.ErrorIs(t, err, ca.ErrHierarchy)
	assert.Contains(t, err.Error(), "KeyManager is nil")
}

func TestHierarchyKeyPassword(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := catest.NewHierarchy(t, catest.WithDir(dir), catest.WithKeyPassword(ca.Password("correct horse")))
	b, err := os.ReadFile(filepath.Join(dir, "keys", "issuing.key"))
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block)
	assert.Equal(t, "ENCRYPTED PRIVATE KEY", block.Type)

	again := catest.NewHierarchy(t, catest.WithDir(dir), catest.WithKeyPassword(ca.Password("correct horse")))
	assert.Equal(t, h.Root().Raw, again.Root().Raw)

	cfg := catest.HierarchyConfig(dir)
	cfg.KeyPassword = ca.Password("wrong")
	_, err = ca.OpenHierarchy(context.Background(), cfg)
	assert.ErrorIs(t, err, ca.ErrHierarchy)
}

func TestHierarchyRefusesBadDirectory(t *testing.T) {
	t.Parallel()
	tmpl := t.TempDir()
	catest.NewHierarchy(t, catest.WithDir(tmpl))

	tests := []struct {
		name     string
		corrupt  func(t *testing.T, dir string)
		cfg      func(*ca.HierarchyConfig)
		wantWhat string
	}{
		{"manifest not JSON", func(t *testing.T, dir string) { write(t, dir, ca.ManifestFile, []byte("{not json")) }, nil, "manifest"},
		{"foreign manifest", func(t *testing.T, dir string) {
			write(t, dir, ca.ManifestFile, []byte(`{"format":"something-else","version":1}`))
		}, nil, "manifest"},
		{"unknown field", func(t *testing.T, dir string) { editManifest(t, dir, func(m map[string]any) { m["extra"] = 1 }) }, nil, "manifest"},
		{"future version", func(t *testing.T, dir string) { editManifest(t, dir, func(m map[string]any) { m["version"] = 2 }) }, nil, "manifest"},
		{"algorithm mismatch", nil, func(c *ca.HierarchyConfig) { c.KeyAlgorithm = ca.RSA3072 }, "manifest"},
		{"altered certificate", func(t *testing.T, dir string) {
			b := read(t, dir, ca.IssuingFile)
			b = append(b, '\n')
			write(t, dir, ca.IssuingFile, b)
		}, nil, ca.IssuingFile},
		{"missing certificate", func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, ca.OCSPFile))) }, nil, ca.OCSPFile},
		{"swapped key", func(t *testing.T, dir string) {
			write(t, dir, "keys/issuing.key", read(t, dir, "keys/ocsp.key"))
		}, nil, "issuing key"},
		{"key readable by others", func(t *testing.T, dir string) {
			require.NoError(t, os.Chmod(filepath.Join(dir, "keys", "root.key"), 0o644))
		}, nil, "root key"},
		{"key path escapes", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["root"].(map[string]any)["key"] = map[string]any{"file": "../root.key"} })
		}, nil, "root key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, os.DirFS(tmpl)))
			require.NoError(t, os.Chmod(filepath.Join(dir, "keys", "root.key"), 0o600))
			for _, k := range []string{"issuing", "ocsp"} {
				require.NoError(t, os.Chmod(filepath.Join(dir, "keys", k+".key"), 0o600))
			}
			if tc.corrupt != nil {
				tc.corrupt(t, dir)
			}
			before := snapshot(t, dir)
			cfg := catest.HierarchyConfig(dir)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			h, err := ca.OpenHierarchy(context.Background(), cfg)
			require.ErrorIs(t, err, ca.ErrHierarchy)
			assert.Nil(t, h)
			he, ok := errors.AsType[*ca.HierarchyError](err)
			require.True(t, ok)
			assert.Equal(t, tc.wantWhat, he.What, err.Error())
			assert.Equal(t, before, snapshot(t, dir), "directory unchanged")
		})
	}
}

func TestHierarchyErrorMessage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, ca.ManifestFile, []byte(`{"format":"other","version":1}`))
	_, err := ca.OpenHierarchy(context.Background(), catest.HierarchyConfig(dir))
	require.Error(t, err)
	assert.Equal(t, "ca: hierarchy "+dir+`: manifest: format is "other", not "registra-ca-hierarchy": not a registra hierarchy`, err.Error())
}

func TestHierarchyConfigValidate(t *testing.T) {
	t.Parallel()
	km := catest.NewKeyManager()
	tests := []struct {
		name  string
		cfg   ca.HierarchyConfig
		field string
	}{
		{"no dir", ca.HierarchyConfig{Organization: "x"}, "HierarchyConfig.Dir"},
		{"names missing", ca.HierarchyConfig{Dir: "d", KeyManager: km, KeyNames: ca.KeyNames{Root: "a"}}, "HierarchyConfig.KeyNames"},
		{"names equal", ca.HierarchyConfig{Dir: "d", KeyManager: km, KeyNames: ca.KeyNames{Root: "a", Issuing: "a", OCSP: "b"}}, "HierarchyConfig.KeyNames"},
		{"bad algorithm", ca.HierarchyConfig{Dir: "d", KeyAlgorithm: 99}, "HierarchyConfig.KeyAlgorithm"},
		{"bad country", ca.HierarchyConfig{Dir: "d", Country: "Italy"}, "HierarchyConfig.Country"},
		{"bad url", ca.HierarchyConfig{Dir: "d", RootCRLURL: "ldap:x"}, "HierarchyConfig.RootCRLURL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			require.ErrorIs(t, err, ca.ErrInvalidInput)
			fe, ok := errors.AsType[*ca.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	dir := filepath.Join(t.TempDir(), "new")
	_, err := ca.OpenHierarchy(context.Background(), ca.HierarchyConfig{Dir: dir})
	require.ErrorIs(t, err, ca.ErrInvalidInput)
	assert.Contains(t, err.Error(), "HierarchyConfig.Organization")
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing created")
}

func TestParseKeyAlgorithm(t *testing.T) {
	t.Parallel()
	for _, a := range []ca.KeyAlgorithm{ca.ECDSAP256, ca.ECDSAP384, ca.RSA3072, ca.RSA4096} {
		got, err := ca.ParseKeyAlgorithm(a.String())
		require.NoError(t, err)
		assert.Equal(t, a, got)
	}
	_, err := ca.ParseKeyAlgorithm("Ed25519")
	assert.ErrorIs(t, err, ca.ErrInvalidInput)
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	fi, err := os.Stat(path)
	mode := os.FileMode(0o600)
	if err == nil {
		mode = fi.Mode().Perm()
	}
	require.NoError(t, os.WriteFile(path, b, mode))
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return b
}

func editManifest(t *testing.T, dir string, f func(map[string]any)) {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(read(t, dir, ca.ManifestFile), &m))
	f(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	write(t, dir, ca.ManifestFile, b)
}

// snapshot returns every file's content and mode under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = fi.Mode().String() + string(b)
		return err
	}))
	return out
}
