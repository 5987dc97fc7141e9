package ca

import zx509 "github.com/zmap/zcrypto/x509"

// TBSBothWays builds the TBS of req twice with the same serial and validity:
// the long way (x509util template, x509.CreateCertificate) and from the
// profile's skeleton, learnt by the first call, with the subject string of
// each. skeleton is nil when the profile has none (DNSNames profiles).
func TBSBothWays(i *Issuer, req Request) (long, skeleton []byte, longSubject, skeletonSubject string, err error) {
	in, err := i.input(&req)
	if err != nil {
		return nil, nil, "", "", err
	}
	tmpl, long, err := i.buildTBSLong(in)
	if err != nil {
		return nil, nil, "", "", err
	}
	i.learn(in.profile, tmpl, long, in)
	sk := i.skeleton(in.profile)
	if sk == nil {
		return long, nil, tmpl.Subject.String(), "", nil
	}
	_, skeleton, skeletonSubject, err = sk.build(in)
	return long, skeleton, tmpl.Subject.String(), skeletonSubject, err
}

// DerivedParse parses der the way [Linter.CheckCertificate] does once der's
// shape is known: from the shape's base when it can be derived. It reports
// false when der was not derived (no base, or a form the derivation does
// not cover).
func DerivedParse(l *Linter, der []byte) (*zx509.Certificate, bool) {
	key, ok := certificateShape(der)
	if !ok {
		return nil, false
	}
	e := l.shapes.get(key)
	if e == nil || e.base == nil {
		return nil, false
	}
	c := e.base.derive(der)
	return c, c != nil
}

// MarshalSubject is marshalSubject, for tests.
var MarshalSubject = marshalSubject

// MarshalPublicKey is marshalPublicKey, for tests.
var MarshalPublicKey = marshalPublicKey
