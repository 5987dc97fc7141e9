package envelope

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// PDFConfig configures [NewPDF].
type PDFConfig struct {
	// Rand is the source of the owner password; nil means crypto/rand.
	// pdfcpu draws the file key and salts from crypto/rand itself, so a
	// PDF envelope is never byte-for-byte reproducible.
	Rand io.Reader
	// Now dates the document; nil means time.Now.
	Now func() time.Time
}

// PDF seals codes as a one-page PDF 2.0 document encrypted with AES-256
// (standard security handler, V 5, R 6: ISO 32000-2 §7.6.4), the codes laid
// out for a person with Italian and English labels. Any PDF reader opens
// it with the passphrase; none opens it without.
//
// The page is written here and encrypted by pdfcpu, which uses revision 6
// only for documents that declare PDF 2.0. The owner password is random and
// discarded: printing and copying are allowed, changes are not.
// Each code is drawn inside a marked-content sequence tagged /Code with its
// name, which is how [PDF.Open] finds it again.
type PDF struct {
	rand io.Reader
	now  func() time.Time
}

var (
	_ Sealer = (*PDF)(nil)
	_ Opener = (*PDF)(nil)
)

// Validate checks the config; every field has a usable zero value.
func (c *PDFConfig) Validate() error { return nil }

// NewPDF returns a PDF sealer and opener. It copies cfg.
func NewPDF(cfg PDFConfig) (*PDF, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &PDF{rand: cfg.Rand, now: cfg.Now}
	if p.rand == nil {
		p.rand = cryptorand.Reader
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// pdfcpuConfig builds pdfcpu's configuration without touching its
// configuration directory (model.NewDefaultConfiguration writes one to the
// user's home). The values follow pdfcpu's built-in defaults.
func pdfcpuConfig(now time.Time, userPW, ownerPW string) *model.Configuration {
	return &model.Configuration{
		CreationDate:              now.Format("2006-01-02 15:04"),
		Version:                   model.VersionStr,
		Reader15:                  true,
		ValidationMode:            model.ValidationRelaxed,
		UnsupportedResourcePolicy: model.UnsupportedResourceSkip,
		Eol:                       types.EolLF,
		WriteObjectStream:         true,
		WriteXRefStream:           true,
		EncryptUsingAES:           true,
		EncryptKeyLength:          256,
		// Printing and copying: the holder may print the page or paste a
		// code; editing stays closed (the owner password is discarded).
		Permissions:           model.PermissionsPrint | model.PermissionExtract | model.PermissionExtractRev3,
		TimestampFormat:       "2006-01-02 15:04",
		DateFormat:            "2006-01-02",
		Optimize:              true,
		OptimizeBeforeWriting: true,
		OptimizeResourceDicts: true,
		Offline:               true,
		Timeout:               5,
		TimeoutCRL:            10,
		TimeoutOCSP:           10,
		Limits:                model.DefaultResourceLimits(),
		UserPW:                userPW,
		OwnerPW:               ownerPW,
	}
}

// Seal lays the codes out on a page and encrypts it under passphrase.
func (p *PDF) Seal(ctx context.Context, codes Codes, passphrase Passphrase) (*Envelope, error) {
	if passphrase == "" {
		return nil, &FieldError{Field: "passphrase", Rule: "is required"}
	}
	if err := codes.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	owner := make([]byte, 24)
	if _, err := io.ReadFull(p.rand, owner); err != nil {
		return nil, fmt.Errorf("envelope: pdf: reading random bytes: %w", err)
	}
	plain := renderPDF(codes)
	defer clear(plain)
	var out bytes.Buffer
	conf := pdfcpuConfig(p.now(), string(passphrase), hex.EncodeToString(owner))
	if err := api.Encrypt(bytes.NewReader(plain), &out, conf); err != nil {
		return nil, fmt.Errorf("envelope: pdf: encrypting: %w", err)
	}
	return &Envelope{FileName: FileNamePDF, MediaType: MediaTypePDF, Data: out.Bytes()}, nil
}

// Open decrypts a PDF made by [PDF.Seal] and reads the codes back from its
// page. A wrong passphrase gives an error wrapping [ErrWrongPassphrase].
//
// Open is meant for PDFs this package made (tests, the CLI checking an
// envelope before it is mailed). It parses through pdfcpu, which is not
// hardened against hostile files: fuzzing found a file on which it panics
// (Open recovers and reports it as malformed). Prefer [CMS.Open], whose
// parser is ours, for envelopes from elsewhere.
func (p *PDF) Open(ctx context.Context, e *Envelope, passphrase Passphrase) (Codes, error) {
	if e == nil {
		return nil, &FieldError{Field: "envelope", Rule: "is required"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(e.Data, []byte("%PDF-")) {
		return nil, malformed("pdf", "not a PDF file")
	}
	var content []byte
	conf := pdfcpuConfig(p.now(), string(passphrase), "")
	err := withoutPanics(func() error {
		return api.ExtractContent(bytes.NewReader(e.Data), []string{"1"}, func(r io.Reader, _ int) error {
			b, err := io.ReadAll(io.LimitReader(r, maxPayload*4))
			content = b
			return err
		}, conf)
	})
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		return nil, ErrWrongPassphrase
	case err != nil:
		return nil, malformed("pdf", "cannot be read")
	}
	return parsePDFCodes(content)
}

// errPanicked stands for a panic inside pdfcpu.
var errPanicked = errors.New("envelope: pdf: reader panicked")

// withoutPanics runs f and turns a panic into errPanicked. pdfcpu panics on
// some malformed files (fuzzing found an index out of range in its reader,
// which its own fault.Catch re-panics); at this boundary a panic means a
// malformed file, never a crash of the caller.
func withoutPanics(f func() error) error {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = errPanicked
			}
		}()
		err = f()
	}()
	return err
}

