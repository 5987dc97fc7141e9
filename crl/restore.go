package crl

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Load reads back the CRLs d wrote, so that a process restarted after a
// publication serves them again at once instead of nothing until the next
// one. Each file is parsed and its signature checked against issuer; a file
// that is missing is skipped, one that does not verify is an error. The full
// CRL, when present, comes first. Seq is unknown from the bytes and left zero.
func (d *DirSink) Load(scope Scope, issuer *x509.Certificate) ([]*Published, error) {
	var out []*Published
	for _, f := range []struct {
		name  string
		delta bool
	}{{d.cfg.FullName, false}, {d.cfg.DeltaName, true}} {
		der, err := os.ReadFile(filepath.Join(d.cfg.Dir, f.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("crl: loading %s: %w", f.name, err)
		}
		p, err := parsePublished(scope, der, issuer)
		if err != nil {
			return nil, fmt.Errorf("crl: loading %s: %w", f.name, err)
		}
		if p.Delta != f.delta {
			return nil, fmt.Errorf("crl: loading %s: %w", f.name, &FieldError{Field: "delta_crl_indicator", Rule: "does not match the file's kind"})
		}
		out = append(out, p)
	}
	return out, nil
}

// parsePublished turns a signed CertificateList of issuer back into a
// Published.
func parsePublished(scope Scope, der []byte, issuer *x509.Certificate) (*Published, error) {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, &FieldError{Field: "crl", Rule: "not a CertificateList: " + err.Error()}
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVerify, err)
	}
	base, err := ParseDeltaBase(rl)
	if err != nil {
		return nil, err
	}
	return &Published{
		Scope: scope,
		Delta: base != nil,
		CRLInfo: CRLInfo{Number: rl.Number, BaseNumber: base, ThisUpdate: rl.ThisUpdate,
			NextUpdate: rl.NextUpdate},
		Entries: len(rl.RevokedCertificateEntries),
		DER:     der,
	}, nil
}
