package crl_test

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"time"
)

type pkixExtension = pkix.Extension

var oidInvalidityDate = asn1.ObjectIdentifier{2, 5, 29, 24}

func generalizedTime(t time.Time) []byte {
	v, err := asn1.MarshalWithParams(t.UTC().Truncate(time.Second), "generalized")
	if err != nil {
		panic(err)
	}
	return v
}
