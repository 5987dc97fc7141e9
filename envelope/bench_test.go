package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// Benchmarks pair each operation with the raw primitive that dominates it.
// The paired benchmarks interleave the two in one loop and report both
// times and their ratio, so that load from other processes weighs on both
// alike; BENCHMARKS.md records the figures.

// paired runs op and raw alternately and reports op-ns, raw-ns and
// op/raw.
func paired(b *testing.B, op, raw func()) {
	var opT, rawT time.Duration
	for b.Loop() {
		t0 := time.Now()
		op()
		t1 := time.Now()
		raw()
		t2 := time.Now()
		opT += t1.Sub(t0)
		rawT += t2.Sub(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(opT.Nanoseconds())/n, "op-ns")
	b.ReportMetric(float64(rawT.Nanoseconds())/n, "raw-ns")
	b.ReportMetric(float64(opT)/float64(rawT), "op/raw")
}

func BenchmarkPairedCMSSealVsPBKDF2(b *testing.B) {
	c, err := NewCMS(CMSConfig{})
	if err != nil {
		b.Fatal(err)
	}
	codes := benchCodes(b)
	salt := make([]byte, 16)
	paired(b, func() {
		if _, err := c.Seal(context.Background(), codes, "RSSMRA85T10A562S"); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := pbkdf2.Key(sha256.New, "RSSMRA85T10A562S", salt, DefaultIterations, 32); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkPairedVaultSealVsArgon2GCM(b *testing.B) {
	v := benchVault(b)
	codes := benchCodes(b)
	p := DefaultHashParams
	salt := make([]byte, 16)
	gcm := rawGCM(b)
	nonce := make([]byte, 12)
	pt := make([]byte, 160)
	paired(b, func() {
		if _, err := v.Seal(context.Background(), "prod-1", codes, DeviceSignature.Verifiable()); err != nil {
			b.Fatal(err)
		}
	}, func() {
		argon2.IDKey([]byte("48213377"), salt, p.Time, p.MemoryKiB, p.Threads, 32)
		argon2.IDKey([]byte("K7QX3MZP9WHT"), salt, p.Time, p.MemoryKiB, p.Threads, 32)
		gcm.Seal(nil, nonce, pt, []byte("prod-1"))
	})
}

func BenchmarkPairedVaultOpenVsGCM(b *testing.B) {
	v := benchVault(b)
	rec, err := v.Seal(context.Background(), "prod-1", benchCodes(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	gcm := rawGCM(b)
	nonce := make([]byte, 12)
	ct := gcm.Seal(nil, nonce, make([]byte, len(rec.Ciphertext)-16), nil)
	paired(b, func() {
		if _, err := v.Open(context.Background(), "prod-1", rec); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := gcm.Open(nil, nonce, ct, nil); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkPairedGenerateVsRandRead(b *testing.B) {
	bufs := [][]byte{make([]byte, 20), make([]byte, 20), make([]byte, 26)}
	paired(b, func() {
		if _, err := DeviceSignature.Generate(nil); err != nil {
			b.Fatal(err)
		}
	}, func() {
		for _, buf := range bufs {
			if _, err := cryptorand.Read(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchCodes(b *testing.B) Codes {
	codes, err := DeviceSignature.Generate(nil)
	if err != nil {
		b.Fatal(err)
	}
	return codes
}

func BenchmarkCMSOpen(b *testing.B) {
	c, err := NewCMS(CMSConfig{})
	if err != nil {
		b.Fatal(err)
	}
	e, err := c.Seal(context.Background(), benchCodes(b), "RSSMRA85T10A562S")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Open(context.Background(), e, "RSSMRA85T10A562S"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPDFSeal(b *testing.B) {
	p, err := NewPDF(PDFConfig{})
	if err != nil {
		b.Fatal(err)
	}
	codes := benchCodes(b)
	for b.Loop() {
		if _, err := p.Seal(context.Background(), codes, "RSSMRA85T10A562S"); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVault(b *testing.B) *Vault {
	k, err := OpenKeyFile(KeyFileConfig{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewVault(VaultConfig{KEK: k})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func rawGCM(b *testing.B) cipher.AEAD {
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return gcm
}
