package ca_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
)

// attr returns the value of the first subject attribute of type oid, and
// its ASN.1 string tag.
func attr(t *testing.T, c *x509.Certificate, oid asn1.ObjectIdentifier) (string, bool) {
	t.Helper()
	for _, a := range c.Subject.Names {
		if a.Type.Equal(oid) {
			s, ok := a.Value.(string)
			return s, ok
		}
	}
	return "", false
}

func extension(c *x509.Certificate, oid asn1.ObjectIdentifier) (pkix.Extension, bool) {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return e, true
		}
	}
	return pkix.Extension{}, false
}

type policyInfo struct {
	Policy     asn1.ObjectIdentifier
	Qualifiers []struct {
		ID    asn1.ObjectIdentifier
		Value asn1.RawValue
	} `asn1:"optional"`
}

func policies(t *testing.T, c *x509.Certificate) []policyInfo {
	t.Helper()
	e, ok := extension(c, ca.OIDCertificatePolicies)
	if !ok {
		return nil
	}
	assert.False(t, e.Critical)
	var p []policyInfo
	rest, err := asn1.Unmarshal(e.Value, &p)
	require.NoError(t, err)
	require.Empty(t, rest)
	return p
}

var (
	oidCountry    = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSerial     = asn1.ObjectIdentifier{2, 5, 4, 5}
)

