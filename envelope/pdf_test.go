package envelope

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/testutil"
)

func newTestPDF(t testing.TB) *PDF {
	t.Helper()
	p, err := NewPDF(PDFConfig{Now: func() time.Time { return time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	return p
}

func TestPDFRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newTestPDF(t)
	e, err := p.Seal(ctx, testCodes, "RSSMRA85T10A562S")
	require.NoError(t, err)
	assert.Equal(t, FileNamePDF, e.FileName)
	assert.Equal(t, MediaTypePDF, e.MediaType)
	assert.True(t, bytes.HasPrefix(e.Data, []byte("%PDF-2.0")), "must declare PDF 2.0 for revision 6")
	for _, c := range testCodes {
		assert.NotContains(t, string(e.Data), string(c.Code), "code in clear in the file")
	}

	got, err := p.Open(ctx, e, "RSSMRA85T10A562S")
	require.NoError(t, err)
	assert.Equal(t, testCodes, got)

	got, err = p.Open(ctx, e, "RSSMRA85T10A562s")
	require.ErrorIs(t, err, ErrWrongPassphrase)
	assert.Nil(t, got)
	_, err = p.Open(ctx, e, "")
	assert.ErrorIs(t, err, ErrWrongPassphrase)
}

func TestPDFSealRejects(t *testing.T) {
	t.Parallel()
	p := newTestPDF(t)
	_, err := p.Seal(context.Background(), testCodes, "")
	assert.ErrorIs(t, err, ErrInvalidInput)
	_, err = p.Seal(context.Background(), Codes{{PUK, ""}}, "x")
	assert.ErrorIs(t, err, ErrInvalidInput)
	_, err = p.Open(context.Background(), &Envelope{Data: []byte("%PDF-2.0 garbage")}, "x")
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = p.Open(context.Background(), &Envelope{Data: []byte("GIF89a")}, "x")
	assert.ErrorIs(t, err, ErrMalformed)
}

// TestPDFWithForeignReaders opens the PDF with qpdf and poppler: it needs a
// password, uses revision 6 (AES-256), shows every label and code with the
// passphrase, and shows nothing without it.
func TestPDFWithForeignReaders(t *testing.T) {
	t.Parallel()
	qpdf := testutil.RequireTool(t, "qpdf", "qpdf")
	pdftotext := testutil.RequireTool(t, "pdftotext", "poppler-utils")
	const pass = "RSSMRA85T10A562S"
	p := newTestPDF(t)
	codes, err := DeviceSignature.Generate(nil)
	require.NoError(t, err)
	e, err := p.Seal(context.Background(), codes, pass)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "codes.pdf")
	require.NoError(t, os.WriteFile(path, e.Data, 0o600))

	// qpdf --requires-password exits 0 when the file is encrypted and
	// needs a password to open.
	testutil.Run(t, qpdf, "--requires-password", path)

	enc := string(testutil.Run(t, qpdf, "--show-encryption", "--password="+pass, path))
	assert.Contains(t, enc, "R = 6")
	assert.Contains(t, enc, "file encryption method: AESv3")
	assert.Contains(t, enc, "Supplied password is user password")

	text := string(testutil.Run(t, pdftotext, "-upw", pass, path, "-"))
	for _, s := range []string{"Codici di attivazione", "Activation codes", "PIN di firma", "Signing PIN",
		"PUK (codice di sblocco del dispositivo)", "Emergency code for suspension and revocation"} {
		assert.Contains(t, text, s)
	}
	for _, c := range codes {
		assert.Contains(t, text, string(c.Code))
	}

	for _, args := range [][]string{{path, "-"}, {"-upw", "rssmra85t10a562s", path, "-"}} {
		out, err := exec.Command(pdftotext, args...).CombinedOutput()
		assert.Error(t, err, "pdftotext opened it with %v", args)
		for _, c := range codes {
			assert.NotContains(t, string(out), string(c.Code))
		}
	}
	out, err := exec.Command(qpdf, "--password=wrong", "--decrypt", path, filepath.Join(t.TempDir(), "x.pdf")).CombinedOutput()
	assert.Error(t, err)
	assert.Contains(t, string(out), "invalid password")
}

func TestPDFLabelsAndEscapes(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "perch\xe9 cos\xec \\(x\\) \\\\ ?", pdfString("perché così (x) \\ €"))
	// A code with characters a literal string must escape survives.
	codes := Codes{{"custom", `a(b)c\d`}}
	got, err := parsePDFCodes(renderPDF(codes))
	require.NoError(t, err)
	assert.Equal(t, codes, got)
}

