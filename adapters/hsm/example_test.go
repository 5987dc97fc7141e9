package hsm_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/adapters/hsm"
)

// A server configuration names the module, the token and where the PIN is;
// Validate names every bad field.
func ExampleConfig_Validate() {
	cfg := hsm.Config{
		ModulePath:  "libsofthsm2.so",
		TokenLabel:  "registra",
		PINEnv:      "REGISTRA_HSM_PIN",
		MaxSessions: 1,
	}
	err := cfg.Validate()
	fmt.Println(errors.Is(err, hsm.ErrInvalidInput))
	fmt.Println(err)
	// Output:
	// true
	// hsm: ModulePath: must be an absolute path
	// hsm: MaxSessions: zero (default) or at least 2
}

// Key names are RFC 7512 URIs; the canonical form percent-encodes every id
// byte.
func ExampleParseKeyName() {
	k, err := hsm.ParseKeyName("pkcs11:object=holder%20RSSMRA80A01H501U;id=%0A%0B;type=private")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("label %q, id % x\n", k.Object, k.ID)
	fmt.Println(k)
	// Output:
	// label "holder RSSMRA80A01H501U", id 0a 0b
	// pkcs11:object=holder%20RSSMRA80A01H501U;id=%0A%0B
}

// A server opens its token once, at startup, and hands the Token to the
// building blocks as their key manager. (Not run: it needs a token.)
func ExampleOpen() {
	cfg, err := hsm.ParseConfigURI("pkcs11:token=registra?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/etc/registra/hsm.pin")
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := hsm.Open(context.Background(), cfg)
	if err != nil {
		// errors.Is(err, hsm.ErrWrongPIN), hsm.ErrUnknownToken, hsm.ErrModule…
		fmt.Println(err)
		return
	}
	defer tok.Close()

	// A holder's remote-signature key, generated in the token.
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=holder-42", SignatureAlgorithm: apiv1.ECDSAWithSHA256})
	if err != nil {
		fmt.Println(err)
		return
	}
	signer, err := tok.CreateSigner(&apiv1.CreateSignerRequest{SigningKey: resp.Name}) // resp.Name is what to store
	if err != nil {
		fmt.Println(err)
		return
	}
	digest := sha256.Sum256([]byte("document"))
	if _, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256); errors.Is(err, hsm.ErrTokenGone) {
		fmt.Println("nothing was signed:", err)
	}

	// Revocation destroys the holder key.
	if err := tok.DeleteKey(&apiv1.DeleteKeyRequest{Name: resp.Name}); err != nil {
		fmt.Println(err)
	}
}
