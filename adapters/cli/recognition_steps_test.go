package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/cli"
)

// TestRecognitionSteps runs the Live ID, Video ID and SPID subcommands
// against the fake API: each calls its endpoint with the files and fields
// given, and prints the answer.
func TestRecognitionSteps(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answers: map[string]answer{
		"POST /v1/orders/o-1/recognition/form-signature":     {200, `{"challenge_id":"c-9","expires_at":"2026-12-03T10:05:00Z","destination":"+39*******567","link":"lnk-abc"}`},
		"POST /v1/orders/o-1/recognition/form-signature/c-9": {200, `{"id":"o-1","status":"to_identify","version":3}`},
		"POST /v1/orders/o-1/recognition/live-id":            {200, `{"id":"o-1","status":"to_issue","version":4}`},
		"POST /v1/orders/o-1/recognition/video-id":           {200, `{"id":"o-1","status":"to_issue","version":4}`},
		"POST /v1/orders/o-1/recognition/spid/login": {200, `{"url":"https://idp.example/sso?SAMLRequest=x","request_id":"id-7",
			"relay_state":"r-1","expires_at":"2026-12-03T10:30:00Z"}`},
	}}
	cfg, _ := loggedIn(t, api)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}

	r := run(t, cfg, "", "recognition", "form-signature", "start", "o-1", "--form", file("form.pdf", "%PDF-1.7 the form"))
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "c-9")
	assert.Contains(t, r.stdout, "+39*******567")
	assert.Contains(t, r.stdout, "lnk-abc")
	assert.Contains(t, api.last().body, `name="form"; filename="form.pdf"`)
	assert.Contains(t, api.last().body, "%PDF-1.7 the form")

	r = run(t, cfg, "123456\n", "recognition", "form-signature", "complete", "o-1", "c-9", "--otp-file", "-")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "request form of o-1 signed")
	assert.Contains(t, r.stdout, "to_identify")
	assert.JSONEq(t, `{"otp":"123456"}`, api.last().body)

	r = run(t, cfg, "", "recognition", "live-id", "o-1",
		"--upload", "signed_report="+file("report.p7m", "signed report"), "--upload", "document_both="+file("doc.jpg", "document"))
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "to_issue")
	for _, want := range []string{`name="signed_report"`, `name="document_both"`, "signed report"} {
		assert.Contains(t, api.last().body, want)
	}
	assert.NotContains(t, api.last().body, "operator_certificate")

	r = run(t, cfg, "", "recognition", "video-id", "o-1", "--session", file("session.json", `{"session_id":"s-1"}`),
		"--timestamp", "1764756000", "--signature", "v1=abcd", "--json")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.JSONEq(t, `{"id":"o-1","status":"to_issue","version":4}`, r.stdout)
	for _, want := range []string{`name="session"`, `{"session_id":"s-1"}`, `name="timestamp"`, "1764756000", `name="signature"`, "v1=abcd"} {
		assert.Contains(t, api.last().body, want)
	}

	r = run(t, cfg, "", "recognition", "spid-login", "o-1")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "https://idp.example/sso?SAMLRequest=x")
	assert.Equal(t, "/v1/orders/o-1/recognition/spid/login", api.last().path)

	// A refusal of the platform is exit 1 with the problem on one line.
	api.mu.Lock()
	api.answers["POST /v1/orders/o-1/recognition/video-id"] = answer{401, `{"type":"tag:registra-pki.github.io,2026:problem:callback-unauthenticated",
		"title":"Callback not authenticated","status":401,"detail":"hmac-sha256 signature does not match"}`}
	api.mu.Unlock()
	r = run(t, cfg, "", "recognition", "video-id", "o-1", "--session", file("session.json", `{}`), "--timestamp", "1", "--signature", "v1=00")
	assert.NotEqual(t, cli.ExitOK, r.code)
	assert.Contains(t, r.stderr, "signature does not match")
}

func TestRecognitionStepsUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"start without form", []string{"recognition", "form-signature", "start", "o-1"}, "--form is required"},
		{"start with a missing form", []string{"recognition", "form-signature", "start", "o-1", "--form", "/nonexistent/form.pdf"}, "--form"},
		{"complete without challenge", []string{"recognition", "form-signature", "complete", "o-1"}, "expected 2 argument(s)"},
		{"live-id with a removed flag", []string{"recognition", "live-id", "o-1", "--certificate", "rao.pem", "--upload", "signed_report=" + os.Args[0]}, "unknown flag: --certificate"},
		{"live-id without uploads", []string{"recognition", "live-id", "o-1"}, "--upload is required"},
		{"video-id without timestamp", []string{"recognition", "video-id", "o-1", "--session", os.Args[0], "--signature", "v1=00"}, "--timestamp is required"},
		{"video-id without session", []string{"recognition", "video-id", "o-1"}, "--session is required"},
		{"spid-login without order", []string{"recognition", "spid-login"}, "expected 1 argument(s): ORDER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, cli.Config{}, "", tc.args...)
			assert.Equal(t, cli.ExitUsage, r.code, "%s", r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Equal(t, 2, strings.Count(r.stderr, "\n"), "one line and the hint: %q", r.stderr)
		})
	}
}
