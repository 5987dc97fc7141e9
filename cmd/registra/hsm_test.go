package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/cli"
	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
)

// TestInitHSM: `registra init --hsm` creates the CA keys in a PKCS #11
// token (SoftHSM2), sensitive and never extractable, and writes no key file.
func TestInitHSM(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	dir := filepath.Join(t.TempDir(), "data")
	uri := "pkcs11:token=" + url.PathEscape(tk.Label) + "?module-path=" + url.QueryEscape(hsmtest.ModulePath) +
		"&pin-source=" + url.QueryEscape(tk.Config.PINFile)
	var out, errb bytes.Buffer
	cfg := config()
	cfg.Stdin, cfg.Stdout, cfg.Stderr = strings.NewReader(""), &out, &errb
	code := cli.Run(context.Background(), cfg, []string{"init", "--data", dir, "--hsm", uri, "--algorithm", "ECDSA-P384", "--json"})
	require.Equal(t, cli.ExitOK, code, errb.String())
	var res struct {
		KeyAlgorithm string `json:"key_algorithm"`
		KeyStorage   string `json:"key_storage"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	assert.Equal(t, "ECDSA-P384", res.KeyAlgorithm)
	assert.Contains(t, res.KeyStorage, "PKCS #11")
	assert.NoDirExists(t, filepath.Join(dir, "ca", "keys"), "no key leaves the token")

	labels := map[string]bool{}
	for _, o := range tk.Objects(t) {
		if o.Class != "Private Key" {
			continue
		}
		labels[o.Label] = true
		assert.True(t, o.Has("sensitive"), o.Label)
		assert.True(t, o.Has("never extractable"), o.Label)
	}
	for _, l := range []string{"registra-root", "registra-issuing", "registra-ocsp"} {
		assert.True(t, labels[l], "%s in the token: %v", l, labels)
	}

	// serve reopens the hierarchy in the token and serves its root.
	ctx, cancel := context.WithCancel(context.Background())
	sout, serr := &syncBuffer{}, &syncBuffer{}
	scfg := config()
	scfg.Stdin, scfg.Stdout, scfg.Stderr = strings.NewReader(""), sout, serr
	served := make(chan int, 1)
	go func() {
		served <- cli.Run(ctx, scfg, []string{"serve", "--data", dir, "--hsm", uri, "--addr", "127.0.0.1:0",
			"--public-addr", "127.0.0.1:0", "--log-level", "error"})
	}()
	var public string
	require.Eventually(t, func() bool {
		for _, l := range strings.Split(sout.String(), "\n") {
			if a, ok := strings.CutPrefix(l, "registra: public CA, CRL and OCSP on "); ok {
				public = a
			}
		}
		return public != ""
	}, time.Minute, 50*time.Millisecond, "serve started: %s", serr.String())
	resp, err := http.Get(public + "/ca/root.crt")
	require.NoError(t, err)
	der, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	root, err := os.ReadFile(filepath.Join(dir, "ca", "root.pem"))
	require.NoError(t, err)
	blk, _ := pem.Decode(root)
	require.NotNil(t, blk)
	assert.Equal(t, blk.Bytes, der, "the served root is the token's hierarchy")
	cancel()
	assert.Equal(t, cli.ExitOK, <-served, serr.String())

	// A wrong PIN is refused before anything is created (a token nobody
	// in this process is logged into).
	tk2 := hsmtest.New(t)
	bad := filepath.Join(t.TempDir(), "pin")
	require.NoError(t, os.WriteFile(bad, []byte("9999\n"), 0o600))
	errb.Reset()
	other := filepath.Join(t.TempDir(), "other")
	code = cli.Run(context.Background(), cfg, []string{"init", "--data", other, "--hsm",
		"pkcs11:token=" + url.PathEscape(tk2.Label) + "?module-path=" + url.QueryEscape(hsmtest.ModulePath) + "&pin-source=" + url.QueryEscape(bad)})
	assert.Equal(t, cli.ExitRefused, code)
	assert.Contains(t, errb.String(), "opening the HSM")
	assert.NoDirExists(t, filepath.Join(other, "ca"))
}