func TestParsePDFCodes(t *testing.T) {
	t.Parallel()
	seq := func(name, code string) string {
		return "/Code <</Name (" + name + ")>> BDC\nBT /F4 20 Tf 60 600 Td (" + code + ") Tj ET\nEMC\n"
	}
	tests := []struct {
		name    string
		in      string
		want    Codes
		wantErr error
	}{
		{"two", seq("signing_pin", "1234") + "BT (noise) Tj ET\n" + seq("puk", "5678"), Codes{{SigningPIN, "1234"}, {PUK, "5678"}}, nil},
		{"none", "BT /F1 10 Tf (hello) Tj ET", nil, ErrMalformed},
		{"broken sequence", seq("puk", "5678") + "/Code <</Name (pin)>> BDC EMC", nil, ErrMalformed},
		{"duplicate", seq("puk", "1") + seq("puk", "2"), nil, ErrMalformed},
		{"bad code", seq("puk", "a:b"), nil, ErrMalformed},
		{"bad name", strings.Replace(seq("puk", "1"), "puk", "PUK", 1), nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePDFCodes([]byte(tc.in))
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzParsePDFCodes: any page content gives codes or an error, never both,
// never a panic.
func FuzzParsePDFCodes(f *testing.F) {
	f.Fuzz(func(t *testing.T, content []byte) {
		codes, err := parsePDFCodes(content)
		if err != nil {
			if codes != nil {
				t.Fatal("codes and an error")
			}
			return
		}
		if err := codes.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPDFPageGolden pins the page before encryption (pdfcpu's encryption
// draws its keys from crypto/rand, so the sealed file cannot be golden).
// Regenerate with `go test ./envelope -run TestPDFPageGolden -update`.
func TestPDFPageGolden(t *testing.T) {
	t.Parallel()
	got := renderPDF(testCodes)
	path := filepath.Join("testdata", "golden", "page.pdf")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "page layout changed; rerun with -update if intended")
}

// FuzzPDFOpen: any file gives codes or an error, never a panic, never
// both. The corpus in testdata/fuzz/FuzzPDFOpen holds a sealed PDF, damaged
// copies, and pdfcpu-index-panic, a file on which pdfcpu v0.15.0 panics
// (index out of range in its reader), which Open must turn into an error.
func FuzzPDFOpen(f *testing.F) {
	p := newTestPDF(f)
	f.Fuzz(func(t *testing.T, data []byte, pass string) {
		codes, err := p.Open(context.Background(), &Envelope{Data: data}, Passphrase(pass))
		if err != nil {
			if codes != nil {
				t.Fatal("codes and an error")
			}
			return
		}
		if err := codes.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriteFuzzPDFOpenSeeds regenerates FuzzPDFOpen's generated seeds with
// -update: a sealed PDF with its passphrase and a wrong one, and damaged
// copies.
func TestWriteFuzzPDFOpenSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/fuzz/FuzzPDFOpen")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzPDFOpen")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	e, err := newTestPDF(t).Seal(context.Background(), testCodes, "correct horse battery")
	require.NoError(t, err)
	flipped := bytes.Clone(e.Data)
	flipped[len(flipped)/2] ^= 0x40
	for name, s := range map[string]struct {
		data []byte
		pass string
	}{
		"sealed": {e.Data, "correct horse battery"}, "sealed-wrong": {e.Data, "wrong"},
		"truncated": {e.Data[:len(e.Data)/2], "correct horse battery"}, "flipped": {flipped, "correct horse battery"},
		"plain": {renderPDF(testCodes), ""},
	} {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s.data)) + ")\nstring(" + strconv.Quote(s.pass) + ")\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
}
