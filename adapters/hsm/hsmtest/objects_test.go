package hsmtest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
)

// pkcs11-tool 0.23 output, trimmed; generated with
// pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label t --login --pin 1234 -O
const listing = `Secret Key Object; AES length 32
  label:      kek
  ID:         03
  Usage:      encrypt, decrypt, verify, wrap, unwrap
  Access:     never extractable, local
Public Key Object; EC  EC_POINT 256 bits
  EC_POINT:   044104a69311aafc02d5fa04d13fff7ba6af3922d9ed2b50742ddb2abdb4db2a9815dbc3232221f4a1f82b2a4ad7ec6f5bcc75c59d3426de767180300a757a98968e97
  EC_PARAMS:  06082a8648ce3d030107
  label:      ca root
  ID:         0102
  Usage:      encrypt, verify, wrap, derive
  Access:     local
Private Key Object; EC
  label:      ca root
  ID:         0102
  Usage:      decrypt, sign, unwrap, derive
  Access:     sensitive, always sensitive, never extractable, local
`

func TestParseObjects(t *testing.T) {
	t.Parallel()
	got := hsmtest.ParseObjects(listing)
	want := []hsmtest.Object{
		{Class: "Secret Key", Type: "AES length 32", Label: "kek", ID: "03", Access: []string{"never extractable", "local"}},
		{Class: "Public Key", Type: "EC  EC_POINT 256 bits", Label: "ca root", ID: "0102", Access: []string{"local"}},
		{Class: "Private Key", Type: "EC", Label: "ca root", ID: "0102", Access: []string{"sensitive", "always sensitive", "never extractable", "local"}},
	}
	assert.Equal(t, want, got)
	assert.True(t, got[2].Has("never extractable"))
	assert.False(t, got[2].Has("extractable"))
	assert.Empty(t, hsmtest.ParseObjects(""))
}

func TestNewTokensAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := hsmtest.New(t), hsmtest.New(t)
	assert.NotEqual(t, a.Label, b.Label)
	assert.NotEqual(t, a.Dir, b.Dir)
	assert.Equal(t, a.Conf, b.Conf, "one SoftHSM2 configuration per process")
	ta, tb := a.Open(t), b.Open(t)
	assert.NoError(t, ta.Check(t.Context()))
	assert.NoError(t, tb.Check(t.Context()))
	assert.Empty(t, a.Objects(t))
}
