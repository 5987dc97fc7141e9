package ca

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// marshalSubject encodes a subject name exactly as x509.CreateCertificate
// does (asn1.Marshal of Name.ToRDNSequence), without reflection: each string
// value is a PrintableString when every character is in the
// PrintableString alphabet (without '*' and '&'), a UTF8String otherwise;
// an asn1.RawValue is written as encoding/asn1 writes it; the values of a
// multi-valued RDN are sorted as DER sorts a SET OF. Other value types, and
// strings that are not valid UTF-8, are left to encoding/asn1 itself.
// TestMarshalSubjectMatchesEncodingASN1 compares the two.
func marshalSubject(name pkix.Name) ([]byte, error) {
	rdns := name.ToRDNSequence()
	if der, ok := marshalRDNs(rdns); ok {
		return der, nil
	}
	return asn1.Marshal(rdns)
}

func marshalRDNs(rdns pkix.RDNSequence) ([]byte, bool) {
	var b cryptobyte.Builder
	ok := true
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, rdn := range rdns {
			atvs := make([][]byte, 0, len(rdn))
			for _, atv := range rdn {
				der, good := marshalATV(atv)
				if !good {
					ok = false
					return
				}
				atvs = append(atvs, der)
			}
			slices.SortFunc(atvs, bytes.Compare)
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, der := range atvs {
					b.AddBytes(der)
				}
			})
		}
	})
	if !ok {
		return nil, false
	}
	der, err := b.Bytes()
	return der, err == nil
}

func marshalATV(atv pkix.AttributeTypeAndValue) ([]byte, bool) {
	var b cryptobyte.Builder
	ok := true
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(atv.Type)
		switch v := atv.Value.(type) {
		case string:
			if !utf8.ValidString(v) {
				ok = false
				return
			}
			tag := cbasn1.PrintableString
			for i := 0; i < len(v); i++ {
				if !isPrintableStringByte(v[i]) {
					tag = cbasn1.UTF8String
					break
				}
			}
			b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(v)) })
		case asn1.RawValue:
			if len(v.FullBytes) > 0 {
				b.AddBytes(v.FullBytes)
				return
			}
			if v.Tag >= 31 || v.Class > 3 {
				ok = false
				return
			}
			t := cbasn1.Tag(v.Tag) | cbasn1.Tag(v.Class<<6)
			if v.IsCompound {
				t = t.Constructed()
			}
			b.AddASN1(t, func(b *cryptobyte.Builder) { b.AddBytes(v.Bytes) })
		default:
			ok = false
		}
	})
	if !ok {
		return nil, false
	}
	der, err := b.Bytes()
	return der, err == nil
}

// isPrintableStringByte is encoding/asn1's PrintableString alphabet as it
// applies to untyped strings: no '*', no '&' (X.680 §41.4).
func isPrintableStringByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		'\'' <= c && c <= ')' || '+' <= c && c <= '/' ||
		c == ' ' || c == ':' || c == '=' || c == '?'
}
