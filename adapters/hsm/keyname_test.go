package hsm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/adapters/hsm"
)

func TestParseKeyName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    hsm.KeyName
		canon   string
		wantErr error
	}{
		{name: "object", in: "pkcs11:object=ca-root", want: hsm.KeyName{Object: "ca-root"}, canon: "pkcs11:object=ca-root"},
		{name: "id percent-encoded", in: "pkcs11:id=%01%a2", want: hsm.KeyName{ID: []byte{1, 0xa2}}, canon: "pkcs11:id=%01%A2"},
		{name: "id looking hexadecimal stays bytes", in: "pkcs11:id=0102", want: hsm.KeyName{ID: []byte("0102")}, canon: "pkcs11:id=%30%31%30%32"},
		{name: "all", in: "pkcs11:token=reg%20istra;object=ocsp%20signer;id=%07;type=private",
			want: hsm.KeyName{Token: "reg istra", Object: "ocsp signer", ID: []byte{7}}, canon: "pkcs11:token=reg%20istra;object=ocsp%20signer;id=%07"},
		{name: "RFC 7512 example", in: "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;object=my-certificate;type=public",
			want: hsm.KeyName{Token: "The Software PKCS#11 Softtoken", Object: "my-certificate"}, canon: "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;object=my-certificate"},
		{name: "other scheme", in: "softkms:ca.key", wantErr: hsm.ErrInvalidInput},
		{name: "empty", in: "", wantErr: hsm.ErrInvalidInput},
		{name: "nothing", in: "pkcs11:", wantErr: hsm.ErrInvalidInput},
		{name: "no object or id", in: "pkcs11:token=t", wantErr: hsm.ErrInvalidInput},
		{name: "pin value", in: "pkcs11:object=k?pin-value=1234", wantErr: hsm.ErrInvalidInput},
		{name: "repeated", in: "pkcs11:object=a;object=b", wantErr: hsm.ErrInvalidInput},
		{name: "unknown attribute", in: "pkcs11:object=a;slot-id=1", wantErr: hsm.ErrInvalidInput},
		{name: "certificate type", in: "pkcs11:object=a;type=cert", wantErr: hsm.ErrInvalidInput},
		{name: "bad escape", in: "pkcs11:object=%zz", wantErr: hsm.ErrInvalidInput},
		{name: "empty value", in: "pkcs11:object=", wantErr: hsm.ErrInvalidInput},
		{name: "no value", in: "pkcs11:object", wantErr: hsm.ErrInvalidInput},
		{name: "trailing semicolon", in: "pkcs11:object=a;", wantErr: hsm.ErrInvalidInput},
		{name: "long token", in: "pkcs11:object=a;token=123456789012345678901234567890123", wantErr: hsm.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := hsm.ParseKeyName(tc.in)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, hsm.KeyName{}, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.canon, got.String())
		})
	}
	t.Run("message", func(t *testing.T) {
		_, err := hsm.ParseKeyName("pkcs11:object=k?pin-value=1234")
		assert.EqualError(t, err, "hsm: Name: a key name has no query or fragment (never put a pin in it)")
	})
}

// FuzzParseKeyName checks that whatever parses has a canonical form that
// parses back to the same name. Seeds: testdata/fuzz/FuzzParseKeyName.
func FuzzParseKeyName(f *testing.F) {
	for _, s := range []string{
		"pkcs11:object=ca-root",
		"pkcs11:token=registra;object=holder%20A;id=%01%02;type=private",
		"pkcs11:id=%FF",
		"pkcs11:object=a?pin-value=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := hsm.ParseKeyName(s)
		if err != nil {
			return
		}
		again, err := hsm.ParseKeyName(k.String())
		require.NoError(t, err, "canonical form %q of %q", k.String(), s)
		assert.Equal(t, k, again)
	})
}
