package recognition

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/registra-pki/registra/internal/logattr"
)

// SealerConfig configures a [Sealer].
type SealerConfig struct {
	// Certificate is the evidence-sealing certificate. Required; it must
	// allow digitalSignature or contentCommitment.
	Certificate *x509.Certificate
	// Chain holds the certificates above Certificate, issuer first, up to
	// but not necessarily including the root. Zero means none are embedded.
	Chain []*x509.Certificate
	// Key is the evidence key (software or behind a key manager). Required;
	// its public key must be Certificate's.
	Key crypto.Signer
	// Logger receives one line per sealed bundle. Nil discards.
	Logger *slog.Logger
}

// Validate checks the fields together and names each bad one.
func (c *SealerConfig) Validate() error {
	var fe fieldErrors
	if c.Certificate == nil {
		fe.add("certificate", "is required")
	} else if c.Certificate.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		fe.add("certificate", "must allow digitalSignature or contentCommitment")
	}
	if c.Key == nil {
		fe.add("key", "is required")
	} else if c.Certificate != nil {
		pub, ok := c.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(c.Certificate.PublicKey) {
			fe.add("key", "does not match the certificate")
		}
	}
	for i, p := range c.Chain {
		if p == nil {
			fe.add(fmt.Sprintf("chain[%d]", i), "is nil")
		}
	}
	return fe.err()
}

// Sealer signs evidence manifests with the platform's evidence key.
type Sealer struct {
	cfg SealerConfig
	log *slog.Logger
}

// NewSealer returns a Sealer; it copies the config.
func NewSealer(cfg SealerConfig) (*Sealer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Chain = slices.Clone(cfg.Chain)
	return &Sealer{cfg: cfg, log: loggerOr(cfg.Logger)}, nil
}

// Sealed is a sealed evidence bundle: the canonical manifest signed as
// attached CMS SignedData (CAdES-BES, with signing time), plus the artefacts
// by their SHA-256. It verifies offline with [VerifySealed] from itself and
// the CA chain alone.
type Sealed struct {
	// Signature is the DER CMS SignedData whose content is the canonical
	// manifest.
	Signature []byte
	// Artefacts are the bytes of every artefact the manifest lists.
	Artefacts map[Digest][]byte
}

