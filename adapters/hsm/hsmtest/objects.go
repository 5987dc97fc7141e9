package hsmtest

import (
	"bufio"
	"slices"
	"strings"
)

// Object is one object of the token as pkcs11-tool --list-objects prints it.
type Object struct {
	// Class is "Private Key", "Public Key", "Secret Key", "Certificate"…
	Class string
	// Type is the rest of the header line, e.g. "EC" or "AES length 32".
	Type string
	// Label and ID (hexadecimal) are CKA_LABEL and CKA_ID.
	Label, ID string
	// Access lists the flags of the "Access:" line: "sensitive", "always
	// sensitive", "never extractable", "local"…
	Access []string
}

// Has reports whether the Access line lists flag.
func (o Object) Has(flag string) bool { return slices.Contains(o.Access, flag) }

// ParseObjects parses the output of pkcs11-tool --list-objects.
func ParseObjects(out string) []Object {
	var objs []Object
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if class, typ, ok := strings.Cut(line, " Object;"); ok && !strings.HasPrefix(line, " ") {
			objs = append(objs, Object{Class: class, Type: strings.TrimSpace(typ)})
			continue
		}
		if len(objs) == 0 || !strings.HasPrefix(line, " ") {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		o := &objs[len(objs)-1]
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "label":
			o.Label = val
		case "ID":
			o.ID = val
		case "Access":
			for f := range strings.SplitSeq(val, ",") {
				o.Access = append(o.Access, strings.TrimSpace(f))
			}
		}
	}
	return objs
}
