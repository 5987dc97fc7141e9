package envelope

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
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

// Conformance vectors for the CMS envelope, in the style of age's CCTV: one
// file per case in testdata/vectors, with headers, a blank line, and the
// payload. Each vector runs three ways:
//
//   - ours → ours: Seal with the vector's parameters, Open with
//     open-passphrase; the result must be "expect";
//   - ours → openssl: openssl cms -decrypt -pwri_password open-passphrase
//     on the same bytes; it must succeed iff "openssl-opens" is yes, and
//     then print the payload;
//   - openssl → ours: openssl cms -encrypt -pwri_password passphrase with
//     the vector's content cipher (openssl picks its own KDF: PBKDF2-SHA1,
//     2,048 iterations, the content cipher as KEK), the same mutation, then
//     our Open with open-passphrase; the result must be "openssl-made".
//
// Results: success, wrong-passphrase, malformed, unsupported. Mutations:
// none, truncate (drop the last 10 bytes), trailing (append one zero byte),
// flip-last (invert the last byte, inside the last content block).

type vector struct {
	name                 string
	headers              map[string]string
	payload              []byte
	passphrase, openPass string
	params               pwriParams
	expect, opensslMade  string
	opensslOpens         bool
	mutate               string
}

func parseVector(t *testing.T, path string) vector {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	head, body, ok := bytes.Cut(data, []byte("\n\n"))
	require.True(t, ok, "no blank line after the headers")
	v := vector{name: strings.TrimSuffix(filepath.Base(path), ".txt"), headers: map[string]string{}, payload: body}
	sc := bufio.NewScanner(bytes.NewReader(head))
	for sc.Scan() {
		k, val, ok := strings.Cut(sc.Text(), ":")
		require.True(t, ok, "bad header %q", sc.Text())
		v.headers[k] = strings.TrimPrefix(val, " ")
	}
	h := func(k string) string {
		val, ok := v.headers[k]
		require.True(t, ok, "missing header %q", k)
		return val
	}
	v.passphrase = h("passphrase")
	v.openPass = v.passphrase
	if p, ok := v.headers["open-passphrase"]; ok {
		v.openPass = p
	}
	iter, err := strconv.Atoi(h("iterations"))
	require.NoError(t, err)
	salt, err := strconv.Atoi(h("salt-size"))
	require.NoError(t, err)
	v.params = pwriParams{iterations: iter, saltLen: salt, prf: prfOID(t, h("prf")),
		kekCipher: cipherOID(t, h("kek-cipher")), contentCipher: cipherOID(t, h("content-cipher"))}
	v.expect = h("expect")
	v.opensslMade = h("openssl-made")
	v.opensslOpens = h("openssl-opens") == "yes"
	v.mutate = v.headers["mutate"]
	return v
}

func prfOID(t *testing.T, s string) asn1.ObjectIdentifier {
	switch s {
	case "sha1":
		return oidHMACWithSHA1
	case "sha256":
		return oidHMACWithSHA256
	case "sha384":
		return oidHMACWithSHA384
	case "sha512":
		return oidHMACWithSHA512
	}
	t.Fatalf("unknown prf %q", s)
	return nil
}

func cipherOID(t *testing.T, s string) asn1.ObjectIdentifier {
	switch s {
	case "aes-128-cbc":
		return pkcs7.OIDEncryptionAlgorithmAES128CBC
	case "aes-192-cbc":
		return oidAES192CBC
	case "aes-256-cbc":
		return pkcs7.OIDEncryptionAlgorithmAES256CBC
	}
	t.Fatalf("unknown cipher %q", s)
	return nil
}

func mutate(t *testing.T, how string, b []byte) []byte {
	b = bytes.Clone(b)
	switch how {
	case "", "none":
		return b
	case "truncate":
		return b[:len(b)-10]
	case "trailing":
		return append(b, 0)
	case "flip-last":
		b[len(b)-1] ^= 0xff
		return b
	}
	t.Fatalf("unknown mutation %q", how)
	return nil
}

// resultOf names the outcome of an Open the way vectors do.
func resultOf(err error) string {
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, ErrWrongPassphrase):
		return "wrong-passphrase"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	}
	return "other: " + err.Error()
}

func TestConformanceVectors(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	paths, err := filepath.Glob("testdata/vectors/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		v := parseVector(t, path)
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			seed := sha256.Sum256([]byte(v.name))
			sealed, err := sealPWRI(v.payload, []byte(v.passphrase), v.params, rand.NewChaCha8(seed))
			require.NoError(t, err)
			sealed = mutate(t, v.mutate, sealed)
			dir := t.TempDir()

			t.Run("ours to ours", func(t *testing.T) {
				got, err := openPWRI(sealed, []byte(v.openPass), DefaultMaxIterations)
				assert.Equal(t, v.expect, resultOf(err))
				if v.expect == "success" {
					assert.Equal(t, v.payload, got)
				} else {
					assert.Nil(t, got, "partial result")
				}
			})

			t.Run("ours to openssl", func(t *testing.T) {
				in := filepath.Join(dir, "ours.p7m")
				require.NoError(t, os.WriteFile(in, sealed, 0o600))
				out, err := exec.Command(openssl, "cms", "-decrypt", "-inform", "DER", "-in", in,
					"-pwri_password", v.openPass).Output()
				if !v.opensslOpens {
					assert.Error(t, err, "openssl opened it")
					return
				}
				require.NoError(t, err)
				assert.Equal(t, string(v.payload), string(out))
			})

			t.Run("openssl to ours", func(t *testing.T) {
				in := filepath.Join(dir, "payload.txt")
				p7m := filepath.Join(dir, "openssl.p7m")
				require.NoError(t, os.WriteFile(in, v.payload, 0o600))
				testutil.Run(t, openssl, "cms", "-encrypt", "-binary", "-in", in, "-outform", "DER", "-out", p7m,
					"-"+v.headers["content-cipher"], "-pwri_password", v.passphrase)
				made, err := os.ReadFile(p7m)
				require.NoError(t, err)
				got, err := openPWRI(mutate(t, v.mutate, made), []byte(v.openPass), DefaultMaxIterations)
				assert.Equal(t, v.opensslMade, resultOf(err))
				if v.opensslMade == "success" {
					assert.Equal(t, v.payload, got)
				}
			})
		})
	}
}
