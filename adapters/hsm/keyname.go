package hsm

import (
	"net/url"
	"strings"
)

// scheme is the URI scheme of RFC 7512.
const scheme = "pkcs11:"

// Limits on key names. PKCS#11 sets none, but a name is stored with every
// certificate and logged with every operation.
const (
	maxKeyNameLen = 512
	maxObjectLen  = 128
	maxIDLen      = 64
)

// KeyName names a key in a token with the path attributes of a PKCS#11 URI
// (RFC 7512): "object" is the key's CKA_LABEL and "id" its CKA_ID. A name
// without a token attribute refers to the [Token] it is used with; with one,
// the label must match that token.
//
// The id is the percent-encoded bytes of RFC 7512 §2.3. Unlike
// go.step.sm/crypto/kms/uri, which hex-decodes an id that looks hexadecimal,
// "id=0102" means the four bytes "0102" here; the canonical form written by
// [KeyName.String] percent-encodes every id byte ("id=%01%02"), so names
// produced by this package never look hexadecimal.
type KeyName struct {
	// Token is the "token" attribute: a token label, or empty.
	Token string
	// Object is the "object" attribute: the key's CKA_LABEL, or empty.
	Object string
	// ID is the "id" attribute: the key's CKA_ID, or nil.
	ID []byte
}

// ParseKeyName parses a pkcs11: URI naming a key. It accepts the path
// attributes token, object, id and type (private, public or secret-key, which
// all name the same key here) and refuses anything else, a query included:
// a PIN has no place in a key name, which is stored and logged. At least one
// of object and id is required. Errors are *[FieldError] values for the
// field "Name".
func ParseKeyName(s string) (KeyName, error) {
	var k KeyName
	bad := func(rule string) (KeyName, error) {
		return KeyName{}, &FieldError{Field: "Name", Rule: rule}
	}
	if len(s) > maxKeyNameLen {
		return bad("longer than 512 bytes")
	}
	rest, ok := strings.CutPrefix(s, scheme)
	if !ok {
		return bad("must be a pkcs11: URI (RFC 7512)")
	}
	if strings.ContainsAny(rest, "?#") {
		return bad("a key name has no query or fragment (never put a pin in it)")
	}
	seen := map[string]bool{}
	for attr := range strings.SplitSeq(rest, ";") {
		if attr == "" {
			return bad("empty attribute")
		}
		name, raw, ok := strings.Cut(attr, "=")
		if !ok {
			return bad("attribute " + quote(name) + " has no value")
		}
		if seen[name] {
			// RFC 7512 §2.3: an attribute appears at most once.
			return bad("attribute " + quote(name) + " repeated")
		}
		seen[name] = true
		v, err := url.PathUnescape(raw)
		if err != nil {
			return bad("attribute " + quote(name) + ": bad percent-encoding")
		}
		switch name {
		case "token":
			if v == "" || len(v) > maxTokenLabel {
				return bad("token: 1 to 32 bytes")
			}
			k.Token = v
		case "object":
			if v == "" || len(v) > maxObjectLen {
				return bad("object: 1 to 128 bytes")
			}
			k.Object = v
		case "id":
			if v == "" || len(v) > maxIDLen {
				return bad("id: 1 to 64 bytes")
			}
			k.ID = []byte(v)
		case "type":
			switch v {
			case "private", "public", "secret-key":
			default:
				return bad("type: must be private, public or secret-key")
			}
		default:
			return bad("attribute " + quote(name) + " not supported in a key name")
		}
	}
	if k.Object == "" && len(k.ID) == 0 {
		return bad("object or id is required")
	}
	return k, nil
}

// String returns the canonical URI: pkcs11:token=…;object=…;id=%…, omitting
// empty attributes, with every id byte percent-encoded.
func (k KeyName) String() string {
	var b strings.Builder
	b.WriteString(scheme)
	sep := ""
	if k.Token != "" {
		b.WriteString("token=")
		b.WriteString(escape(k.Token))
		sep = ";"
	}
	if k.Object != "" {
		b.WriteString(sep + "object=")
		b.WriteString(escape(k.Object))
		sep = ";"
	}
	if len(k.ID) > 0 {
		b.WriteString(sep + "id=")
		const hexdigits = "0123456789ABCDEF"
		for _, c := range k.ID {
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		}
	}
	return b.String()
}

// escape percent-encodes everything but RFC 3986 unreserved characters.
func escape(s string) string {
	var b strings.Builder
	const hexdigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		}
	}
	return b.String()
}

// quote shortens and quotes an attribute name for an error message.
func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "\uFFFD") + `"`
}
