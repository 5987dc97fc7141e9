package crl_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
	"github.com/registra-pki/registra/internal/testutil"
)

func published(n int64, delta bool, der string) *crl.Published {
	return &crl.Published{Scope: scope, Delta: delta, CRLInfo: crl.CRLInfo{Number: big.NewInt(n),
		ThisUpdate: pinned, NextUpdate: pinned.Add(2 * time.Hour)}, DER: []byte(der)}
}

func TestHTTPSink(t *testing.T) {
	t.Parallel()
	now := pinned.Add(30 * time.Minute)
	s, err := crl.NewHTTPSink(crl.HTTPSinkConfig{FullPath: "/issuing.crl", DeltaPath: "/issuing-delta.crl", Now: func() time.Time { return now }})
	require.NoError(t, err)
	get := func(method, path string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	assert.Equal(t, http.StatusNotFound, get(http.MethodGet, "/issuing.crl", nil).Code, "nothing published yet")
	require.NoError(t, s.Publish(context.Background(), published(10, false, "full-10")))
	require.NoError(t, s.Publish(context.Background(), published(11, true, "delta-11")))

	cases := []struct {
		name     string
		method   string
		path     string
		hdr      map[string]string
		wantCode int
		wantBody string
	}{
		{"full", http.MethodGet, "/issuing.crl", nil, http.StatusOK, "full-10"},
		{"delta", http.MethodGet, "/issuing-delta.crl", nil, http.StatusOK, "delta-11"},
		{"head", http.MethodHead, "/issuing.crl", nil, http.StatusOK, ""},
		{"etag match", http.MethodGet, "/issuing.crl", map[string]string{"If-None-Match": `"a"`}, http.StatusNotModified, ""},
		{"etag stale", http.MethodGet, "/issuing.crl", map[string]string{"If-None-Match": `"9"`}, http.StatusOK, "full-10"},
		{"not modified since", http.MethodGet, "/issuing.crl", map[string]string{"If-Modified-Since": pinned.Format(http.TimeFormat)}, http.StatusNotModified, ""},
		{"other path", http.MethodGet, "/other.crl", nil, http.StatusNotFound, "404 page not found\n"},
		{"post", http.MethodPost, "/issuing.crl", nil, http.StatusMethodNotAllowed, "crl: method not allowed\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := get(tc.method, tc.path, tc.hdr)
			require.Equal(t, tc.wantCode, rec.Code)
			assert.Equal(t, tc.wantBody, rec.Body.String())
			if tc.wantCode == http.StatusOK {
				assert.Equal(t, "application/pkix-crl", rec.Header().Get("Content-Type"))
				assert.Equal(t, pinned.Format(http.TimeFormat), rec.Header().Get("Last-Modified"))
				assert.Equal(t, pinned.Add(2*time.Hour).Format(http.TimeFormat), rec.Header().Get("Expires"))
				assert.Equal(t, "public, no-transform, max-age=5400", rec.Header().Get("Cache-Control"), "cached up to nextUpdate")
			}
		})
	}
	err = s.Publish(context.Background(), published(9, false, "older"))
	require.ErrorIs(t, err, crl.ErrNumber, "the served CRL never moves backwards")
	assert.Equal(t, "full-10", get(http.MethodGet, "/issuing.crl", nil).Body.String())

	_, err = crl.NewHTTPSink(crl.HTTPSinkConfig{FullPath: "issuing.crl", DeltaPath: "/d"})
	fe, ok := errors.AsType[*crl.FieldError](err)
	require.True(t, ok)
	assert.Equal(t, "full_path", fe.Field)
}

