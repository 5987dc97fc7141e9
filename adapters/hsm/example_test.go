package hsm_test

import (
	"errors"
	"fmt"

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