func TestProfilesFieldByField(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, time.March, 2, 9, 30, 0, 0, time.UTC)
	iss := catest.NewIssuer(t, catest.WithNow(func() time.Time { return start }))
	h := iss.Hierarchy()

	tests := []struct {
		profile      ca.Profile
		keyUsage     x509.KeyUsage
		extKeyUsage  []x509.ExtKeyUsage
		validity     time.Duration
		qualified    bool
		caPolicy     bool
		userNotice   string
		revocable    bool
		ocspNoCheck  bool
		role         bool
		person       bool
		wantDNSNames []string
	}{
		{profile: ca.QualifiedNaturalPerson, keyUsage: x509.KeyUsageContentCommitment, validity: 3 * 365 * 24 * time.Hour, qualified: true, caPolicy: true, revocable: true, person: true},
		{profile: ca.Role, keyUsage: x509.KeyUsageContentCommitment, validity: 3 * 365 * 24 * time.Hour, qualified: true, caPolicy: true, revocable: true, person: true, role: true},
		{profile: ca.OneShot, keyUsage: x509.KeyUsageContentCommitment, validity: time.Hour, qualified: true, caPolicy: true, revocable: true, person: true},
		{profile: ca.Authentication, keyUsage: x509.KeyUsageDigitalSignature, extKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, validity: 3 * 365 * 24 * time.Hour, caPolicy: true, revocable: true, person: true},
		{profile: ca.UsageLimited, keyUsage: x509.KeyUsageContentCommitment, validity: 3 * 365 * 24 * time.Hour, qualified: true, caPolicy: true, userNotice: ca.SPIDLimitation, revocable: true, person: true},
		{profile: ca.OCSPSigner, keyUsage: x509.KeyUsageDigitalSignature, extKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, validity: 365 * 24 * time.Hour, ocspNoCheck: true},
		{profile: ca.ServerTLS, keyUsage: x509.KeyUsageDigitalSignature, extKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, validity: 397 * 24 * time.Hour, revocable: true, wantDNSNames: []string{"registra.example", "localhost"}},
		{profile: ca.EvidenceSeal, keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, validity: 3 * 365 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.profile.Name, func(t *testing.T) {
			t.Parallel()
			is := catest.Issue(t, iss, tc.profile)
			c := is.Certificate
			assert.Equal(t, tc.profile.Name, is.Profile)
			assert.Equal(t, h.Chain(), is.Chain)

			// Signature and chain.
			assert.NoError(t, c.CheckSignatureFrom(h.Issuing()))
			assert.Equal(t, x509.ECDSAWithSHA256, c.SignatureAlgorithm)
			assert.Equal(t, h.Issuing().RawSubject, c.RawIssuer)
			assert.Equal(t, h.Issuing().SubjectKeyId, c.AuthorityKeyId)
			assert.NotEmpty(t, c.SubjectKeyId)
			assert.Equal(t, 3, c.Version)

			// Serial: positive, 16 octets, top bits fixed so 127 random bits remain.
			assert.Equal(t, 1, c.SerialNumber.Sign())
			assert.Equal(t, 127, c.SerialNumber.BitLen())

			// Validity: from the injected clock, the profile's default.
			assert.Equal(t, start, c.NotBefore)
			assert.Equal(t, start.Add(tc.validity), c.NotAfter)

			// Key usage (critical, as Go always writes it) and EKU.
			assert.Equal(t, tc.keyUsage, c.KeyUsage)
			ku, ok := extension(c, asn1.ObjectIdentifier{2, 5, 29, 15})
			require.True(t, ok)
			assert.True(t, ku.Critical)
			assert.Equal(t, tc.extKeyUsage, c.ExtKeyUsage)
			assert.False(t, c.IsCA)

			// Subject.
			if tc.person {
				assert.Equal(t, "Mario Rossi", c.Subject.CommonName)
				assert.Equal(t, "TINIT-RSSMRA85T10A562S", c.Subject.SerialNumber)
				assert.Equal(t, []string{"IT"}, c.Subject.Country)
				v, _ := attr(t, c, ca.OIDGivenName)
				assert.Equal(t, "Mario", v)
				v, _ = attr(t, c, ca.OIDSurname)
				assert.Equal(t, "Rossi", v)
				v, _ = attr(t, c, ca.OIDDNQualifier)
				assert.Equal(t, "IUT-0000000001", v)
			} else {
				assert.Equal(t, "registra.example", c.Subject.CommonName)
				assert.Equal(t, []string{"Registra Test Trust Service"}, c.Subject.Organization)
				_, has := attr(t, c, ca.OIDGivenName)
				assert.False(t, has)
			}
			if tc.role {
				assert.Equal(t, []string{"Example Partner S.p.A."}, c.Subject.Organization)
				v, _ := attr(t, c, ca.OIDOrganizationIdentifier)
				assert.Equal(t, "VATIT-12345678901", v)
				v, _ = attr(t, c, ca.OIDTitle)
				assert.Equal(t, "Registration Authority Officer", v)
			} else if tc.person {
				assert.Empty(t, c.Subject.Organization)
				_, has := attr(t, c, ca.OIDTitle)
				assert.False(t, has)
			}
			assert.Equal(t, tc.wantDNSNames, c.DNSNames)

			// Policies.
			ps := policies(t, c)
			var want []asn1.ObjectIdentifier
			if tc.caPolicy {
				want = append(want, catest.PolicyOID)
			}
			if tc.qualified {
				want = append(want, ca.OIDQCPNaturalQSCD)
			}
			var got []asn1.ObjectIdentifier
			for _, p := range ps {
				got = append(got, p.Policy)
			}
			assert.Equal(t, want, got)
			if tc.caPolicy {
				q := ps[0].Qualifiers
				require.NotEmpty(t, q)
				assert.Equal(t, ca.OIDPolicyQualifierCPS, q[0].ID)
				assert.Equal(t, asn1.TagIA5String, q[0].Value.Tag)
				assert.Equal(t, catest.BaseURL+"/cps", string(q[0].Value.Bytes))
				if tc.userNotice != "" {
					require.Len(t, q, 2)
					assert.Equal(t, ca.OIDPolicyQualifierUserNotice, q[1].ID)
					var notice struct {
						Text string `asn1:"utf8"`
					}
					_, err := asn1.Unmarshal(q[1].Value.FullBytes, &notice)
					require.NoError(t, err)
					assert.Equal(t, ca.SPIDLimitation, notice.Text)
					assert.Contains(t, notice.Text, "SPID")
				} else {
					assert.Len(t, q, 1)
				}
			}

			// qcStatements.
			qe, hasQC := extension(c, ca.OIDQCStatements)
			assert.Equal(t, tc.qualified, hasQC)
			if tc.qualified {
				assert.False(t, qe.Critical)
				q, err := ca.ParseQCStatements(qe.Value)
				require.NoError(t, err)
				assert.True(t, q.Compliance)
				assert.True(t, q.SSCD)
				assert.Equal(t, 20, q.RetentionYears)
				assert.Equal(t, []asn1.ObjectIdentifier{ca.OIDQcTypeESign}, q.Types)
				assert.Equal(t, []ca.PDSLocation{{URL: catest.BaseURL + "/pds/en.pdf", Language: "en"}, {URL: catest.BaseURL + "/pds/it.pdf", Language: "it"}}, q.PDS)
				assert.Equal(t, ca.OIDSemanticsNatural, q.Semantics)
			}

			// Revocation pointers.
			if tc.revocable {
				assert.Equal(t, []string{"http://crl.registra.example/issuing.crl"}, c.CRLDistributionPoints)
				assert.Equal(t, []string{"http://ocsp.registra.example"}, c.OCSPServer)
			} else {
				assert.Empty(t, c.CRLDistributionPoints)
				assert.Empty(t, c.OCSPServer)
			}
			assert.Equal(t, []string{"http://crl.registra.example/issuing.cer"}, c.IssuingCertificateURL)
			_, nocheck := extension(c, ca.OIDOCSPNoCheck)
			assert.Equal(t, tc.ocspNoCheck, nocheck)
		})
	}
}

