package envelope

import (
	cryptorand "crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// CodeName names one activation code within a [Scheme]. Names are stable wire
// and storage names: they appear in the envelope's payload (`name: code`
// lines) and in vault records.
type CodeName string

// The activation codes the catalogue's products use (Manuale operatore,
// "Remote signature issuance" and "Device signature issuance": the holder
// receives the signature activation codes in the encrypted envelope).
const (
	// SigningPIN authorises signatures with the holder's key.
	SigningPIN CodeName = "signing_pin"
	// PUK unblocks a device whose PIN was entered wrongly too many times.
	PUK CodeName = "puk"
	// EmergencyCode authenticates the holder's own requests to suspend or
	// revoke the certificate.
	EmergencyCode CodeName = "emergency_code"
)

// Alphabets codes are drawn from.
const (
	// Digits is the alphabet of PINs and PUKs, typed on keypads.
	Digits = "0123456789"
	// Unambiguous is upper-case letters and digits without 0/O, 1/I and L,
	// which people misread when copying a code from paper.
	Unambiguous = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
)

// CodeSpec describes how one activation code is made and shown.
type CodeSpec struct {
	// Name is the code's stable name.
	Name CodeName
	// Alphabet is the set of characters the code is drawn from (2 to 256
	// distinct ASCII characters).
	Alphabet string
	// Length is the number of characters (at least 4).
	Length int
	// Verifiable codes are also kept as a slow hash in the vault, so that
	// the platform can check them later (a PIN, an emergency code).
	Verifiable bool
	// LabelIT and LabelEN are the labels shown to the holder.
	LabelIT, LabelEN string
}

// Validate checks the spec's fields.
func (s CodeSpec) Validate() error {
	if !validName(string(s.Name)) {
		return &FieldError{Field: "name", Rule: "must be 1-32 characters from a-z, 0-9 and _"}
	}
	if len(s.Alphabet) < 2 || len(s.Alphabet) > 256 {
		return &FieldError{Field: string(s.Name) + ".alphabet", Rule: "must hold 2 to 256 characters"}
	}
	var seen [256]bool
	for i := 0; i < len(s.Alphabet); i++ {
		c := s.Alphabet[i]
		if c <= ' ' || c > '~' || seen[c] {
			return &FieldError{Field: string(s.Name) + ".alphabet", Rule: "must be distinct printable ASCII characters"}
		}
		seen[c] = true
	}
	if s.Length < 4 || s.Length > 64 {
		return &FieldError{Field: string(s.Name) + ".length", Rule: "must be between 4 and 64"}
	}
	return nil
}

// Scheme is the set of activation codes a product kind of the catalogue
// comes with.
type Scheme struct {
	// Name names the scheme, e.g. "remote_signature".
	Name string
	// Codes lists the codes in the order they are shown to the holder.
	Codes []CodeSpec
}

// RemoteSignature is the scheme of remote (HSM) signature products: a signing
// PIN and an emergency code for suspension and revocation requests.
var RemoteSignature = Scheme{
	Name: "remote_signature",
	Codes: []CodeSpec{
		{Name: SigningPIN, Alphabet: Digits, Length: 8, Verifiable: true,
			LabelIT: "PIN di firma", LabelEN: "Signing PIN"},
		{Name: EmergencyCode, Alphabet: Unambiguous, Length: 12, Verifiable: true,
			LabelIT: "Codice di emergenza (sospensione e revoca)", LabelEN: "Emergency code (suspension and revocation)"},
	},
}

// DeviceSignature is the scheme of signature products on a smart card or
// token: the device PIN, its PUK and an emergency code.
var DeviceSignature = Scheme{
	Name: "device_signature",
	Codes: []CodeSpec{
		{Name: SigningPIN, Alphabet: Digits, Length: 8, Verifiable: true,
			LabelIT: "PIN del dispositivo", LabelEN: "Device PIN"},
		{Name: PUK, Alphabet: Digits, Length: 8,
			LabelIT: "PUK (codice di sblocco)", LabelEN: "PUK (unblocking code)"},
		{Name: EmergencyCode, Alphabet: Unambiguous, Length: 12, Verifiable: true,
			LabelIT: "Codice di emergenza (sospensione e revoca)", LabelEN: "Emergency code (suspension and revocation)"},
	},
}

// Validate checks every code spec and that names are unique.
func (s Scheme) Validate() error {
	if len(s.Codes) == 0 {
		return &FieldError{Field: "codes", Rule: "must list at least one code"}
	}
	seen := make(map[CodeName]bool, len(s.Codes))
	for _, c := range s.Codes {
		if err := c.Validate(); err != nil {
			return err
		}
		if seen[c.Name] {
			return &FieldError{Field: string(c.Name), Rule: "appears twice"}
		}
		seen[c.Name] = true
	}
	return nil
}

// Spec returns the spec of the named code.
func (s Scheme) Spec(name CodeName) (CodeSpec, bool) {
	for _, c := range s.Codes {
		if c.Name == name {
			return c, true
		}
	}
	return CodeSpec{}, false
}

// Generate draws a fresh value for every code of the scheme from r (nil
// means crypto/rand). Each character is uniform over its alphabet: bytes that
// would bias the draw are rejected rather than reduced modulo the alphabet's
// size.
func (s Scheme) Generate(r io.Reader) (Codes, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if r == nil {
		r = cryptorand.Reader
	}
	out := make(Codes, 0, len(s.Codes))
	for _, c := range s.Codes {
		v, err := uniformString(r, c.Alphabet, c.Length)
		if err != nil {
			return nil, fmt.Errorf("envelope: generating %s: %w", c.Name, err)
		}
		out = append(out, NamedCode{Name: c.Name, Code: Code(v)})
	}
	return out, nil
}

// uniformString draws n characters uniformly from alphabet by rejection
// sampling: with k = len(alphabet), a byte b is used only when b < 256 -
// 256%k, the largest multiple of k that fits in a byte, and then maps to
// alphabet[b%k]. Every character therefore has probability exactly 1/k.
func uniformString(r io.Reader, alphabet string, n int) (string, error) {
	k := len(alphabet)
	limit := 256 - 256%k
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+8)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%k])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// NamedCode is one activation code with its name.
type NamedCode struct {
	// Name is the code's name.
	Name CodeName
	// Code is the secret value; it redacts itself when printed.
	Code Code
}

