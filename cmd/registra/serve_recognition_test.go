package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/cli"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// TestServeRecognitionFlags: `registra serve` takes the example server's
// recognition flags, and their environment variables: with the SPID files
// the API serves the service provider's metadata under its own URL, with
// an OTP outbox the directory is made; a bad setting is a usage error
// naming its flag, and nothing is served.
func TestServeRecognitionFlags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	f := recognitiontest.WriteConfigFiles(t)
	run := func(ctx context.Context, env map[string]string, out io.Writer, args ...string) (int, string) {
		var errb syncBuffer
		cfg := config()
		cfg.Stdin, cfg.Stdout, cfg.Stderr = strings.NewReader(""), out, &errb
		cfg.Getenv = func(k string) string { return env[k] }
		return cli.Run(ctx, cfg, args), errb.String()
	}
	code, errs := run(ctx, nil, io.Discard, "init", "--data", dir)
	require.Equal(t, 0, code, errs)

	code, errs = run(ctx, nil, io.Discard, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--public-addr", "127.0.0.1:0",
		"--video-provider", "videoprov", "--video-key-file", f.ShortKey)
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errs, "--video-key-file")

	sctx, stop := context.WithCancel(ctx)
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		code, errs := run(sctx, map[string]string{"REGISTRA_OTP_OUTBOX": f.Outbox}, &out,
			"serve", "--data", dir, "--addr", "127.0.0.1:0", "--public-addr", "127.0.0.1:0", "--log-level", "warn",
			"--spid-idp-metadata", f.Metadata, "--spid-key", f.SPIDKey, "--spid-cert", f.SPIDCert)
		if code != 0 {
			t.Log(errs)
		}
		done <- code
	}()
	defer func() {
		stop()
		assert.Equal(t, 0, <-done)
	}()
	var api string
	require.Eventually(t, func() bool {
		for _, l := range strings.Split(out.String(), "\n") {
			if a, ok := strings.CutPrefix(l, "registra: operator API on https://"); ok {
				api = a
				return true
			}
		}
		return false
	}, time.Minute, 20*time.Millisecond, "serve did not start: %s", out.String())
	_, port, _ := strings.Cut(api, ":")
	base := "https://localhost:" + port

	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	require.NoError(t, err)
	require.True(t, pool.AppendCertsFromPEM(caPEM))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	res, err := client.Get(base + "/v1/recognition/spid/metadata")
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	assert.Contains(t, string(body), `entityID="`+base+`/v1/recognition/spid/metadata"`)
	assert.Contains(t, string(body), base+"/v1/recognition/spid/acs")
	assert.DirExists(t, f.Outbox, "REGISTRA_OTP_OUTBOX is read")
}
