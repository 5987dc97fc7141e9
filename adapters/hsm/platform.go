package hsm

import "github.com/registra-pki/registra/ca"

// PlatformKeyNames are the names, in a token, of the keys a platform keeps
// there besides the holders' own: the three CA keys and the evidence-sealing
// key. The example server and the registra command both take them from
// [DefaultPlatformKeyNames], so that a token set up by one serves the other.
type PlatformKeyNames struct {
	// CA names the root, issuing and OCSP signer keys.
	CA ca.KeyNames
	// Evidence names the key that seals recognition evidence.
	Evidence string
}

// DefaultPlatformKeyNames returns the key names registra's programs use:
// labels registra-root, registra-issuing, registra-ocsp and
// registra-evidence-seal, each label also the key's CKA_ID.
func DefaultPlatformKeyNames() PlatformKeyNames {
	return PlatformKeyNames{
		CA:       ca.KeyNames{Root: labelled("registra-root"), Issuing: labelled("registra-issuing"), OCSP: labelled("registra-ocsp")},
		Evidence: labelled("registra-evidence-seal"),
	}
}

// HolderKeyName is the name registra's programs give the remote-signature
// key of a product: label holder-<product ID>, the same bytes as its CKA_ID.
func HolderKeyName(productID string) string { return labelled("holder-" + productID) }

// labelled is the pkcs11: URI of a key whose label and id are both name.
func labelled(name string) string { return KeyName{Object: name, ID: []byte(name)}.String() }
