package lifecycle

import "fmt"

// wireName returns names[i] when i is in range and the name is set, and
// "<kind>(i)" otherwise, the way stringer prints unknown values.
func wireName(kind string, names []string, i int) string {
	if i >= 0 && i < len(names) && names[i] != "" {
		return names[i]
	}
	return fmt.Sprintf("%s(%d)", kind, i)
}

// parseWire returns the index of s in names. The empty name at index 0 of
// enumerations whose zero value means "unset" never matches.
func parseWire(kind string, names []string, s string) (int, error) {
	for i, n := range names {
		if n != "" && n == s {
			return i, nil
		}
	}
	return 0, &FieldError{Field: kind, Rule: fmt.Sprintf("unknown value %q", s)}
}
