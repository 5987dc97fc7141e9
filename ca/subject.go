package ca

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"
	"unicode/utf8"
)

// marshalSubject encodes a subject name exactly as x509.CreateCertificate
// does (asn1.Marshal of Name.ToRDNSequence), without reflection and with a
// handful of allocations: each string
// value is a PrintableString when every character is in the
// PrintableString alphabet (without '*' and '&'), a UTF8String otherwise;
// an asn1.RawValue is written as encoding/asn1 writes it; the values of a
// multi-valued RDN are sorted as DER sorts a SET OF. Other value types, and
// strings that are not valid UTF-8, are left to encoding/asn1 itself.
// TestMarshalSubjectMatchesEncodingASN1 compares the two.
func marshalSubject(name pkix.Name) ([]byte, error) {
	return marshalRDNSequence(name.ToRDNSequence())
}

// marshalRDNSequence is marshalSubject of a name already turned into its
// RDNSequence.
func marshalRDNSequence(rdns pkix.RDNSequence) ([]byte, error) {
	if der, ok := marshalRDNs(rdns); ok {
		return der, nil
	}
	return asn1.Marshal(rdns)
}

func marshalRDNs(rdns pkix.RDNSequence) ([]byte, bool) {
	body := make([]byte, 0, 64*len(rdns))
	var atvs [][]byte
	for _, rdn := range rdns {
		if len(rdn) == 1 {
			atv, ok := appendATV(nil, rdn[0])
			if !ok {
				return nil, false
			}
			body = appendTLV(body, 0x31, atv) // SET
			continue
		}
		atvs = atvs[:0]
		size := 0
		for _, v := range rdn {
			atv, ok := appendATV(nil, v)
			if !ok {
				return nil, false
			}
			atvs = append(atvs, atv)
			size += len(atv)
		}
		slices.SortFunc(atvs, bytes.Compare)
		set := make([]byte, 0, size)
		for _, atv := range atvs {
			set = append(set, atv...)
		}
		body = appendTLV(body, 0x31, set)
	}
	return appendTLV(make([]byte, 0, len(body)+4), 0x30, body), true // SEQUENCE
}

// appendATV appends the DER AttributeTypeAndValue SEQUENCE of atv.
func appendATV(dst []byte, atv pkix.AttributeTypeAndValue) ([]byte, bool) {
	oid, ok := appendOID(make([]byte, 0, 16), atv.Type)
	if !ok {
		return nil, false
	}
	var value []byte
	switch v := atv.Value.(type) {
	case string:
		if !utf8.ValidString(v) {
			return nil, false
		}
		tag := byte(asn1.TagPrintableString)
		for i := 0; i < len(v); i++ {
			if !isPrintableStringByte(v[i]) {
				tag = asn1.TagUTF8String
				break
			}
		}
		value = appendTLV(make([]byte, 0, len(v)+4), tag, []byte(v))
	case asn1.RawValue:
		if len(v.FullBytes) > 0 {
			value = v.FullBytes
			break
		}
		if v.Tag >= 31 || v.Class < 0 || v.Class > 3 {
			return nil, false
		}
		tag := byte(v.Tag) | byte(v.Class)<<6
		if v.IsCompound {
			tag |= 0x20
		}
		value = appendTLV(nil, tag, v.Bytes)
	default:
		return nil, false
	}
	seq := make([]byte, 0, len(oid)+len(value))
	seq = append(append(seq, oid...), value...)
	return appendTLV(dst, 0x30, seq), true
}

// appendOID appends the DER OBJECT IDENTIFIER of oid, as encoding/asn1
// writes it; ok is false for what encoding/asn1 refuses.
func appendOID(dst []byte, oid asn1.ObjectIdentifier) ([]byte, bool) {
	if len(oid) < 2 || oid[0] < 0 || oid[0] > 2 || oid[1] < 0 || (oid[0] < 2 && oid[1] >= 40) {
		return nil, false
	}
	var content []byte
	content = appendBase128(content, oid[0]*40+oid[1])
	for _, arc := range oid[2:] {
		if arc < 0 {
			return nil, false
		}
		content = appendBase128(content, arc)
	}
	return appendTLV(dst, 0x06, content), true
}

func appendBase128(dst []byte, n int) []byte {
	l := 1
	for i := n; i >= 0x80; i >>= 7 {
		l++
	}
	for i := l - 1; i >= 0; i-- {
		b := byte(n>>(uint(i)*7)) & 0x7f
		if i != 0 {
			b |= 0x80
		}
		dst = append(dst, b)
	}
	return dst
}

// appendTLV appends a DER tag, length and content.
func appendTLV(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	switch n := len(content); {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n < 0x100:
		dst = append(dst, 0x81, byte(n))
	case n < 0x10000:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}

// isPrintableStringByte is encoding/asn1's PrintableString alphabet as it
// applies to untyped strings: no '*', no '&' (X.680 §41.4).
func isPrintableStringByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		'\'' <= c && c <= ')' || '+' <= c && c <= '/' ||
		c == ' ' || c == ':' || c == '=' || c == '?'
}
