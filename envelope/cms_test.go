package envelope

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/smallstep/pkcs7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// fastCMS seals with the floor iteration count, to keep tests quick.
func fastCMS(t testing.TB) *CMS {
	t.Helper()
	c, err := NewCMS(CMSConfig{Iterations: MinIterations})
	require.NoError(t, err)
	return c
}

func TestCMSRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := fastCMS(t)
	for _, s := range []Scheme{RemoteSignature, DeviceSignature} {
		codes, err := s.Generate(nil)
		require.NoError(t, err)
		e, err := c.Seal(ctx, codes, "RSSMRA85T10A562S")
		require.NoError(t, err)
		assert.Equal(t, FileNameCMS, e.FileName)
		assert.Equal(t, MediaTypeCMS, e.MediaType)
		got, err := c.Open(ctx, e, "RSSMRA85T10A562S")
		require.NoError(t, err)
		assert.Equal(t, codes, got)

		got, err = c.Open(ctx, e, "RSSMRA85T10A562T")
		require.ErrorIs(t, err, ErrWrongPassphrase)
		assert.EqualError(t, err, "envelope: wrong passphrase")
		assert.Nil(t, got)
	}
}

func TestCMSSealRejects(t *testing.T) {
	t.Parallel()
	c := fastCMS(t)
	tests := []struct {
		name  string
		codes Codes
		pass  Passphrase
	}{
		{"no passphrase", testCodes, ""},
		{"no codes", nil, "x"},
		{"bad code", Codes{{PUK, "a b"}}, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := c.Seal(context.Background(), tc.codes, tc.pass)
			assert.ErrorIs(t, err, ErrInvalidInput)
			assert.Nil(t, e)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Seal(ctx, testCodes, "x")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNewCMSValidate(t *testing.T) {
	t.Parallel()
	_, err := NewCMS(CMSConfig{Iterations: 999})
	assert.EqualError(t, err, "envelope: iterations: must be at least 1000")
	_, err = NewCMS(CMSConfig{Iterations: 5000, MaxIterations: 4000})
	assert.ErrorIs(t, err, ErrInvalidInput)
	c, err := NewCMS(CMSConfig{})
	require.NoError(t, err)
	assert.Equal(t, DefaultIterations, c.iter)
}

// TestOpenSSLOpensDefaultCMS seals with the production parameters
// (600,000 iterations) and opens with openssl; it also checks, through
// openssl's own printer, the structure RFC 3211 prescribes.
func TestOpenSSLOpensDefaultCMS(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	c, err := NewCMS(CMSConfig{})
	require.NoError(t, err)
	e, err := c.Seal(context.Background(), testCodes, "RSSMRA85T10A562S")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "codes.p7m")
	require.NoError(t, os.WriteFile(path, e.Data, 0o600))

	out := testutil.Run(t, openssl, "cms", "-decrypt", "-inform", "DER", "-in", path, "-pwri_password", "RSSMRA85T10A562S")
	want, err := marshalPayload(testCodes)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out))

	_, err = exec.Command(openssl, "cms", "-decrypt", "-inform", "DER", "-in", path, "-pwri_password", "RSSMRA85T10A562s").Output()
	assert.Error(t, err, "openssl opened it with a wrong passphrase")

	printed := string(testutil.Run(t, openssl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", path))
	for _, s := range []string{
		"contentType: pkcs7-envelopedData", "version: 3", "d.pwri:", "algorithm: PBKDF2",
		":hmacWithSHA256", "INTEGER           :0927C0", // 600,000
		"algorithm: id-alg-PWRI-KEK", ":aes-256-cbc", "algorithm: aes-256-cbc (2.16.840.1.101.3.4.1.42)",
		"contentType: pkcs7-data",
	} {
		assert.Contains(t, printed, s)
	}
	assert.Contains(t, printed, "002d - ", "a 48-byte encrypted key: 32-byte key, 4 bytes of header, padded to 3 blocks")
	assert.NotContains(t, printed, "0030 - ")
}

// TestCMSOpensOpenSSLForms opens what openssl cms -encrypt makes, in every
// output form: DER, streamed BER (indefinite lengths, chunked content) and
// PEM.
func TestCMSOpensOpenSSLForms(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	dir := t.TempDir()
	want, err := marshalPayload(testCodes)
	require.NoError(t, err)
	// A payload longer than openssl's stream chunk, so BER splits it.
	big := append(bytes.Clone(want), bytes.Repeat([]byte("# padding line to exceed one stream chunk\n"), 200)...)
	c := fastCMS(t)
	tests := []struct {
		name string
		args []string
		body []byte
	}{
		{"der", []string{"-outform", "DER"}, want},
		{"ber stream", []string{"-outform", "DER", "-stream"}, want},
		{"ber stream chunked", []string{"-outform", "DER", "-stream"}, big},
		{"pem", []string{"-outform", "PEM"}, want},
		{"aes128", []string{"-outform", "DER", "-aes128"}, want},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := filepath.Join(dir, tc.name+".txt")
			out := filepath.Join(dir, tc.name+".p7m")
			require.NoError(t, os.WriteFile(src, tc.body, 0o600))
			args := append([]string{"cms", "-encrypt", "-binary", "-in", src, "-out", out, "-pwri_password", "correct horse battery"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "-aes") {
				args = append(args, "-aes256")
			}
			testutil.Run(t, openssl, args...)
			data, err := os.ReadFile(out)
			require.NoError(t, err)
			if strings.HasPrefix(tc.name, "ber") {
				require.Equal(t, byte(0x80), data[1], "openssl did not stream")
			}
			got, err := c.Open(context.Background(), &Envelope{Data: data}, "correct horse battery")
			require.NoError(t, err, "case %d", i)
			assert.Equal(t, testCodes, got)

			_, err = c.Open(context.Background(), &Envelope{Data: data}, "correct horse batterY")
			assert.ErrorIs(t, err, ErrWrongPassphrase)
		})
	}
}

// TestCMSGolden pins the encoding: with a fixed random stream, Seal's output
// is byte-for-byte stable. Regenerate with `go test ./envelope -run
// TestCMSGolden -update`.
func TestCMSGolden(t *testing.T) {
	t.Parallel()
	seed := sha256.Sum256([]byte("registra envelope golden"))
	c, err := NewCMS(CMSConfig{Iterations: 2048, Rand: rand.NewChaCha8(seed)})
	require.NoError(t, err)
	e, err := c.Seal(context.Background(), testCodes, "RSSMRA85T10A562S")
	require.NoError(t, err)
	path := filepath.Join("testdata", "golden", "codes.p7m")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, e.Data, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, e.Data, "encoding changed; rerun with -update if intended")

	got, err := c.Open(context.Background(), &Envelope{Data: want}, "RSSMRA85T10A562S")
	require.NoError(t, err)
	assert.Equal(t, testCodes, got)
}

func TestPWRIWrapRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.NewChaCha8([32]byte{9})
	for _, kekLen := range []int{16, 24, 32} {
		for _, cekLen := range []int{16, 24, 32} {
			kek := make([]byte, kekLen)
			cek := make([]byte, cekLen)
			iv := make([]byte, 16)
			for _, b := range [][]byte{kek, cek, iv} {
				_, _ = r.Read(b)
			}
			block, err := aesBlock(kek)
			require.NoError(t, err)
			w, err := pwriWrap(block, iv, cek, r)
			require.NoError(t, err)
			assert.Equal(t, max(32, (cekLen+4+15)/16*16), len(w))
			got, err := pwriUnwrap(block, iv, w)
			require.NoError(t, err)
			assert.Equal(t, cek, got)

			// Any change to any block breaks the check value: the double
			// CBC pass spreads it over the whole formatted key.
			for i := range w {
				bad := bytes.Clone(w)
				bad[i] ^= 0x01
				_, err := pwriUnwrap(block, iv, bad)
				assert.ErrorIs(t, err, ErrWrongPassphrase, "byte %d", i)
			}
		}
	}
	block, err := aesBlock(make([]byte, 32))
	require.NoError(t, err)
	_, err = pwriUnwrap(block, make([]byte, 16), make([]byte, 31))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestNormalizeCMS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		wantErr error
	}{
		{"der unchanged", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}, nil},
		{"indefinite", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}, nil},
		{"long length", []byte{0x30, 0x81, 0x03, 0x02, 0x01, 0x05}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}, nil},
		{"constructed octets", []byte{0x24, 0x80, 0x04, 0x01, 'a', 0x04, 0x02, 'b', 'c', 0x00, 0x00}, []byte{0x04, 0x03, 'a', 'b', 'c'}, nil},
		{"implicit [0] chunks kept", []byte{0xa0, 0x80, 0x04, 0x01, 'a', 0x00, 0x00}, []byte{0xa0, 0x03, 0x04, 0x01, 'a'}, nil},
		{"trailing", []byte{0x05, 0x00, 0x00}, nil, ErrMalformed},
		{"truncated", []byte{0x30, 0x05, 0x02, 0x01}, nil, ErrMalformed},
		{"missing eoc", []byte{0x30, 0x80, 0x02, 0x01, 0x05}, nil, ErrMalformed},
		{"indefinite primitive", []byte{0x04, 0x80, 0x00, 0x00}, nil, ErrMalformed},
		{"bad chunk", []byte{0x24, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, nil, ErrMalformed},
		{"deep", append(bytes.Repeat([]byte{0x30, 0x80}, 40), bytes.Repeat([]byte{0, 0}, 40)...), nil, ErrMalformed},
		{"five-byte length", []byte{0x04, 0x85, 1, 0, 0, 0, 0}, nil, ErrMalformed},
		{"pem of another type", []byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"), nil, ErrMalformed},
		{"pem", []byte("-----BEGIN CMS-----\nMAMCAQU=\n-----END CMS-----\n"), []byte{0x30, 0x03, 0x02, 0x01, 0x05}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := normalizeCMS(tc.in)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCMSOpenRejects(t *testing.T) {
	t.Parallel()
	c := fastCMS(t)
	good, err := c.Seal(context.Background(), testCodes, "pw")
	require.NoError(t, err)
	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"empty", nil, ErrMalformed},
		{"not asn1", []byte("hello"), ErrMalformed},
		{"signed data", []byte{0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x02, 0x30, 0x00}, ErrUnsupported},
		{"one byte short", good.Data[:len(good.Data)-1], ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Open(context.Background(), &Envelope{Data: tc.data}, "pw")
			assert.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, got)
			_, isFormat := errors.AsType[*FormatError](err)
			assert.True(t, isFormat, "%v", err)
		})
	}
	_, err = c.Open(context.Background(), nil, "pw")
	assert.ErrorIs(t, err, ErrInvalidInput)
}

