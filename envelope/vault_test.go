package envelope

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testHash keeps Argon2id cheap in tests; the parameters are stored in the
// record, so verification uses them too.
var testHash = HashParams{Time: 1, MemoryKiB: 64, Threads: 1}

func newTestVault(t *testing.T) (*Vault, *KeyFile) {
	t.Helper()
	k, err := OpenKeyFile(KeyFileConfig{Dir: t.TempDir()})
	require.NoError(t, err)
	v, err := NewVault(VaultConfig{KEK: k, Hash: testHash})
	require.NoError(t, err)
	return v, k
}

var testCodes = Codes{{SigningPIN, "48213377"}, {PUK, "90125566"}, {EmergencyCode, "K7QX3MZP9WHT"}}

func TestVaultRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v, _ := newTestVault(t)
	rec, err := v.Seal(ctx, "prod-1", testCodes, DeviceSignature.Verifiable())
	require.NoError(t, err)

	b, err := rec.MarshalBinary()
	require.NoError(t, err)
	parsed, err := ParseRecord(b)
	require.NoError(t, err)

	got, err := v.Open(ctx, "prod-1", parsed)
	require.NoError(t, err)
	assert.Equal(t, testCodes, got)

	// Resend: the same codes, sealed again, open to the same values.
	rec2, err := v.Seal(ctx, "prod-1", got, DeviceSignature.Verifiable())
	require.NoError(t, err)
	assert.NotEqual(t, rec.Nonce, rec2.Nonce)
	got2, err := v.Open(ctx, "prod-1", rec2)
	require.NoError(t, err)
	assert.Equal(t, testCodes, got2)
}

func TestVaultVerify(t *testing.T) {
	t.Parallel()
	v, _ := newTestVault(t)
	rec, err := v.Seal(context.Background(), "prod-1", testCodes, []CodeName{SigningPIN, EmergencyCode})
	require.NoError(t, err)
	tests := []struct {
		name    string
		code    CodeName
		value   Code
		wantErr error
	}{
		{"pin matches", SigningPIN, "48213377", nil},
		{"emergency matches", EmergencyCode, "K7QX3MZP9WHT", nil},
		{"pin differs", SigningPIN, "48213378", ErrMismatch},
		{"empty", SigningPIN, "", ErrMismatch},
		{"puk is not hashed", PUK, "90125566", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := rec.Verify(tc.code, tc.value)
			if tc.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.wantErr)
			assert.NotContains(t, err.Error(), string(tc.value)+"x")
		})
	}
}

func TestVaultBindsProductAndKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v, _ := newTestVault(t)
	other, _ := newTestVault(t)
	rec, err := v.Seal(ctx, "prod-1", testCodes, nil)
	require.NoError(t, err)

	_, err = v.Open(ctx, "prod-2", rec)
	assert.ErrorIs(t, err, ErrIntegrity)

	moved := *rec
	moved.ProductID = "prod-2"
	_, err = v.Open(ctx, "prod-2", &moved)
	assert.ErrorIs(t, err, ErrIntegrity, "AAD must bind the product")

	_, err = other.Open(ctx, "prod-1", rec)
	assert.ErrorIs(t, err, ErrIntegrity, "another key")

	forged := *rec
	forged.KeyID = other.kek.KeyID()
	_, err = other.Open(ctx, "prod-1", &forged)
	assert.ErrorIs(t, err, ErrIntegrity, "another key under a forged id")

	flipped := *rec
	flipped.Ciphertext = bytes.Clone(rec.Ciphertext)
	flipped.Ciphertext[0] ^= 1
	_, err = v.Open(ctx, "prod-1", &flipped)
	assert.ErrorIs(t, err, ErrIntegrity)
}

func TestVaultSealBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	v, _ := newTestVault(t)
	in := Codes{{SigningPIN, "1234"}}
	before := append(Codes(nil), in...)
	tests := []struct {
		name       string
		product    string
		codes      Codes
		verifiable []CodeName
	}{
		{"no product", "", in, nil},
		{"no codes", "p", nil, nil},
		{"bad code", "p", Codes{{SigningPIN, "12 34"}}, nil},
		{"unknown verifiable", "p", in, []CodeName{PUK}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, err := v.Seal(context.Background(), tc.product, tc.codes, tc.verifiable)
			assert.ErrorIs(t, err, ErrInvalidInput)
			assert.Nil(t, rec)
		})
	}
	assert.Equal(t, before, in)
}

// hsmLikeKEK stands in for the HSM adapter: AES-GCM computed elsewhere,
// with its own error on a failed authentication.
type hsmLikeKEK struct{ aead cipher.AEAD }

var errHSMDecrypt = fmt.Errorf("hsm: decrypt: %w", ErrIntegrity)

func (k hsmLikeKEK) KeyID() string { return "pkcs11:object=kek" }

func (k hsmLikeKEK) Seal(ctx context.Context, plaintext, ad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plaintext, ad), nil
}

func (k hsmLikeKEK) Open(ctx context.Context, sealed, ad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errHSMDecrypt
	}
	pt, err := k.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, errHSMDecrypt
	}
	return pt, nil
}

func TestVaultWithAnotherKEK(t *testing.T) {
	t.Parallel()
	block, err := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	v, err := NewVault(VaultConfig{KEK: hsmLikeKEK{aead}, Hash: testHash})
	require.NoError(t, err)
	rec, err := v.Seal(context.Background(), "p", testCodes, nil)
	require.NoError(t, err)
	assert.Equal(t, "pkcs11:object=kek", rec.KeyID)
	got, err := v.Open(context.Background(), "p", rec)
	require.NoError(t, err)
	assert.Equal(t, testCodes, got)

	tampered := *rec
	tampered.Ciphertext = bytes.Clone(rec.Ciphertext)
	tampered.Ciphertext[0] ^= 1
	_, err = v.Open(context.Background(), "p", &tampered)
	assert.ErrorIs(t, err, ErrIntegrity, "the KEK's own authentication error reaches the caller")
	assert.ErrorIs(t, err, errHSMDecrypt)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Seal(ctx, "p", testCodes, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNewVaultValidate(t *testing.T) {
	t.Parallel()
	_, err := NewVault(VaultConfig{})
	assert.EqualError(t, err, "envelope: kek: is required")
	k, _ := newTestVault(t)
	_, err = NewVault(VaultConfig{KEK: k.kek, Hash: HashParams{Time: 1, MemoryKiB: 1, Threads: 1}})
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestParseRecordRejects(t *testing.T) {
	t.Parallel()
	v, _ := newTestVault(t)
	rec, err := v.Seal(context.Background(), "p", testCodes, []CodeName{SigningPIN})
	require.NoError(t, err)
	mut := func(f func(*Record)) []byte {
		r := *rec
		r.Hashes = append([]CodeHash(nil), rec.Hashes...)
		f(&r)
		b, err := jsonMarshalUnchecked(&r)
		require.NoError(t, err)
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"not json", []byte("{"), ErrMalformed},
		{"version", mut(func(r *Record) { r.Version = 2 }), ErrUnsupported},
		{"nonce", mut(func(r *Record) { r.Nonce = r.Nonce[:4] }), ErrMalformed},
		{"no product", mut(func(r *Record) { r.ProductID = "" }), ErrMalformed},
		{"huge memory", mut(func(r *Record) { r.Hashes[0].Params.MemoryKiB = 1 << 30 }), ErrUnsupported},
		{"short salt", mut(func(r *Record) { r.Hashes[0].Salt = []byte{1} }), ErrMalformed},
		{"too large", bytes.Repeat([]byte(" "), maxRecord+1), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseRecord(tc.in)
			assert.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, r)
		})
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "keys")
	k1, err := OpenKeyFile(KeyFileConfig{Dir: dir})
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dir, KeyFileName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, int64(32), st.Size())
	dst, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dst.Mode().Perm())

	k2, err := OpenKeyFile(KeyFileConfig{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, k1.KeyID(), k2.KeyID(), "reopening loads the same key")
	assert.Regexp(t, `^file:[0-9a-f]{16}$`, k1.KeyID())

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestKeyFileConcurrentCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			k, err := OpenKeyFile(KeyFileConfig{Dir: dir})
			if assert.NoError(t, err) {
				ids[i] = k.KeyID()
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
}

func TestKeyFileRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		mode  os.FileMode
		data  []byte
		field string
	}{
		{"group readable", 0o640, bytes.Repeat([]byte{1}, 32), "key_file"},
		{"too short", 0o600, bytes.Repeat([]byte{1}, 31), "key_file"},
		{"too long", 0o600, bytes.Repeat([]byte{1}, 33), "key_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, KeyFileName)
			require.NoError(t, os.WriteFile(path, tc.data, tc.mode))
			require.NoError(t, os.Chmod(path, tc.mode))
			_, err := OpenKeyFile(KeyFileConfig{Dir: dir})
			require.ErrorIs(t, err, ErrInvalidInput)
			fe, ok := errors.AsType[*FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.data, after, "a refused key file is left alone")
		})
	}
	_, err := OpenKeyFile(KeyFileConfig{})
	assert.EqualError(t, err, "envelope: dir: is required")
}

