package registra

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	kmsapi "go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/internal/atomicfile"
	"github.com/registra-pki/registra/recognition"
)

// The platform's evidence seal lives in Dir/evidence: seal.json records the
// certificate and where the key is (a key manager's name, or seal.key, a
// PKCS #8 PEM file of mode 0600, for software keys).
const (
	evidenceDir      = "evidence"
	evidenceSealFile = "seal.json"
	evidenceKeyFile  = "seal.key"
	// defaultEvidenceKeyLabel is handed to Config.HolderKeyName when
	// Config.EvidenceKeyName is empty.
	defaultEvidenceKeyLabel = "evidence-seal"
)

// sealRecord is the content of seal.json.
type sealRecord struct {
	Version     int    `json:"version"`
	KeyName     string `json:"key_name,omitempty"` // the key manager's name of the key
	KeyFile     string `json:"key_file,omitempty"` // relative to Dir/evidence
	Certificate []byte `json:"certificate"`        // DER, issued with ca.EvidenceSeal
}

// evidenceSeal is the platform's evidence-sealing certificate with its
// Sealer (issue #8: "Sealing signs the manifest as CMS SignedData with the
// platform's evidence key").
type evidenceSeal struct {
	cert   *x509.Certificate
	sealer *recognition.Sealer
}

// openEvidenceSeal reopens the platform's evidence seal, or makes it on
// first open: a key through Config.KeyManager (or a software P-256 key
// written under Dir/evidence with mode 0600) and a certificate of profile
// ca.EvidenceSeal issued once by the issuing CA. An expired certificate, or
// one of another issuing CA, is replaced by a new one for the same key.
func (p *Platform) openEvidenceSeal(ctx context.Context) (*evidenceSeal, error) {
	dir := filepath.Join(p.cfg.Dir, evidenceDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence seal: %w", err)
	}
	rec, signer, err := p.loadEvidenceKey(dir)
	if err != nil {
		return nil, err
	}
	var cert *x509.Certificate
	if len(rec.Certificate) > 0 {
		if cert, err = x509.ParseCertificate(rec.Certificate); err != nil {
			return nil, fmt.Errorf("evidence seal: %s: certificate: %w", evidenceSealFile, err)
		}
		if !publicKeyEqual(cert.PublicKey, signer.Public()) {
			return nil, fmt.Errorf("evidence seal: %s: certificate does not match the key", evidenceSealFile)
		}
	}
	now := p.now()
	if cert == nil || now.After(cert.NotAfter) || cert.CheckSignatureFrom(p.hierarchy.Issuing()) != nil {
		is, err := p.issuer.Issue(ctx, ca.Request{Profile: ca.EvidenceSeal, PublicKey: signer.Public(),
			CommonName: p.organization() + " Evidence Seal"})
		if err != nil {
			return nil, fmt.Errorf("evidence seal: issuing the certificate: %w", err)
		}
		cert = is.Certificate
		rec.Certificate = cert.Raw
		if err := writeSealRecord(dir, rec); err != nil {
			return nil, err
		}
		p.log.InfoContext(ctx, "evidence seal certificate issued", "serial", cert.SerialNumber.Text(16),
			"not_after", cert.NotAfter)
	}
	s, err := recognition.NewSealer(recognition.SealerConfig{Certificate: cert, Chain: p.hierarchy.Chain(),
		Key: signer, Logger: p.log})
	if err != nil {
		return nil, fmt.Errorf("evidence seal: %w", err)
	}
	return &evidenceSeal{cert: cert, sealer: s}, nil
}