// TestWriteFuzzOpenSeeds regenerates the seed corpus of FuzzOpen with
// -update: envelopes of ours and of openssl (DER, streamed BER, PEM), each
// also truncated and with a flipped byte.
func TestWriteFuzzOpenSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/fuzz/FuzzOpen")
	}
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	const pass = "correct horse battery"
	seeds := map[string][]byte{}
	c := fastCMS(t)
	e, err := c.Seal(context.Background(), testCodes, pass)
	require.NoError(t, err)
	seeds["ours"] = e.Data
	src := filepath.Join(t.TempDir(), "payload.txt")
	payload, err := marshalPayload(testCodes)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(src, payload, 0o600))
	for name, args := range map[string][]string{
		"openssl-der": {"-outform", "DER"}, "openssl-ber": {"-outform", "DER", "-stream"}, "openssl-pem": {"-outform", "PEM"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		testutil.Run(t, openssl, append([]string{"cms", "-encrypt", "-binary", "-aes256", "-in", src, "-out", out, "-pwri_password", pass}, args...)...)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		seeds[name] = b
	}
	for name, b := range seeds {
		flipped := bytes.Clone(b)
		flipped[len(flipped)/2] ^= 0x40
		for suffix, data := range map[string][]byte{"": b, "-truncated": b[:len(b)*2/3], "-flipped": flipped} {
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\nstring(" + strconv.Quote(pass) + ")\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, name+suffix), []byte(body), 0o644))
		}
	}
	body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(seeds["ours"])) + ")\nstring(\"wrong\")\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ours-wrong-passphrase"), []byte(body), 0o644))
}

