package envelope

import (
	"bytes"
	"strings"
)

// payloadHeader opens the text a holder sees after decrypting a .p7m with
// any CMS tool.
const payloadHeader = "# Codici di attivazione / Activation codes\n"

// maxPayload bounds the payload Open accepts: a code set is a few hundred
// bytes.
const maxPayload = 64 << 10

// marshalPayload encodes the codes as the text inside an envelope: a comment
// line, then one "name: code" line per code. It is the one place where codes
// are written in clear, and its output must only ever be encrypted.
func marshalPayload(cs Codes) ([]byte, error) {
	if err := cs.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(payloadHeader)
	for _, c := range cs {
		b.WriteString(string(c.Name))
		b.WriteString(": ")
		b.WriteString(string(c.Code))
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// parsePayload reverses marshalPayload. It accepts CRLF line ends, blank
// lines and '#' comments, and nothing else: any other line makes the whole
// payload malformed, so a caller never gets a partial code set.
func parsePayload(b []byte) (Codes, error) {
	if len(b) > maxPayload {
		return nil, malformed("payload", "too large")
	}
	var out Codes
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, code, ok := strings.Cut(line, ": ")
		if !ok || !validName(name) || !validCode(code) {
			return nil, malformed("payload", "each line must be \"name: code\"")
		}
		if _, dup := out.Get(CodeName(name)); dup {
			return nil, malformed("payload", "a code name appears twice")
		}
		out = append(out, NamedCode{Name: CodeName(name), Code: Code(code)})
	}
	if len(out) == 0 {
		return nil, malformed("payload", "holds no code")
	}
	return out, nil
}