func TestDirSink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := crl.NewDirSink(crl.DirSinkConfig{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, s.Publish(context.Background(), published(1, false, "full-1")))
	require.NoError(t, s.Publish(context.Background(), published(2, true, "delta-2")))
	require.NoError(t, s.Publish(context.Background(), published(3, false, "full-3")))
	got, err := os.ReadFile(filepath.Join(dir, "full.crl"))
	require.NoError(t, err)
	assert.Equal(t, "full-3", string(got))
	got, err = os.ReadFile(filepath.Join(dir, "delta.crl"))
	require.NoError(t, err)
	assert.Equal(t, "delta-2", string(got))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary files left behind")
	fi, err := os.Stat(filepath.Join(dir, "full.crl"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	for _, tc := range []struct {
		cfg   crl.DirSinkConfig
		field string
	}{
		{crl.DirSinkConfig{}, "dir"},
		{crl.DirSinkConfig{Dir: filepath.Join(dir, "missing")}, "dir"},
		{crl.DirSinkConfig{Dir: dir, FullName: "../x.crl"}, "full_name"},
		{crl.DirSinkConfig{Dir: dir, DeltaName: ".hidden"}, "delta_name"},
	} {
		_, err := crl.NewDirSink(tc.cfg)
		fe, ok := errors.AsType[*crl.FieldError](err)
		require.True(t, ok)
		assert.Equal(t, tc.field, fe.Field)
	}
}

// TestOpenSSLVerifyCRLCheck is acceptance 2's openssl verify part: CRLs
// fetched over HTTP from the sink make openssl verify -crl_check fail for
// a revoked and a held certificate, and pass again after reactivation.
func TestOpenSSLVerifyCRLCheck(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	h := crltest.NewHierarchy(t)
	f := newSchedFixture(t, h, sharedLinter(t), func(c *crl.SchedulerConfig) { c.FullInterval = time.Hour; c.DeltaInterval = time.Hour })
	srv := httptest.NewServer(f.http)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	t0 := time.Now().Truncate(time.Second)
	revoked, held := big.NewInt(0x51), big.NewInt(0x52)
	leaves := map[string]string{}
	for name, serial := range map[string]*big.Int{"revoked": revoked, "held": held} {
		f.store.Issue(serial)
		leaves[name] = crltest.WritePEM(t, dir, name+".pem", h.Leaf(t, serial, t0.Add(-time.Hour)))
	}
	root := crltest.WritePEM(t, dir, "root.pem", h.Root)
	issuing := crltest.WritePEM(t, dir, "issuing.pem", h.Issuing)
	ctx := t.Context()

	fetch := func(path, name string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		der, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600))
		return p
	}
	// The root publishes no CRL in this test: check the leaf only.
	verify := func(leaf string, at time.Time, deltas bool) (string, error) {
		full := fetch("/issuing.crl", "full.pem")
		args := []string{"verify", "-CAfile", root, "-untrusted", issuing, "-CRLfile", full, "-crl_check", "-attime", itoa(at.Unix())}
		if deltas {
			args = append(args, "-use_deltas", "-CRLfile", fetch("/issuing-delta.crl", "delta.pem"))
		}
		out, err := runTool(openssl, append(args, leaf)...)
		return out, err
	}

	// Issue: both pass.
	_, err := f.s.PublishDue(ctx, t0)
	require.NoError(t, err)
	for _, l := range leaves {
		out, err := verify(l, t0.Add(time.Minute), false)
		require.NoError(t, err, out)
	}
	// Revoke one, suspend the other.
	_, err = f.store.Change(crl.Revoke, revoked, crl.KeyCompromise, crl.Immediate, t0.Add(10*time.Minute))
	require.NoError(t, err)
	_, err = f.store.Change(crl.Suspend, held, 0, crl.Immediate, t0.Add(10*time.Minute))
	require.NoError(t, err)
	// The delta CRL carries them within seconds.
	p, err := f.s.PublishDue(ctx, t0.Add(10*time.Minute+5*time.Second))
	require.NoError(t, err)
	require.Len(t, p.Published, 1)
	for name, l := range leaves {
		out, err := verify(l, t0.Add(11*time.Minute), true)
		require.Error(t, err, "%s must fail on the delta CRL", name)
		assert.Contains(t, out, "certificate revoked")
	}
	// The next full CRL lists them: -crl_check alone fails.
	_, err = f.s.PublishDue(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	for name, l := range leaves {
		out, err := verify(l, t0.Add(61*time.Minute), false)
		require.Error(t, err, "%s must fail", name)
		assert.Contains(t, out, "certificate revoked")
	}
	// Reactivate: the delta says removeFromCRL, the next full drops it.
	_, err = f.store.Change(crl.Reactivate, held, 0, crl.Immediate, t0.Add(70*time.Minute))
	require.NoError(t, err)
	_, err = f.s.PublishDue(ctx, t0.Add(70*time.Minute+5*time.Second))
	require.NoError(t, err)
	out, err := verify(leaves["held"], t0.Add(71*time.Minute), true)
	require.NoError(t, err, "reactivated: removeFromCRL on the delta CRL: %s", out)
	_, err = f.s.PublishDue(ctx, t0.Add(2*time.Hour))
	require.NoError(t, err)
	out, err = verify(leaves["held"], t0.Add(121*time.Minute), false)
	require.NoError(t, err, out)
	out, err = verify(leaves["revoked"], t0.Add(121*time.Minute), false)
	require.Error(t, err, "a revocation is permanent")
	assert.Contains(t, out, "certificate revoked")
}

func itoa(i int64) string { return big.NewInt(i).String() }

func runTool(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