// FuzzOpen feeds arbitrary bytes to Open: it must return codes or an error,
// never panic, and never both. The seed corpus in testdata/fuzz/FuzzOpen
// holds our envelopes, openssl's (DER, streamed BER, PEM) and damaged ones.
func FuzzOpen(f *testing.F) {
	c, err := NewCMS(CMSConfig{Iterations: MinIterations, MaxIterations: 4 * MinIterations})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte, pass string) {
		codes, err := c.Open(context.Background(), &Envelope{Data: data}, Passphrase(pass))
		if err != nil {
			if codes != nil {
				t.Fatalf("codes and an error: %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		if err := codes.Validate(); err != nil {
			t.Fatalf("Open returned invalid codes: %v", err)
		}
	})
}

// TestOpenSSLEmits records what `openssl cms -encrypt -pwri_password P
// -aes256` writes, which Open must accept: PBKDF2 with no PRF (so
// hmacWithSHA1, the DEFAULT), an 8-byte salt, 2,048 iterations, no key
// length; id-alg-PWRI-KEK around AES-256-CBC with a 16-byte IV (RFC 3211's
// wrap, not RFC 3394's); a 48-byte wrapped key; AES-256-CBC content.
func TestOpenSSLEmits(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	dir := t.TempDir()
	src, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.p7m")
	require.NoError(t, os.WriteFile(src, []byte("puk: 1234\n"), 0o600))
	testutil.Run(t, openssl, "cms", "-encrypt", "-binary", "-aes256", "-in", src, "-outform", "DER", "-out", out, "-pwri_password", "P")
	der, err := os.ReadFile(out)
	require.NoError(t, err)

	var ci contentInfo
	require.NoError(t, unmarshalAll(der, &ci, "ci"))
	var ed envelopedData
	require.NoError(t, unmarshalAll(ci.Content.Bytes, &ed, "ed"))
	assert.Equal(t, 3, ed.Version)
	var ri asn1.RawValue
	rest, err := asn1.Unmarshal(ed.RecipientInfos.Bytes, &ri)
	require.NoError(t, err)
	assert.Empty(t, rest, "one recipient")
	assert.Equal(t, 3, ri.Tag, "pwri [3]")
	var seq bytes.Buffer
	writeDER(&seq, []byte{0x30}, ri.Bytes)
	var pwri passwordRecipientInfo
	require.NoError(t, unmarshalAll(seq.Bytes(), &pwri, "pwri"))
	assert.Equal(t, 0, pwri.Version)
	assert.True(t, pwri.KeyDerivationAlgorithm.Algorithm.Equal(oidPBKDF2))
	var kdf pbkdf2Params
	require.NoError(t, unmarshalAll(pwri.KeyDerivationAlgorithm.Parameters.FullBytes, &kdf, "kdf"))
	assert.Len(t, kdf.Salt, 8)
	assert.Equal(t, 2048, kdf.IterationCount)
	assert.Zero(t, kdf.KeyLength)
	assert.Empty(t, kdf.PRF.Algorithm, "no PRF: hmacWithSHA1 by default")
	assert.True(t, pwri.KeyEncryptionAlgorithm.Algorithm.Equal(oidPWRIKEK))
	var kekAlg pkix.AlgorithmIdentifier
	require.NoError(t, unmarshalAll(pwri.KeyEncryptionAlgorithm.Parameters.FullBytes, &kekAlg, "kek"))
	assert.True(t, kekAlg.Algorithm.Equal(pkcs7.OIDEncryptionAlgorithmAES256CBC))
	assert.Len(t, pwri.EncryptedKey, 48)
	assert.True(t, ed.EncryptedContentInfo.ContentEncryptionAlgorithm.Algorithm.Equal(pkcs7.OIDEncryptionAlgorithmAES256CBC))
}