// loadEvidenceKey reads seal.json and opens its key, or creates the key
// (and a record without a certificate yet) when there is no seal.json.
func (p *Platform) loadEvidenceKey(dir string) (sealRecord, crypto.Signer, error) {
	b, err := os.ReadFile(filepath.Join(dir, evidenceSealFile))
	if errors.Is(err, fs.ErrNotExist) {
		return p.createEvidenceKey(dir)
	}
	if err != nil {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: %w", err)
	}
	var rec sealRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.Version != 1 || (rec.KeyName == "") == (rec.KeyFile == "") {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: %s: not a version 1 seal record naming one key", evidenceSealFile)
	}
	if rec.KeyName != "" {
		if p.cfg.KeyManager == nil {
			return sealRecord{}, nil, fmt.Errorf("evidence seal: key %s is held by a key manager and Config.KeyManager is nil", rec.KeyName)
		}
		s, err := p.cfg.KeyManager.CreateSigner(&kmsapi.CreateSignerRequest{SigningKey: rec.KeyName})
		if err != nil {
			return sealRecord{}, nil, fmt.Errorf("evidence seal: opening key %s: %w", rec.KeyName, err)
		}
		return rec, s, nil
	}
	if !filepath.IsLocal(rec.KeyFile) {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: key file %q is outside %s", rec.KeyFile, dir)
	}
	path := filepath.Join(dir, rec.KeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: key file %s has mode %v: group and others must have no access",
			rec.KeyFile, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: key file %s: not a PKCS #8 PEM private key", rec.KeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	clear(block.Bytes)
	if err != nil {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: key file %s: %w", rec.KeyFile, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return sealRecord{}, nil, fmt.Errorf("evidence seal: key file %s: %T is not a signing key", rec.KeyFile, k)
	}
	return rec, s, nil
}

// createEvidenceKey makes the evidence key: in the key manager when one is
// configured (named Config.EvidenceKeyName), else a software ECDSA P-256
// key written as seal.key. The record is written before the certificate is
// issued, so that a crash in between reuses the key.
func (p *Platform) createEvidenceKey(dir string) (sealRecord, crypto.Signer, error) {
	rec := sealRecord{Version: 1}
	var signer crypto.Signer
	if km := p.cfg.KeyManager; km != nil {
		name := p.cfg.EvidenceKeyName
		if name == "" {
			name = p.cfg.HolderKeyName(defaultEvidenceKeyLabel)
		}
		resp, err := km.CreateKey(&kmsapi.CreateKeyRequest{Name: name, SignatureAlgorithm: kmsapi.ECDSAWithSHA256})
		if err != nil {
			return sealRecord{}, nil, fmt.Errorf("evidence seal: creating key %s: %w", name, err)
		}
		if resp.PrivateKey == nil {
			sreq := resp.CreateSignerRequest
			if sreq.Signer == nil && sreq.SigningKey == "" && len(sreq.SigningKeyPEM) == 0 {
				sreq.SigningKey = resp.Name
			}
			if signer, err = km.CreateSigner(&sreq); err != nil {
				return sealRecord{}, nil, fmt.Errorf("evidence seal: opening key %s: %w", resp.Name, err)
			}
			rec.KeyName = resp.Name
		} else {
			// A software key manager keeps nothing: the key is ours to keep.
			s, ok := resp.PrivateKey.(crypto.Signer)
			if !ok {
				return sealRecord{}, nil, fmt.Errorf("evidence seal: key manager returned a %T", resp.PrivateKey)
			}
			signer = s
		}
	}
	if signer == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return sealRecord{}, nil, fmt.Errorf("evidence seal: %w", err)
		}
		signer = k
	}
	if rec.KeyName == "" {
		der, err := x509.MarshalPKCS8PrivateKey(signer)
		if err != nil {
			return sealRecord{}, nil, fmt.Errorf("evidence seal: encoding the key: %w", err)
		}
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		clear(der)
		err = writeFile0600(filepath.Join(dir, evidenceKeyFile), pemKey)
		clear(pemKey)
		if err != nil {
			return sealRecord{}, nil, err
		}
		rec.KeyFile = evidenceKeyFile
	}
	if err := writeSealRecord(dir, rec); err != nil {
		return sealRecord{}, nil, err
	}
	return rec, signer, nil
}

// writeSealRecord replaces seal.json.
func writeSealRecord(dir string, rec sealRecord) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("evidence seal: %w", err)
	}
	return writeFile0600(filepath.Join(dir, evidenceSealFile), b)
}

// writeFile0600 writes path atomically, mode 0600.
func writeFile0600(path string, data []byte) error {
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("evidence seal: %w", err)
	}
	return nil
}

// publicKeyEqual reports whether two public keys are the same.
func publicKeyEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// organization is the O of the platform's certificates.
func (p *Platform) organization() string {
	if p.cfg.Organization == "" {
		return "registra"
	}
	return p.cfg.Organization
}
