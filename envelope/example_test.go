package envelope_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/registra-pki/registra/envelope"
)

// ExampleScheme_Generate draws the codes of a remote signature product. A
// seeded stream makes the output reproducible here; production code passes
// nil for crypto/rand.
func ExampleScheme_Generate() {
	codes, err := envelope.RemoteSignature.Generate(rand.NewChaCha8([32]byte{42}))
	if err != nil {
		panic(err)
	}
	for _, c := range codes {
		fmt.Printf("%s: %d characters, printed as %v\n", c.Name, len(c.Code), c.Code)
	}
	// Output:
	// signing_pin: 8 characters, printed as [REDACTED]
	// emergency_code: 12 characters, printed as [REDACTED]
}

// ExamplePassphrasePolicy_Choose turns the RAO's choice into a passphrase.
func ExamplePassphrasePolicy_Choose() {
	var policy envelope.PassphrasePolicy
	p, err := policy.Choose(envelope.PassphraseRequest{TaxCode: " rssmra85t10a562s"})
	fmt.Println(string(p), err)
	_, err = policy.Choose(envelope.PassphraseRequest{Custom: "correct horse battery", Confirm: "correct horse"})
	fmt.Println(err)
	// Output:
	// RSSMRA85T10A562S <nil>
	// envelope: confirm: does not match the passphrase
}

// ExampleCMS seals codes in a .p7m and opens it again.
func ExampleCMS() {
	ctx := context.Background()
	// The zero config uses 600,000 PBKDF2 iterations; the floor keeps the
	// example quick.
	cms, err := envelope.NewCMS(envelope.CMSConfig{Iterations: envelope.MinIterations})
	if err != nil {
		panic(err)
	}
	codes := envelope.Codes{{Name: envelope.SigningPIN, Code: "48213377"}}
	e, err := cms.Seal(ctx, codes, "RSSMRA85T10A562S")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.FileName)
	_, err = cms.Open(ctx, e, "rssmra85t10a562s")
	fmt.Println(err)
	got, err := cms.Open(ctx, e, "RSSMRA85T10A562S")
	fmt.Println(string(got[0].Code), err)
	// Output:
	// codes.p7m
	// envelope: wrong passphrase
	// 48213377 <nil>
}

// ExampleVault keeps codes at rest and checks a PIN without decrypting.
func ExampleVault() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kek")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	kek, err := envelope.OpenKeyFile(envelope.KeyFileConfig{Dir: dir})
	if err != nil {
		panic(err)
	}
	// The zero Hash means DefaultHashParams (Argon2id, 64 MiB); a small
	// cost keeps the example quick.
	v, err := envelope.NewVault(envelope.VaultConfig{KEK: kek, Hash: envelope.HashParams{Time: 1, MemoryKiB: 1024, Threads: 1}})
	if err != nil {
		panic(err)
	}
	codes := envelope.Codes{{Name: envelope.SigningPIN, Code: "48213377"}}
	rec, err := v.Seal(ctx, "prod-42", codes, []envelope.CodeName{envelope.SigningPIN})
	if err != nil {
		panic(err)
	}
	fmt.Println(rec.Verify(envelope.SigningPIN, "48213377"))
	fmt.Println(rec.Verify(envelope.SigningPIN, "00000000"))
	_, err = v.Open(ctx, "prod-43", rec)
	fmt.Println(err)
	// Output:
	// <nil>
	// envelope: vault: code does not match: signing_pin
	// envelope: vault: record does not authenticate: record belongs to another product
}
