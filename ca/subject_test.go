package ca_test

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/ca"
)

func TestMarshalSubjectMatchesEncodingASN1(t *testing.T) {
	t.Parallel()
	names := []pkix.Name{
		{},
		{CommonName: "Mario Rossi", Country: []string{"IT"}, SerialNumber: "TINIT-RSSMRA85T10A562S"},
		{CommonName: "Niccolò D'Angelò", Organization: []string{"A & B S.p.A."}, Country: []string{"IT", "FR"}},
		{CommonName: "*.example.com", OrganizationalUnit: []string{"x", "a", "bb"}, Locality: []string{""}},
		{CommonName: "日本語", Province: []string{"Lazio"}, StreetAddress: []string{"Via Roma, 1"}, PostalCode: []string{"00100"}},
		{ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: ca.OIDGivenName, Value: "Mario"},
			{Type: ca.OIDSurname, Value: "O'Brien-Smith (jr.)"},
			{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte("a@b.example")}},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: asn1.RawValue{FullBytes: []byte{0x0c, 0x02, 'h', 'i'}}},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 12}, Value: 42}, // not a string: left to encoding/asn1
		}},
	}
	for i, n := range names {
		want, err := asn1.Marshal(n.ToRDNSequence())
		require.NoError(t, err, i)
		got, err := ca.MarshalSubject(n)
		require.NoError(t, err, i)
		assert.Equal(t, want, got, "name %d", i)
	}
	_, wantErr := asn1.Marshal(pkix.Name{CommonName: "\xff"}.ToRDNSequence())
	_, gotErr := ca.MarshalSubject(pkix.Name{CommonName: "\xff"})
	assert.Equal(t, wantErr != nil, gotErr != nil, "invalid UTF-8")
}

func FuzzMarshalSubject(f *testing.F) {
	f.Add("Mario Rossi", "IT", "Niccolò", "A & B *")
	f.Add("", "", "\xff", "=?:/+,-.()'")
	f.Fuzz(func(t *testing.T, cn, c, given, org string) {
		n := pkix.Name{CommonName: cn, Country: []string{c, given}, Organization: []string{org},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: ca.OIDGivenName, Value: given}}}
		want, wantErr := asn1.Marshal(n.ToRDNSequence())
		got, err := ca.MarshalSubject(n)
		if wantErr != nil {
			if err == nil {
				t.Fatalf("encoding/asn1 refuses %q but marshalSubject does not", n)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		assert.Equal(t, want, got)
	})
}