// Codes is an ordered set of activation codes, as shown to the holder. Codes
// print and log only their names.
type Codes []NamedCode

// Get returns the code with the given name.
func (cs Codes) Get(name CodeName) (Code, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c.Code, true
		}
	}
	return "", false
}

// Names returns the names of the codes, in order.
func (cs Codes) Names() []CodeName {
	out := make([]CodeName, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// LogValue lists the names only.
func (cs Codes) LogValue() slog.Value {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = string(c.Name)
	}
	return slog.StringValue(strings.Join(names, ","))
}

// Validate checks that names are well formed and unique and that every code
// is a non-empty run of printable ASCII without spaces or colons.
func (cs Codes) Validate() error {
	if len(cs) == 0 {
		return &FieldError{Field: "codes", Rule: "must hold at least one code"}
	}
	seen := make(map[CodeName]bool, len(cs))
	for _, c := range cs {
		if !validName(string(c.Name)) {
			return &FieldError{Field: "codes", Rule: "names must be 1-32 characters from a-z, 0-9 and _"}
		}
		if seen[c.Name] {
			return &FieldError{Field: string(c.Name), Rule: "appears twice"}
		}
		seen[c.Name] = true
		if !validCode(string(c.Code)) {
			return &FieldError{Field: string(c.Name), Rule: "must be 1-64 printable ASCII characters without spaces or colons"}
		}
	}
	return nil
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validCode(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// Verifiable returns the names of the codes whose spec is Verifiable: the
// codes a [Vault] also keeps as slow hashes.
func (s Scheme) Verifiable() []CodeName {
	var out []CodeName
	for _, c := range s.Codes {
		if c.Verifiable {
			out = append(out, c.Name)
		}
	}
	return out
}