// TestWriteFuzzParseRecordSeeds regenerates FuzzParseRecord's seed corpus
// with -update.
func TestWriteFuzzParseRecordSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/fuzz/FuzzParseRecord")
	}
	v, _ := newTestVault(t)
	rec, err := v.Seal(context.Background(), "prod-1", testCodes, []CodeName{SigningPIN, EmergencyCode})
	require.NoError(t, err)
	b, err := rec.MarshalBinary()
	require.NoError(t, err)
	dir := filepath.Join("testdata", "fuzz", "FuzzParseRecord")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, data := range map[string][]byte{
		"record": b, "truncated": b[:len(b)/2], "version-2": bytes.Replace(b, []byte(`"v":1`), []byte(`"v":2`), 1),
		"big-memory": bytes.Replace(b, []byte(`"memory_kib":64`), []byte(`"memory_kib":99999999`), 1),
	} {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
}

// countingGate counts the hashes it lets through, or refuses them all.
type countingGate struct {
	refuse         error
	enters, leaves int
}

func (g *countingGate) Enter(context.Context) error {
	if g.refuse != nil {
		return g.refuse
	}
	g.enters++
	return nil
}

func (g *countingGate) Leave() { g.leaves++ }

// TestVaultGate: Seal makes its slow hashes inside the config's Gate (one
// Enter for all of them, none when no code is verifiable), and a refusal of
// the gate is returned wrapped, with no record.
func TestVaultGate(t *testing.T) {
	t.Parallel()
	k, err := OpenKeyFile(KeyFileConfig{Dir: t.TempDir()})
	require.NoError(t, err)
	g := &countingGate{}
	v, err := NewVault(VaultConfig{KEK: k, Hash: testHash, Gate: g})
	require.NoError(t, err)

	rec, err := v.Seal(t.Context(), "prod-1", testCodes, DeviceSignature.Verifiable())
	require.NoError(t, err)
	assert.Len(t, rec.Hashes, len(DeviceSignature.Verifiable()))
	assert.Equal(t, 1, g.enters)
	assert.Equal(t, 1, g.leaves)

	_, err = v.Seal(t.Context(), "prod-2", testCodes, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, g.enters, "nothing to hash, no slot taken")

	full := errors.New("gate full")
	g.refuse = full
	rec, err = v.Seal(t.Context(), "prod-3", testCodes, DeviceSignature.Verifiable())
	require.ErrorIs(t, err, full)
	assert.Nil(t, rec)
	assert.Equal(t, 1, g.leaves)
}
