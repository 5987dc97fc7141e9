package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
	"io"
)

// The key wrap of RFC 3211 §2.3 (the PWRI-KEK algorithm). It is not the AES
// key wrap of RFC 3394: the content-encryption key is formatted with a
// length byte and a check value, padded to whole cipher blocks (at least
// two), then encrypted twice in CBC mode with the KEK, the second pass
// chained from the last block of the first.

// pwriWrap wraps cek under kek with iv, drawing padding from r.
func pwriWrap(kek cipher.Block, iv, cek []byte, r io.Reader) ([]byte, error) {
	bs := kek.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("envelope: key wrap: IV must be %d bytes", bs)
	}
	if len(cek) < 3 || len(cek) > 255 {
		return nil, fmt.Errorf("envelope: key wrap: key length %d out of range", len(cek))
	}
	// RFC 3211 §2.3.1: LEN || check || key || padding, a multiple of the
	// block size and at least two blocks.
	n := (len(cek) + 4 + bs - 1) / bs * bs
	n = max(n, 2*bs)
	buf := make([]byte, n)
	buf[0] = byte(len(cek))
	buf[1], buf[2], buf[3] = ^cek[0], ^cek[1], ^cek[2]
	copy(buf[4:], cek)
	if _, err := io.ReadFull(r, buf[4+len(cek):]); err != nil {
		return nil, fmt.Errorf("envelope: key wrap: reading random bytes: %w", err)
	}
	cipher.NewCBCEncrypter(kek, iv).CryptBlocks(buf, buf)
	iv2 := make([]byte, bs)
	copy(iv2, buf[n-bs:])
	cipher.NewCBCEncrypter(kek, iv2).CryptBlocks(buf, buf)
	return buf, nil
}

// pwriUnwrap reverses pwriWrap (RFC 3211 §2.3.2). A check value that does
// not match means the KEK, hence the passphrase, is wrong.
func pwriUnwrap(kek cipher.Block, iv, wrapped []byte) ([]byte, error) {
	bs := kek.BlockSize()
	n := len(wrapped)
	if n < 2*bs || n%bs != 0 || len(iv) != bs {
		return nil, malformed("cms: encrypted key", "must be at least two whole blocks")
	}
	buf := make([]byte, n)
	copy(buf, wrapped)
	// 1. Decrypt the last block with the one before it as IV: that yields
	//    the last block of the inner (first-pass) ciphertext.
	cipher.NewCBCDecrypter(kek, wrapped[n-2*bs:n-bs]).CryptBlocks(buf[n-bs:], wrapped[n-bs:])
	// 2. With it as IV, decrypt blocks 1..n-1: the outer layer is gone.
	innerLast := make([]byte, bs)
	copy(innerLast, buf[n-bs:])
	cipher.NewCBCDecrypter(kek, innerLast).CryptBlocks(buf[:n-bs], wrapped[:n-bs])
	// 3. Decrypt the inner layer with the original IV.
	cipher.NewCBCDecrypter(kek, iv).CryptBlocks(buf, buf)

	l := int(buf[0])
	check := []byte{^buf[1], ^buf[2], ^buf[3]}
	if l < 3 || l > n-4 || subtle.ConstantTimeCompare(check, buf[4:7]) != 1 {
		return nil, ErrWrongPassphrase
	}
	return buf[4 : 4+l], nil
}

// aesBlock returns an AES block cipher, with errors in this package's terms.
func aesBlock(key []byte) (cipher.Block, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return b, nil
}
