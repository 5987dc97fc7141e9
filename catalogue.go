package registra

import (
	"fmt"
	"slices"
	"time"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/recognition"
)

// KeyOrigin says where a product's private key is made.
type KeyOrigin uint8

// Key origins (DESIGN.md "Issuance").
const (
	// KeyRemote: the holder's key is generated through the platform's key
	// manager (the HSM of the remote signature service).
	KeyRemote KeyOrigin = iota + 1
	// KeyDevice: the key is made on the holder's device (smart card or
	// token); the RAO hands in its CSR.
	KeyDevice
)

// String returns the wire name, "remote" or "device".
func (k KeyOrigin) String() string {
	switch k {
	case KeyRemote:
		return "remote"
	case KeyDevice:
		return "device"
	}
	return fmt.Sprintf("KeyOrigin(%d)", uint8(k))
}

// MethodRule says that a product may be requested with a recognition method,
// and which of its options the operator may change for that method.
type MethodRule struct {
	// Method is the recognition method.
	Method recognition.Method
	// DurationEditable lets the operator choose among the product's
	// Durations; otherwise the default applies (Manuale operatore,
	// Offline: "default configurations are set, which are not modifiable
	// (such as certificate duration)"; the other methods: "which are
	// modifiable for particular needs").
	DurationEditable bool
}

// ProductType is one entry of the product catalogue: what is issued, from
// which key, with which activation codes, for which recognition methods.
type ProductType struct {
	// ID is the stable name stored in orders, such as "remote_signature".
	ID string
	// Name is the display name.
	Name string
	// KeyOrigin says where the key is made.
	KeyOrigin KeyOrigin
	// Profile is the ca profile of the (signature) certificate.
	Profile ca.Profile
	// Authentication adds an authentication certificate issued from the
	// same CSR in the same operation (on-device products: "1 operation for
	// 2 certificates").
	Authentication bool
	// Role requires the role data (organisation, its identifier, title).
	Role bool
	// Codes is the activation-code scheme mailed in the envelope; nil
	// means the product has no envelope (one-shot).
	Codes *envelope.Scheme
	// Durations are the validities an operator may choose, in months;
	// DefaultDuration is used when none is chosen. Both zero means the
	// profile's default validity (one-shot: one hour).
	Durations       []int
	DefaultDuration int
	// Methods lists the recognition methods the product may be requested
	// with, and what each lets the operator edit.
	Methods []MethodRule
}

// Rule returns the product's rule for method m, and false when the product
// cannot be requested with m.
func (p ProductType) Rule(m recognition.Method) (MethodRule, bool) {
	i := slices.IndexFunc(p.Methods, func(r MethodRule) bool { return r.Method == m })
	if i < 0 {
		return MethodRule{}, false
	}
	return p.Methods[i], true
}

// validity returns the certificate validity for a chosen duration in months
// (zero: the default) starting at now.
func (p ProductType) validity(months int, now time.Time) time.Duration {
	if months == 0 {
		months = p.DefaultDuration
	}
	if months == 0 {
		return 0
	}
	return now.AddDate(0, months, 0).Sub(now)
}

// Catalogue product IDs of [DefaultCatalogue].
const (
	ProductRemoteSignature     = "remote_signature"
	ProductRemoteSignatureRole = "remote_signature_role"
	ProductRemoteSignatureSPID = "remote_signature_spid"
	ProductDeviceSignature     = "device_signature"
	ProductDeviceSignatureRole = "device_signature_role"
	ProductOneShot             = "one_shot"
)

// DefaultCatalogue returns the catalogue of DESIGN.md: remote qualified
// signature, on-device signature + authentication, one-shot, their role
// variants, and the usage-limited variant for holders recognised by SPID.
// Products recognised by SPID carry a usage limitation, and the operator
// sees only those for SPID (Manuale operatore, "SPID Recognition Product
// Request"); no other product accepts SPID.
func DefaultCatalogue() []ProductType {
	editable := func(offline bool) []MethodRule {
		rules := []MethodRule{
			{Method: recognition.MethodOffline, DurationEditable: false},
			{Method: recognition.MethodLiveID, DurationEditable: true},
			{Method: recognition.MethodVideoID, DurationEditable: true},
			{Method: recognition.MethodSignID, DurationEditable: true},
		}
		if !offline {
			rules = rules[1:]
		}
		return rules
	}
	remote, device := envelope.RemoteSignature, envelope.DeviceSignature
	durations := []int{12, 24, 36}
	return []ProductType{
		{ID: ProductRemoteSignature, Name: "Remote qualified signature", KeyOrigin: KeyRemote,
			Profile: ca.QualifiedNaturalPerson, Codes: &remote, Durations: durations, DefaultDuration: 36,
			Methods: editable(true)},
		{ID: ProductRemoteSignatureRole, Name: "Remote qualified signature with role", KeyOrigin: KeyRemote,
			Profile: ca.Role, Role: true, Codes: &remote, Durations: durations, DefaultDuration: 36,
			Methods: editable(true)},
		{ID: ProductRemoteSignatureSPID, Name: "Remote qualified signature (SPID, usage-limited)", KeyOrigin: KeyRemote,
			Profile: ca.UsageLimited, Codes: &remote, Durations: durations, DefaultDuration: 36,
			Methods: []MethodRule{{Method: recognition.MethodSPID, DurationEditable: true}}},
		{ID: ProductDeviceSignature, Name: "On-device signature and authentication", KeyOrigin: KeyDevice,
			Profile: ca.QualifiedNaturalPerson, Authentication: true, Codes: &device, Durations: durations,
			DefaultDuration: 36, Methods: editable(true)},
		{ID: ProductDeviceSignatureRole, Name: "On-device signature with role and authentication", KeyOrigin: KeyDevice,
			Profile: ca.Role, Role: true, Authentication: true, Codes: &device, Durations: durations,
			DefaultDuration: 36, Methods: editable(true)},
		{ID: ProductOneShot, Name: "One-shot signature", KeyOrigin: KeyRemote, Profile: ca.OneShot,
			Methods: editable(false)},
	}
}

// validateCatalogue checks a catalogue: unique IDs, known key origins,
// methods and durations.
func validateCatalogue(c []ProductType) error {
	seen := map[string]bool{}
	for i, p := range c {
		f := fmt.Sprintf("Config.Catalogue[%d]", i)
		switch {
		case p.ID == "" || len(p.ID) > 64:
			return fieldErr(f+".ID", "must be 1-64 characters")
		case seen[p.ID]:
			return fieldErr(f+".ID", "is repeated")
		case p.KeyOrigin != KeyRemote && p.KeyOrigin != KeyDevice:
			return fieldErr(f+".KeyOrigin", "is unknown")
		case p.Profile.Name == "":
			return fieldErr(f+".Profile", "is required")
		case p.Authentication && p.KeyOrigin != KeyDevice:
			return fieldErr(f+".Authentication", "needs a device key")
		case len(p.Methods) == 0:
			return fieldErr(f+".Methods", "needs at least one method")
		case p.DefaultDuration < 0 || (len(p.Durations) > 0 && !slices.Contains(p.Durations, p.DefaultDuration)):
			return fieldErr(f+".DefaultDuration", "must be one of Durations")
		}
		for j, m := range p.Methods {
			if !m.Method.Valid() {
				return fieldErr(fmt.Sprintf("%s.Methods[%d]", f, j), "unknown method")
			}
		}
		if p.Codes != nil {
			if err := p.Codes.Validate(); err != nil {
				return fmt.Errorf("%s.Codes: %w", f, err)
			}
		}
		seen[p.ID] = true
	}
	return nil
}
