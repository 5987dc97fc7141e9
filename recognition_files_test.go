package registra_test

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// applyRecognitionFlags parses args as a server's recognition flags and
// applies them to a configuration.
func applyRecognitionFlags(t *testing.T, args ...string) (registra.Config, error) {
	t.Helper()
	var f registra.RecognitionFiles
	fl := flag.NewFlagSet("test", flag.ContinueOnError)
	f.RegisterFlags(fl, func(_, def string) string { return def })
	require.NoError(t, fl.Parse(args))
	var cfg registra.Config
	err := f.Apply(&cfg, "https://localhost:8443")
	return cfg, err
}

func TestRecognitionFiles(t *testing.T) {
	t.Parallel()
	f := recognitiontest.WriteConfigFiles(t)

	cfg, err := applyRecognitionFlags(t)
	require.NoError(t, err)
	assert.Nil(t, cfg.SignID)
	assert.Nil(t, cfg.LiveID)
	assert.Nil(t, cfg.VideoID)
	assert.Nil(t, cfg.SPID)
	assert.Nil(t, cfg.OTP)

	cfg, err = applyRecognitionFlags(t, "-evidence-roots", f.Roots, "-qualified-roots", f.Roots, "-crls", f.CRL+","+f.CRLPEM, "-clamd", "127.0.0.1:3310",
		"-otp-outbox", f.Outbox, "-video-provider", "videoprov", "-video-key-file", f.VideoKey,
		"-spid-idp-metadata", f.Metadata, "-spid-key", f.SPIDKey, "-spid-cert", f.SPIDCert)
	require.NoError(t, err)
	assert.NotNil(t, cfg.EvidenceRoots)
	require.NotNil(t, cfg.SignID)
	assert.IsType(t, &recognition.ClamAV{}, cfg.SignID.Scanner)
	assert.Len(t, cfg.SignID.CRLs, 2)
	require.NotNil(t, cfg.LiveID)
	assert.Equal(t, cfg.SignID.Roots, cfg.LiveID.Roots)
	require.NotNil(t, cfg.OTP)
	assert.Equal(t, recognition.FileSender{Dir: f.Outbox}, cfg.OTP.Sender)
	fi, err := os.Stat(f.Outbox)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	require.NotNil(t, cfg.VideoID)
	assert.Equal(t, "videoprov", cfg.VideoID.Provider)
	require.NotNil(t, cfg.SPID)
	assert.Equal(t, "https://localhost:8443/v1/recognition/spid/metadata", cfg.SPID.EntityID)
	assert.Equal(t, "https://localhost:8443/v1/recognition/spid/acs", cfg.SPID.ACSURL)

	// Without -crls, CRLs are downloaded; without -clamd, Sign ID has no
	// scanner and says it is unavailable.
	cfg, err = applyRecognitionFlags(t, "-qualified-roots", f.Roots)
	require.NoError(t, err)
	assert.Equal(t, recognition.HTTPCRLs{}, cfg.SignID.CRLs)
	assert.Nil(t, cfg.SignID.Scanner)

	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"evidence roots not PEM", []string{"-evidence-roots", f.VideoKey}, "--evidence-roots"},
		{"roots missing", []string{"-qualified-roots", f.Missing}, "--qualified-roots"},
		{"roots not PEM", []string{"-qualified-roots", f.VideoKey}, "--qualified-roots"},
		{"CRL of another PEM type", []string{"-qualified-roots", f.Roots, "-crls", f.Roots}, "--crls"},
		{"clamd without roots", []string{"-clamd", "127.0.0.1:3310"}, "--clamd"},
		{"clamd not an address", []string{"-qualified-roots", f.Roots, "-clamd", "clamd"}, "--clamd"},
		{"video key alone", []string{"-video-key-file", f.VideoKey}, "--video-provider"},
		{"video key too short", []string{"-video-provider", "v", "-video-key-file", f.ShortKey}, "--video-key-file"},
		{"spid without key", []string{"-spid-idp-metadata", f.Metadata}, "--spid-key"},
		{"spid key without metadata", []string{"-spid-key", f.SPIDKey, "-spid-cert", f.SPIDCert}, "--spid-idp-metadata"},
		{"spid key not RSA PEM", []string{"-spid-idp-metadata", f.Metadata, "-spid-key", f.SPIDCert, "-spid-cert", f.SPIDCert}, "--spid-key"},
		{"spid metadata not SAML", []string{"-spid-idp-metadata", f.Roots, "-spid-key", f.SPIDKey, "-spid-cert", f.SPIDCert}, "idp_metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := applyRecognitionFlags(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.flag)
		})
	}
}
