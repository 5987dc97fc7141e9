package recognition

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/registra-pki/registra/internal/atomicfile"
)

// FileSender delivers OTPs by writing each to Dir/<mobile>.otp (mode 0600,
// replaced by the next code for the same number): a stand-in for an SMS
// gateway on a development or demonstration platform, where whoever plays
// the applicant reads the file. The code goes to the file only, never to a
// log. Dir must exist.
type FileSender struct {
	Dir string
}

var _ Sender = FileSender{}

// SendOTP writes the code and returns the channel "file". A mobile number
// that could name another path (empty, or with '/', '\' or '.') is
// refused.
func (f FileSender) SendOTP(ctx context.Context, mobile string, code OTPCode) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if strings.ContainsAny(mobile, `/\.`) || mobile == "" {
		return "", fmt.Errorf("recognition: file sender: %q is not a mobile number", mobile)
	}
	if err := atomicfile.Write(filepath.Join(f.Dir, mobile+".otp"), []byte(code.Reveal()+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("recognition: file sender: %w", err)
	}
	return "file", nil
}
