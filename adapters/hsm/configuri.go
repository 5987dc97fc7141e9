package hsm

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseConfigURI reads a [Config] from a PKCS#11 URI naming a token (RFC
// 7512), the one-string form a command-line flag or a setting takes:
//
//	pkcs11:token=registra?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/etc/registra/hsm.pin
//	pkcs11:token=registra?module-path=/usr/lib/softhsm/libsofthsm2.so&x-pin-env=REGISTRA_HSM_PIN&x-max-sessions=32&x-pool-wait-timeout=5s
//
// The path holds the token label ("token", required). The query holds
// module-path (required; smallstep's habit of putting it, and max-sessions,
// in the path is accepted too) and where the PIN is: pin-source, a file path
// or file: URI (RFC 7512 §2.4), or x-pin-env, the name of an environment
// variable. pin-value is refused: a PIN in a URI ends up in process listings,
// shell histories and logs. x-max-sessions and x-pool-wait-timeout (a Go
// duration) set the session pool. Other attributes are refused rather than
// ignored. Errors are *[FieldError] values for the field "URI"; the result is
// not validated (Open does it).
func ParseConfigURI(s string) (Config, error) {
	bad := func(rule string) (Config, error) {
		return Config{}, &FieldError{Field: "URI", Rule: rule}
	}
	if len(s) > 4096 {
		return bad("longer than 4096 bytes")
	}
	rest, ok := strings.CutPrefix(s, scheme)
	if !ok {
		return bad("must be a pkcs11: URI (RFC 7512)")
	}
	path, query, _ := strings.Cut(rest, "?")
	if strings.Contains(query, "#") || strings.Contains(path, "#") {
		return bad("no fragment allowed")
	}
	attrs := map[string]string{}
	add := func(part, sep string) (string, bool) {
		if part == "" {
			return "", true
		}
		for attr := range strings.SplitSeq(part, sep) {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok || name == "" {
				return "attribute " + quote(attr) + " has no value", false
			}
			if _, dup := attrs[name]; dup {
				return "attribute " + quote(name) + " repeated", false
			}
			v, err := url.PathUnescape(raw)
			if err != nil {
				return "attribute " + quote(name) + ": bad percent-encoding", false
			}
			attrs[name] = v
		}
		return "", true
	}
	if rule, ok := add(path, ";"); !ok {
		return bad(rule)
	}
	if rule, ok := add(query, "&"); !ok {
		return bad(rule)
	}

	var c Config
	for name, v := range attrs {
		switch name {
		case "token":
			c.TokenLabel = v
		case "module-path":
			c.ModulePath = v
		case "pin-source":
			if p, ok := strings.CutPrefix(v, "file://"); ok {
				v = p
			} else if strings.HasPrefix(v, "file:") {
				return bad("pin-source: a file: URI has the form file:///path")
			}
			c.PINFile = v
		case "x-pin-env":
			c.PINEnv = v
		case "max-sessions", "x-max-sessions":
			n, err := strconv.Atoi(v)
			if err != nil {
				return bad(name + ": not a number")
			}
			c.MaxSessions = n
		case "x-pool-wait-timeout":
			d, err := time.ParseDuration(v)
			if err != nil {
				return bad(name + ": not a duration such as 5s")
			}
			c.PoolWaitTimeout = d
		case "pin-value":
			return bad("pin-value is refused: give the PIN through pin-source (a file) or x-pin-env")
		default:
			return bad("attribute " + quote(name) + " not supported")
		}
	}
	return c, nil
}
