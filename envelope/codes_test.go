package envelope

import (
	"bytes"
	cryptorand "crypto/rand"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chiSquareCritical approximates the chi-square quantile with dof degrees of
// freedom at the upper tail probability whose normal quantile is z
// (Wilson–Hilferty).
func chiSquareCritical(dof int, z float64) float64 {
	k := float64(dof)
	a := 2 / (9 * k)
	return k * math.Pow(1-a+z*math.Sqrt(a), 3)
}

// chiSquare returns the statistic of the observed character counts of s
// against a uniform distribution over alphabet.
func chiSquare(t *testing.T, s, alphabet string) float64 {
	t.Helper()
	counts := make(map[byte]int, len(alphabet))
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	require.LessOrEqual(t, len(counts), len(alphabet), "characters outside the alphabet")
	expected := float64(len(s)) / float64(len(alphabet))
	var x2 float64
	for i := 0; i < len(alphabet); i++ {
		d := float64(counts[alphabet[i]]) - expected
		x2 += d * d / expected
	}
	return x2
}

// moduloBiased is the naive sampler uniformString replaces: byte % k.
func moduloBiased(r io.Reader, alphabet string, n int) string {
	buf := make([]byte, n)
	_, _ = io.ReadFull(r, buf)
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf)
}

// z5 is the standard normal quantile for an upper tail of 1e-5: a correct
// sampler fails this test once in 100,000 runs.
const z5 = 4.265

func TestUniformStringIsUniform(t *testing.T) {
	t.Parallel()
	const n = 300_000
	for _, alphabet := range []string{Digits, Unambiguous, "AB", "ABCDEFG"} {
		t.Run(alphabet, func(t *testing.T) {
			t.Parallel()
			s, err := uniformString(cryptorand.Reader, alphabet, n)
			require.NoError(t, err)
			require.Len(t, s, n)
			crit := chiSquareCritical(len(alphabet)-1, z5)
			assert.Less(t, chiSquare(t, s, alphabet), crit, "not uniform over %q", alphabet)
		})
	}
}

// TestChiSquareDetectsModuloBias shows that the uniformity test has the
// power to fail: the byte-modulo sampler over the same alphabets is caught.
func TestChiSquareDetectsModuloBias(t *testing.T) {
	t.Parallel()
	const n = 300_000
	for _, alphabet := range []string{Digits, Unambiguous} {
		r := rand.NewChaCha8([32]byte{1, 2, 3})
		s := moduloBiased(r, alphabet, n)
		crit := chiSquareCritical(len(alphabet)-1, z5)
		assert.Greater(t, chiSquare(t, s, alphabet), crit, "bias over %q went unnoticed", alphabet)
	}
}

func TestUniformStringRejectsBiasingBytes(t *testing.T) {
	t.Parallel()
	// For 10 digits the limit is 250: 250..255 must be skipped, not folded
	// onto 0..5.
	in := []byte{250, 255, 3, 249, 251, 0, 252, 17, 200}
	in = append(in, bytes.Repeat([]byte{254}, 64)...)
	s, err := uniformString(bytes.NewReader(in), Digits, 5)
	require.NoError(t, err)
	assert.Equal(t, "39070", s)
}

func TestUniformStringShortRead(t *testing.T) {
	t.Parallel()
	_, err := uniformString(bytes.NewReader([]byte{1, 2}), Digits, 8)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestSchemeGenerate(t *testing.T) {
	t.Parallel()
	for _, s := range []Scheme{RemoteSignature, DeviceSignature} {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			codes, err := s.Generate(nil)
			require.NoError(t, err)
			require.NoError(t, codes.Validate())
			require.Len(t, codes, len(s.Codes))
			for i, spec := range s.Codes {
				assert.Equal(t, spec.Name, codes[i].Name)
				c := string(codes[i].Code)
				assert.Len(t, c, spec.Length)
				for j := 0; j < len(c); j++ {
					assert.Contains(t, spec.Alphabet, c[j:j+1])
				}
			}
			again, err := s.Generate(nil)
			require.NoError(t, err)
			assert.NotEqual(t, codes, again, "two draws gave the same codes")
		})
	}
}

func TestSchemeGenerateDeterministicWithRand(t *testing.T) {
	t.Parallel()
	a, err := RemoteSignature.Generate(rand.NewChaCha8([32]byte{7}))
	require.NoError(t, err)
	b, err := RemoteSignature.Generate(rand.NewChaCha8([32]byte{7}))
	require.NoError(t, err)
	assert.Equal(t, a, b)
}

func TestSchemeValidate(t *testing.T) {
	t.Parallel()
	spec := func(mut func(*CodeSpec)) Scheme {
		c := CodeSpec{Name: "pin", Alphabet: Digits, Length: 6}
		mut(&c)
		return Scheme{Name: "x", Codes: []CodeSpec{c}}
	}
	tests := []struct {
		name    string
		scheme  Scheme
		wantErr error
	}{
		{"ok", spec(func(*CodeSpec) {}), nil},
		{"bad name", spec(func(c *CodeSpec) { c.Name = "PIN!" }), ErrInvalidInput},
		{"short alphabet", spec(func(c *CodeSpec) { c.Alphabet = "0" }), ErrInvalidInput},
		{"repeated character", spec(func(c *CodeSpec) { c.Alphabet = "0012" }), ErrInvalidInput},
		{"space in alphabet", spec(func(c *CodeSpec) { c.Alphabet = "01 2" }), ErrInvalidInput},
		{"too short", spec(func(c *CodeSpec) { c.Length = 3 }), ErrInvalidInput},
		{"no codes", Scheme{Name: "x"}, ErrInvalidInput},
		{"duplicate", Scheme{Name: "x", Codes: []CodeSpec{RemoteSignature.Codes[0], RemoteSignature.Codes[0]}}, ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.scheme.Validate()
			if tc.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
	err := spec(func(c *CodeSpec) { c.Length = 3 }).Validate()
	assert.EqualError(t, err, "envelope: pin.length: must be between 4 and 64")
}

func TestSchemeVerifiable(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []CodeName{SigningPIN, EmergencyCode}, DeviceSignature.Verifiable())
}

func TestPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	codes := Codes{{SigningPIN, "12345678"}, {EmergencyCode, "ABCDEFGHJKMN"}}
	b, err := marshalPayload(codes)
	require.NoError(t, err)
	assert.Equal(t, "# Codici di attivazione / Activation codes\nsigning_pin: 12345678\nemergency_code: ABCDEFGHJKMN\n", string(b))
	got, err := parsePayload(b)
	require.NoError(t, err)
	assert.Equal(t, codes, got)
}

func TestParsePayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Codes
		wantErr error
	}{
		{"crlf and comments", "# x\r\n\r\npuk: 1234\r\n", Codes{{PUK, "1234"}}, nil},
		{"empty", "", nil, ErrMalformed},
		{"only comments", "# a\n# b\n", nil, ErrMalformed},
		{"no separator", "puk 1234\n", nil, ErrMalformed},
		{"bad name", "PUK: 1234\n", nil, ErrMalformed},
		{"space in code", "puk: 12 34\n", nil, ErrMalformed},
		{"duplicate", "puk: 1\npuk: 2\n", nil, ErrMalformed},
		{"garbage after good lines", "puk: 1234\n\x00\x01\n", nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePayload([]byte(tc.in))
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				assert.Nil(t, got, "partial result")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
