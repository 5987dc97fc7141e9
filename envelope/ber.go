package envelope

import (
	"bytes"
	"encoding/pem"
)

// BER to DER normalisation. CMS producers that stream (openssl cms
// -stream, S/MIME agents) emit BER: indefinite lengths closed by
// end-of-contents octets, long-form lengths, OCTET STRINGs split into
// constructed chunks (RFC 5652 §1 allows BER for EnvelopedData).
// encoding/asn1 reads DER only, so Open first rewrites the input with
// definite, minimal lengths and primitive universal OCTET STRINGs. Implicitly
// tagged OCTET STRINGs (encryptedContent [0]) stay constructed here, because
// their type is not visible in the encoding; the CMS reader joins them.

const (
	berMaxDepth = 32
	berMaxSize  = 1 << 20
)

// normalizeCMS accepts DER, BER or PEM ("CMS" or "PKCS7" blocks) and returns
// DER.
func normalizeCMS(in []byte) ([]byte, error) {
	if len(in) > berMaxSize {
		return nil, malformed("cms", "larger than 1 MiB")
	}
	if bytes.HasPrefix(bytes.TrimSpace(in), []byte("-----BEGIN")) {
		block, _ := pem.Decode(in)
		if block == nil || (block.Type != "CMS" && block.Type != "PKCS7") {
			return nil, malformed("cms", "PEM input must be one CMS or PKCS7 block")
		}
		in = block.Bytes
	}
	var out bytes.Buffer
	n, err := berCopy(&out, in, 0)
	if err != nil {
		return nil, err
	}
	if n != len(in) {
		return nil, malformed("cms", "trailing data after the content info")
	}
	return out.Bytes(), nil
}

type berHeader struct {
	class, tag  int
	constructed bool
	// raw is the identifier octets, copied unchanged.
	raw []byte
	// length is the content length, or -1 when indefinite.
	length int
	// size is the size of identifier and length octets.
	size int
}

func berReadHeader(in []byte) (berHeader, error) {
	var h berHeader
	if len(in) < 2 {
		return h, malformed("cms", "truncated element")
	}
	b := in[0]
	h.class = int(b >> 6)
	h.constructed = b&0x20 != 0
	h.tag = int(b & 0x1f)
	i := 1
	if h.tag == 0x1f {
		h.tag = 0
		for {
			if i >= len(in) || i > 4 {
				return h, malformed("cms", "bad tag")
			}
			c := in[i]
			i++
			h.tag = h.tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	h.raw = in[:i]
	if i >= len(in) {
		return h, malformed("cms", "truncated length")
	}
	l := in[i]
	i++
	switch {
	case l < 0x80:
		h.length = int(l)
	case l == 0x80:
		if !h.constructed {
			return h, malformed("cms", "indefinite length on a primitive element")
		}
		h.length = -1
	default:
		n := int(l & 0x7f)
		if n > 4 || i+n > len(in) {
			return h, malformed("cms", "bad length")
		}
		h.length = 0
		for _, c := range in[i : i+n] {
			h.length = h.length<<8 | int(c)
		}
		i += n
		if h.length > berMaxSize {
			return h, malformed("cms", "bad length")
		}
	}
	h.size = i
	if h.length >= 0 && h.length > len(in)-i {
		return h, malformed("cms", "truncated element")
	}
	return h, nil
}

// berCopy reads one element from in, writes its DER form to out, and returns
// the number of input bytes consumed.
func berCopy(out *bytes.Buffer, in []byte, depth int) (int, error) {
	if depth > berMaxDepth {
		return 0, malformed("cms", "nested too deeply")
	}
	h, err := berReadHeader(in)
	if err != nil {
		return 0, err
	}
	if !h.constructed {
		writeDER(out, h.raw, in[h.size:h.size+h.length])
		return h.size + h.length, nil
	}
	// Constructed: normalise the children into a buffer, then prefix the
	// definite length.
	var body bytes.Buffer
	pos := h.size
	end := len(in)
	if h.length >= 0 {
		end = h.size + h.length
	}
	for {
		if h.length >= 0 && pos == end {
			break
		}
		if h.length < 0 {
			if pos+2 <= len(in) && in[pos] == 0 && in[pos+1] == 0 {
				pos += 2
				break
			}
			if pos >= len(in) {
				return 0, malformed("cms", "missing end-of-contents")
			}
		}
		n, err := berCopy(&body, in[pos:end], depth+1)
		if err != nil {
			return 0, err
		}
		pos += n
	}
	if h.class == 0 && h.tag == 4 {
		// A constructed universal OCTET STRING: DER wants the joined,
		// primitive form (X.690 §10.2).
		joined, err := joinOctets(body.Bytes())
		if err != nil {
			return 0, err
		}
		writeDER(out, []byte{0x04}, joined)
		return pos, nil
	}
	writeDER(out, h.raw, body.Bytes())
	return pos, nil
}

// joinOctets concatenates the contents of a run of DER OCTET STRING
// elements (primitive, after berCopy), the chunks of a constructed string.
func joinOctets(der []byte) ([]byte, error) {
	var out []byte
	for len(der) > 0 {
		h, err := berReadHeader(der)
		if err != nil {
			return nil, err
		}
		if h.class != 0 || h.tag != 4 || h.constructed || h.length < 0 {
			return nil, malformed("cms", "constructed OCTET STRING holds something else")
		}
		out = append(out, der[h.size:h.size+h.length]...)
		der = der[h.size+h.length:]
	}
	return out, nil
}

func writeDER(out *bytes.Buffer, ident, content []byte) {
	out.Write(ident)
	n := len(content)
	switch {
	case n < 0x80:
		out.WriteByte(byte(n))
	case n < 0x100:
		out.Write([]byte{0x81, byte(n)})
	case n < 0x10000:
		out.Write([]byte{0x82, byte(n >> 8), byte(n)})
	default:
		out.Write([]byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)})
	}
	out.Write(content)
}