// The page. Coordinates are in points on an A4 MediaBox (595×842).

// pdfLabels are the labels of the codes the catalogue uses; other codes are
// shown under their name.
var pdfLabels = map[CodeName][2]string{
	SigningPIN:    {"PIN di firma", "Signing PIN"},
	PUK:           {"PUK (codice di sblocco del dispositivo)", "PUK (device unblocking code)"},
	EmergencyCode: {"Codice di emergenza per sospensione e revoca", "Emergency code for suspension and revocation"},
}

func renderPDF(codes Codes) []byte {
	var c bytes.Buffer
	text := func(font string, size, x, y int, s string) {
		fmt.Fprintf(&c, "BT /%s %d Tf %d %d Td (%s) Tj ET\n", font, size, x, y, pdfString(s))
	}
	text("F2", 20, 60, 770, "Codici di attivazione")
	text("F3", 14, 60, 750, "Activation codes")
	lines := []string{
		"Conservi questo documento in un luogo sicuro e non condivida i codici con nessuno.",
		"Keep this document in a safe place and do not share the codes with anyone.",
	}
	for i, l := range lines {
		text("F1", 10, 60, 720-14*i, l)
	}
	y := 660
	for _, nc := range codes {
		label, ok := pdfLabels[nc.Name]
		if !ok {
			label = [2]string{string(nc.Name), string(nc.Name)}
		}
		text("F2", 12, 60, y, label[0])
		text("F3", 10, 60, y-14, label[1])
		// The code, tagged so that Open can find it (ISO 32000-2 §14.6).
		fmt.Fprintf(&c, "/Code <</Name (%s)>> BDC\nBT /F4 20 Tf 60 %d Td (%s) Tj ET\nEMC\n", nc.Name, y-42, pdfString(string(nc.Code)))
		y -= 80
	}
	text("F3", 9, 60, 60, "registra - busta cifrata dei codici / encrypted envelope of activation codes")

	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	// ISO 32000-2 §7.5.2: the header names the version; 2.0 is what makes
	// pdfcpu use revision 6 of the security handler.
	b.WriteString("%PDF-2.0\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R /Lang (it-IT) >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R /F3 6 0 R /F4 7 0 R >> >> /Contents 8 0 R >>")
	for _, f := range []string{"Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Courier-Bold"} {
		obj("<< /Type /Font /Subtype /Type1 /BaseFont /" + f + " /Encoding /WinAnsiEncoding >>")
	}
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", c.Len(), c.Bytes()))
	clear(c.Bytes())
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// pdfString escapes s for a literal string and encodes it in
// WinAnsiEncoding, which covers the Italian accented letters (its upper
// half matches Latin-1 for them). Other runes become '?'.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			b.WriteByte(byte(r))
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

var (
	pdfCodeRE   = regexp.MustCompile(`/Code\s*<<\s*/Name\s*\(([a-z0-9_]{1,32})\)\s*>>\s*BDC\s*BT\s*/F4\s+\d+\s+Tf\s+-?\d+\s+-?\d+\s+Td\s*\(((?:[^()\\]|\\[()\\]){1,128})\)\s*Tj\s*ET\s*EMC`)
	pdfUnescape = strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`)
)

// parsePDFCodes finds the marked code sequences in a page's content stream.
// Every /Code sequence must parse, or the whole page is malformed.
func parsePDFCodes(content []byte) (Codes, error) {
	if len(content) > maxPayload*4 {
		return nil, malformed("pdf", "page content too large")
	}
	if want := bytes.Count(content, []byte("/Code")); want != len(pdfCodeRE.FindAllIndex(content, -1)) {
		return nil, malformed("pdf", "a code sequence cannot be read")
	}
	var out Codes
	for _, m := range pdfCodeRE.FindAllSubmatch(content, -1) {
		name := CodeName(m[1])
		if _, dup := out.Get(name); dup {
			return nil, malformed("pdf", "a code name appears twice")
		}
		out = append(out, NamedCode{Name: name, Code: Code(pdfUnescape.Replace(string(m[2])))})
	}
	if len(out) == 0 {
		return nil, malformed("pdf", "holds no code")
	}
	if err := out.Validate(); err != nil {
		return nil, malformed("pdf", "holds an invalid code")
	}
	return out, nil
}