// Seal checks that the evidence is complete (every listed artefact present
// with its hash, every check passed) and signs its canonical manifest. It
// does not modify e.
func (s *Sealer) Seal(ctx context.Context, e *Evidence) (*Sealed, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if e == nil {
		return nil, &FieldError{Field: "evidence", Rule: "is required"}
	}
	var fe fieldErrors
	if !e.Manifest.Method.Valid() {
		fe.add("manifest.method", "is not a recognition method")
	}
	if e.Manifest.Version != ManifestVersion {
		fe.add("manifest.version", fmt.Sprintf("must be %d", ManifestVersion))
	}
	if !e.Manifest.Passed() {
		fe.add("manifest.checks", "a failed check cannot be sealed")
	}
	listed := map[Digest]bool{}
	for i, a := range e.Manifest.Artefacts {
		b, ok := e.Artefacts[a.SHA256]
		switch {
		case !ok:
			fe.add(fmt.Sprintf("manifest.artefacts[%d]", i), "bytes missing")
		case DigestOf(b) != a.SHA256 || len(b) != a.Size:
			fe.add(fmt.Sprintf("manifest.artefacts[%d]", i), "bytes do not match sha256 and size")
		}
		listed[a.SHA256] = true
	}
	for d := range e.Artefacts {
		if !listed[d] {
			fe.add("artefacts", "holds bytes the manifest does not list: "+d.String())
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	manifest, err := e.Manifest.Canonical()
	if err != nil {
		return nil, err
	}
	sig, err := signCMS(manifest, s.cfg.Certificate, s.cfg.Chain, s.cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("recognition: seal: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	arts := make(map[Digest][]byte, len(e.Artefacts))
	for d, b := range e.Artefacts {
		arts[d] = bytes.Clone(b)
	}
	s.log.InfoContext(ctx, "evidence sealed",
		slog.String(logattr.OrderID, e.Manifest.OrderID),
		slog.String(logattr.Method, e.Manifest.Method.String()),
		slog.Int("artefacts", len(arts)))
	return &Sealed{Signature: sig, Artefacts: arts}, nil
}

// SealVerifyOptions are the trust inputs of [VerifySealed].
type SealVerifyOptions struct {
	// Roots are the trust anchors of the evidence-sealing certificate.
	// Required.
	Roots *x509.CertPool
	// Intermediates supplements the certificates embedded in the signature.
	// Nil means only the embedded ones are used.
	Intermediates *x509.CertPool
}

// VerifiedBundle is what [VerifySealed] returns: the verified manifest, when
// it was sealed and by whom.
type VerifiedBundle struct {
	Manifest    *Manifest
	SigningTime time.Time
	Sealer      *x509.Certificate
	Chain       []*x509.Certificate
}

// VerifySealed verifies a sealed bundle offline: the CMS signature over the
// manifest, the signing-certificate binding, the sealer certificate's key
// usage and its chain to opts.Roots at the signing time, the manifest's canonical form, and the SHA-256 and
// size of every artefact, with no artefact missing or extra. Every failure is
// reported: the error is a [*VerificationError] listing each failed check.
func VerifySealed(s *Sealed, opts SealVerifyOptions) (*VerifiedBundle, error) {
	if s == nil || len(s.Signature) == 0 {
		return nil, &FieldError{Field: "sealed.signature", Rule: "is required"}
	}
	if opts.Roots == nil {
		return nil, &FieldError{Field: "roots", Rule: "is required"}
	}
	var failed []*CheckError
	msg, ce := parseSignedMessage(s.Signature)
	if ce != nil {
		return nil, &VerificationError{Failed: []*CheckError{ce}}
	}
	if ce := msg.checkSignature(); ce != nil {
		failed = append(failed, ce)
	}
	if ce := msg.checkSigningCertificate(); ce != nil {
		failed = append(failed, ce)
	}
	out := &VerifiedBundle{SigningTime: msg.SigningTime, Sealer: msg.Signer}
	if msg.Signer.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		failed = append(failed, &CheckError{Check: CheckKeyUsage, Kind: ErrChain,
			Detail: "sealer certificate allows neither digitalSignature nor contentCommitment"})
	}
	if msg.SigningTime.IsZero() {
		failed = append(failed, &CheckError{Check: CheckSigningTime, Kind: ErrSigningTime, Detail: "signing time missing"})
	} else {
		inter := x509.NewCertPool()
		if opts.Intermediates != nil {
			inter = opts.Intermediates.Clone()
		}
		for _, c := range msg.Certificates {
			inter.AddCert(c)
		}
		chains, err := msg.Signer.Verify(x509.VerifyOptions{
			Roots: opts.Roots, Intermediates: inter, CurrentTime: msg.SigningTime,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err != nil {
			failed = append(failed, &CheckError{Check: CheckChain, Kind: ErrChain, Detail: "sealer certificate at signing time", Err: err})
		} else {
			out.Chain = chains[0]
		}
	}
	m, err := ParseManifest(msg.Content)
	if err != nil {
		failed = append(failed, &CheckError{Check: CheckSeal, Kind: ErrFormat, Detail: "manifest", Err: err})
	} else {
		out.Manifest = m
		failed = append(failed, checkArtefacts(m, s.Artefacts)...)
	}
	if len(failed) > 0 {
		return nil, &VerificationError{Failed: failed}
	}
	return out, nil
}

// checkArtefacts compares the stored artefacts with the manifest.
func checkArtefacts(m *Manifest, arts map[Digest][]byte) []*CheckError {
	var failed []*CheckError
	listed := map[Digest]bool{}
	for i, a := range m.Artefacts {
		listed[a.SHA256] = true
		b, ok := arts[a.SHA256]
		switch {
		case !ok:
			failed = append(failed, &CheckError{Check: CheckArtefact, Kind: ErrSignature,
				Detail: fmt.Sprintf("artefact %d (%s) missing", i, a.Kind)})
		case DigestOf(b) != a.SHA256:
			failed = append(failed, &CheckError{Check: CheckArtefact, Kind: ErrSignature,
				Detail: fmt.Sprintf("artefact %d (%s) does not match its sha256", i, a.Kind)})
		case len(b) != a.Size:
			failed = append(failed, &CheckError{Check: CheckArtefact, Kind: ErrSignature,
				Detail: fmt.Sprintf("artefact %d (%s) size %d, manifest says %d", i, a.Kind, len(b), a.Size)})
		}
	}
	for _, d := range sortedDigests(arts) {
		if !listed[d] {
			failed = append(failed, &CheckError{Check: CheckArtefact, Kind: ErrSignature,
				Detail: "artefact " + d.String() + " not listed in the manifest"})
		}
	}
	return failed
}

// Bundle file layout written by [Sealed.MarshalBinary]: a ZIP archive with
// the signature and one entry per artefact named by its hash.
const (
	bundleSignature = "manifest.p7m"
	bundleArtefacts = "artefacts/"
	// MaxBundleSize bounds the uncompressed size [ParseSealed] accepts.
	MaxBundleSize = 1 << 30
)

// MarshalBinary writes the bundle as one ZIP file: "manifest.p7m" (the CMS
// signature with the manifest inside) and "artefacts/<sha256 hex>" for each
// artefact, stored uncompressed in hash order so the output is
// deterministic.
func (s *Sealed) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	write := func(name string, b []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if err := write(bundleSignature, s.Signature); err != nil {
		return nil, fmt.Errorf("recognition: bundle: %w", err)
	}
	for _, d := range sortedDigests(s.Artefacts) {
		if err := write(bundleArtefacts+d.String(), s.Artefacts[d]); err != nil {
			return nil, fmt.Errorf("recognition: bundle: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("recognition: bundle: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseSealed reads a bundle written by [Sealed.MarshalBinary]. It checks the
// layout only; [VerifySealed] checks the contents.
func ParseSealed(b []byte) (*Sealed, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, &FieldError{Field: "bundle", Rule: "not a ZIP archive: " + err.Error()}
	}
	s := &Sealed{Artefacts: map[Digest][]byte{}}
	var total int64
	for _, f := range zr.File {
		if f.UncompressedSize64 > MaxBundleSize || total+int64(f.UncompressedSize64) > MaxBundleSize {
			return nil, &FieldError{Field: "bundle", Rule: "larger than MaxBundleSize"}
		}
		total += int64(f.UncompressedSize64)
		data, err := readZipFile(f)
		if err != nil {
			return nil, &FieldError{Field: "bundle." + f.Name, Rule: "unreadable: " + err.Error()}
		}
		switch {
		case f.Name == bundleSignature:
			if s.Signature != nil {
				return nil, &FieldError{Field: "bundle." + f.Name, Rule: "appears twice"}
			}
			s.Signature = data
		case strings.HasPrefix(f.Name, bundleArtefacts):
			d, err := ParseDigest(strings.TrimPrefix(f.Name, bundleArtefacts))
			if err != nil {
				return nil, &FieldError{Field: "bundle." + f.Name, Rule: "artefact name is not a sha256"}
			}
			if _, dup := s.Artefacts[d]; dup {
				return nil, &FieldError{Field: "bundle." + f.Name, Rule: "appears twice"}
			}
			s.Artefacts[d] = data
		default:
			return nil, &FieldError{Field: "bundle." + f.Name, Rule: "unexpected entry"}
		}
	}
	if s.Signature == nil {
		return nil, &FieldError{Field: "bundle." + bundleSignature, Rule: "is missing"}
	}
	return s, nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, err
	}
	if uint64(len(data)) != f.UncompressedSize64 {
		return nil, errors.New("size differs from header")
	}
	return data, nil
}

func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// sortedDigests returns the keys of m in byte order.
func sortedDigests(m map[Digest][]byte) []Digest {
	return slices.SortedFunc(maps.Keys(m), func(a, b Digest) int { return bytes.Compare(a[:], b[:]) })
}