// TestSubjectEncoding checks the string types of the subject: C, serialNumber
// and dnQualifier are PrintableString (X.520), names with accents UTF8String.
func TestSubjectEncoding(t *testing.T) {
	t.Parallel()
	iss := catest.NewIssuer(t)
	h := catest.Holder()
	h.GivenName, h.Surname, h.TaxCode = "Niccolò", "D'Angelò", "DNGNCL68R22L219K"
	is, err := iss.Issue(context.Background(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: h, PublicKey: catest.Key(t).Public()})
	require.NoError(t, err)
	var rdns pkix.RDNSequence
	_, err = asn1.Unmarshal(is.Certificate.RawSubject, &rdns)
	require.NoError(t, err)
	tags := map[string]int{}
	// Decode again with raw values to see the string tags.
	type atv struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue
	}
	var seq []asn1.RawValue
	_, err = asn1.Unmarshal(is.Certificate.RawSubject, &seq)
	require.NoError(t, err)
	for _, set := range seq {
		var a []atv
		_, err := asn1.UnmarshalWithParams(set.FullBytes, &a, "set")
		require.NoError(t, err)
		for _, x := range a {
			tags[x.Type.String()] = x.Value.Tag
		}
	}
	assert.Equal(t, asn1.TagPrintableString, tags[oidCountry.String()])
	assert.Equal(t, asn1.TagPrintableString, tags[oidSerial.String()])
	assert.Equal(t, asn1.TagPrintableString, tags[ca.OIDDNQualifier.String()])
	assert.Equal(t, asn1.TagUTF8String, tags[ca.OIDGivenName.String()])
	assert.Equal(t, asn1.TagUTF8String, tags[ca.OIDSurname.String()])
	assert.Equal(t, asn1.TagUTF8String, tags[oidCommonName.String()])
	assert.Equal(t, "Niccolò D'Angelò", is.Certificate.Subject.CommonName)
}

func TestProfileByName(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, p := range ca.Profiles() {
		assert.False(t, names[p.Name], "duplicate %s", p.Name)
		names[p.Name] = true
		got, ok := ca.ProfileByName(p.Name)
		require.True(t, ok)
		assert.Equal(t, p.Name, got.Name)
		assert.NotEmpty(t, p.Citation)
	}
	_, ok := ca.ProfileByName("nope")
	assert.False(t, ok)
}
