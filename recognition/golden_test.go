package recognition_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// update rewrites the golden files and the fuzz seed corpora:
//
//	go test ./recognition -run 'TestManifestGolden|TestFuzzSeeds' -update
var update = flag.Bool("update", false, "rewrite golden files and fuzz seeds in testdata")

// TestManifestGolden pins the canonical manifest encoding: the Offline
// evidence of a fixed submission under a fixed clock is deterministic.
func TestManifestGolden(t *testing.T) {
	t.Parallel()
	ev := offlineEvidence(t)
	got, err := ev.Manifest.Canonical()
	require.NoError(t, err)
	path := filepath.Join("testdata", "manifest_offline.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// TestFuzzSeeds writes the seed corpora of the fuzz targets from real
// artefacts made by the other tests' helpers (with -update), and checks
// that every corpus exists otherwise.
func TestFuzzSeeds(t *testing.T) {
	t.Parallel()
	corpora := []string{"FuzzP7M", "FuzzSAMLResponse", "FuzzManifest", "FuzzVideoPayload", "FuzzClamdReply", "FuzzParseSealed"}
	if !*update {
		for _, c := range corpora {
			entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", c))
			require.NoError(t, err, c)
			assert.NotEmpty(t, entries, c)
		}
		return
	}
	seeds := map[string]map[string][]byte{}
	add := func(corpus, name string, b []byte) {
		if seeds[corpus] == nil {
			seeds[corpus] = map[string][]byte{}
		}
		seeds[corpus][name] = b
	}

	// .p7m: our CAdES signer, an RSA signer, openssl, a truncated file.
	p := newPKI(t)
	now := time.Now()
	person := recognitiontest.Person{GivenName: "Nicolò", Surname: "Rossi", TaxCode: applicant(t).TaxCode, Qualified: true,
		NonRepudiation: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	cert, key := p.issuing.Issue(t, person)
	form := recognitiontest.PDF("fuzz seed form")
	good := recognitiontest.SignP7M(t, form, cert, key, p.issuing.Chain(), recognitiontest.SignOptions{})
	add("FuzzP7M", "cades-ec", good)
	add("FuzzP7M", "truncated", good[:len(good)/3])
	person.RSA = true
	rcert, rkey := p.issuing.Issue(t, person)
	add("FuzzP7M", "openssl-rsa", openSSLSign(t, signer{cert: rcert, key: rkey, chain: p.issuing.Chain()}, form))

	// SAML: an encrypted and a plain response from samlidp.
	w := newSPIDWorld(t)
	for name, v := range map[string]*recognition.SPID{"encrypted": w.v, "plain": w.plain} {
		resp, _ := w.login(t, v, "nicolo")
		raw, err := base64.StdEncoding.DecodeString(resp)
		require.NoError(t, err)
		add("FuzzSAMLResponse", name, raw)
	}
	add("FuzzSAMLResponse", "not-saml", []byte(`<?xml version="1.0"?><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`))

	ev := offlineEvidence(t)
	manifest, err := ev.Manifest.Canonical()
	require.NoError(t, err)
	add("FuzzManifest", "offline", manifest)

	add("FuzzVideoPayload", "approved", videoBody(t, nil))
	add("FuzzVideoPayload", "rejected", videoBody(t, func(m map[string]any) { m["outcome"] = "rejected"; m["artefacts"] = nil }))

	for i, r := range []string{"stream: OK", "stream: Eicar-Test-Signature FOUND", "INSTREAM size limit exceeded. ERROR", "1: stream: OK"} {
		add("FuzzClamdReply", fmt.Sprintf("reply-%d", i), []byte(r))
	}

	sealed, err := p.sealer.Seal(context.Background(), &ev)
	require.NoError(t, err)
	bundle, err := sealed.MarshalBinary()
	require.NoError(t, err)
	add("FuzzParseSealed", "offline", bundle)

	for corpus, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", corpus)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for name, b := range files {
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "go test fuzz v1\n[]byte(%q)\n", b)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644))
		}
	}
}
