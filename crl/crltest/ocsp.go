package crltest

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"
)

// OCSPRequest builds a DER OCSPRequest for serial under issuer, hashing
// with h, with an RFC 8954 nonce extension when nonce is not nil (the
// shape openssl ocsp sends: an OCTET STRING inside extnValue).
func OCSPRequest(t testing.TB, serial *big.Int, issuer *x509.Certificate, h crypto.Hash, nonce []byte) []byte {
	t.Helper()
	// Let x/crypto compute the CertID hashes, then re-encode with the
	// extension appended to tbsRequest.
	der, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: serial, Issuer: issuer.Subject, RawIssuer: issuer.RawSubject}, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	if nonce == nil {
		return der
	}
	in := cryptobyte.String(der)
	var req, tbs cryptobyte.String
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !req.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		t.Fatal("crltest: cannot re-read the request")
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(tbs)
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2})
						b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1OctetString(nonce) })
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// ResponseNonce returns the nonce carried in the responseExtensions of a
// DER OCSPResponse (nil when absent), and the number of singleExtensions of
// its first SingleResponse, read with cryptobyte independently of the
// responder's encoder.
func ResponseNonce(t testing.TB, der []byte) (nonce []byte, singleExtensions int) {
	t.Helper()
	fail := func(what string) { t.Fatalf("crltest: response: %s", what) }
	in := cryptobyte.String(der)
	var resp, rb, rbSeq, basicOctets, basic, tbs, responses, single cryptobyte.String
	var status int
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1Enum(&status) {
		fail("not an OCSPResponse")
	}
	if !resp.ReadASN1(&rb, cbasn1.Tag(0).Constructed().ContextSpecific()) || !rb.ReadASN1(&rbSeq, cbasn1.SEQUENCE) ||
		!rbSeq.SkipASN1(cbasn1.OBJECT_IDENTIFIER) || !rbSeq.ReadASN1(&basicOctets, cbasn1.OCTET_STRING) ||
		!basicOctets.ReadASN1(&basic, cbasn1.SEQUENCE) || !basic.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		fail("no BasicOCSPResponse")
	}
	var responderID cryptobyte.String
	var idTag cbasn1.Tag
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.ReadAnyASN1(&responderID, &idTag) ||
		!tbs.SkipASN1(cbasn1.GeneralizedTime) || !tbs.ReadASN1(&responses, cbasn1.SEQUENCE) || !responses.ReadASN1(&single, cbasn1.SEQUENCE) {
		fail("malformed ResponseData")
	}
	// SingleResponse: certID, certStatus, thisUpdate, [0] nextUpdate, [1] singleExtensions.
	var tag cbasn1.Tag
	var skip cryptobyte.String
	if !single.SkipASN1(cbasn1.SEQUENCE) || !single.ReadAnyASN1(&skip, &tag) || !single.SkipASN1(cbasn1.GeneralizedTime) ||
		!single.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		fail("malformed SingleResponse")
	}
	var se, seSeq cryptobyte.String
	var present bool
	if !single.ReadOptionalASN1(&se, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		fail("malformed singleExtensions")
	}
	if present && se.ReadASN1(&seSeq, cbasn1.SEQUENCE) {
		for !seSeq.Empty() && seSeq.SkipASN1(cbasn1.SEQUENCE) {
			singleExtensions++
		}
	}
	var re, exts cryptobyte.String
	if !tbs.ReadOptionalASN1(&re, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		fail("malformed responseExtensions")
	}
	if !present {
		return nil, singleExtensions
	}
	if !re.ReadASN1(&exts, cbasn1.SEQUENCE) {
		fail("malformed responseExtensions")
	}
	for !exts.Empty() {
		var ext cryptobyte.String
		var oid asn1.ObjectIdentifier
		var value, inner []byte
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) {
			fail("malformed extension")
		}
		var critical bool
		if !ext.ReadOptionalASN1Boolean(&critical, cbasn1.BOOLEAN, false) || !ext.ReadASN1Bytes(&value, cbasn1.OCTET_STRING) {
			fail("malformed extension")
		}
		if oid.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}) {
			v := cryptobyte.String(value)
			if v.ReadASN1Bytes(&inner, cbasn1.OCTET_STRING) && v.Empty() {
				return inner, singleExtensions
			}
			return value, singleExtensions
		}
	}
	return nil, singleExtensions
}
