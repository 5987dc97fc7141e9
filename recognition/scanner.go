package recognition

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Scanner scans a file for malware. Scan returns the verdict; an error means
// the file could not be scanned (and must then be treated as not clean).
type Scanner interface {
	Scan(ctx context.Context, r io.Reader) (ScanResult, error)
}

// ScanResult is a scanner's verdict.
type ScanResult struct {
	Clean  bool   // no threat found
	Threat string // the threat's name when not clean
	Engine string // the scanner, e.g. "clamd"
}

// NoScanner is the [Scanner] used when none is configured: it refuses every
// file with [ErrScannerUnavailable], so Sign ID is unavailable rather than
// silently unscanned.
type NoScanner struct{}

// Scan always fails with [ErrScannerUnavailable].
func (NoScanner) Scan(context.Context, io.Reader) (ScanResult, error) {
	return ScanResult{}, fmt.Errorf("recognition: antivirus: no scanner configured: %w", ErrScannerUnavailable)
}

// ClamAVConfig configures [ClamAV].
type ClamAVConfig struct {
	// Network is "unix" or "tcp". Zero means "unix".
	Network string
	// Address is the clamd socket path (LocalSocket) or host:port
	// (TCPSocket). Required.
	Address string
	// Timeout bounds one scan, connection included. Zero means 60 s.
	Timeout time.Duration
	// ChunkSize is the INSTREAM chunk size in bytes. Zero means 64 KiB.
	ChunkSize int
}

// Validate checks the fields and names each bad one.
func (c *ClamAVConfig) Validate() error {
	var fe fieldErrors
	switch c.Network {
	case "", "unix", "tcp":
	default:
		fe.add("network", "must be unix or tcp")
	}
	if c.Address == "" {
		fe.add("address", "is required")
	}
	if c.Timeout < 0 {
		fe.add("timeout", "must not be negative")
	}
	if c.ChunkSize < 0 || c.ChunkSize > 1<<24 {
		fe.add("chunk_size", "must be between 0 and 16 MiB")
	}
	return fe.err()
}

// ClamAV scans through a clamd daemon with the INSTREAM command (clamd(8)):
// "zINSTREAM\0", then chunks each prefixed by its length as a 4-byte
// big-endian integer, then a zero-length chunk; clamd answers "stream: OK"
// or "stream: <name> FOUND".
type ClamAV struct {
	cfg ClamAVConfig
}

var _ Scanner = (*ClamAV)(nil)

// NewClamAV returns a ClamAV scanner; it copies the config and does not
// connect until used.
func NewClamAV(cfg ClamAVConfig) (*ClamAV, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Network == "" {
		cfg.Network = "unix"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = 64 << 10
	}
	return &ClamAV{cfg: cfg}, nil
}

// Ping checks that clamd answers ("zPING\0" → "PONG").
func (c *ClamAV) Ping(ctx context.Context) error {
	reply, err := c.roundTrip(ctx, func(w io.Writer) error {
		_, err := io.WriteString(w, "zPING\x00")
		return err
	})
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("recognition: clamd: unexpected ping reply %q: %w", reply, ErrScannerUnavailable)
	}
	return nil
}

// Scan streams r to clamd and returns its verdict.
func (c *ClamAV) Scan(ctx context.Context, r io.Reader) (ScanResult, error) {
	reply, err := c.roundTrip(ctx, func(w io.Writer) error {
		if _, err := io.WriteString(w, "zINSTREAM\x00"); err != nil {
			return err
		}
		buf := make([]byte, 4+c.cfg.ChunkSize)
		for {
			n, rerr := io.ReadFull(r, buf[4:])
			if n > 0 {
				binary.BigEndian.PutUint32(buf[:4], uint32(n))
				if _, err := w.Write(buf[:4+n]); err != nil {
					return err
				}
			}
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				break
			}
			if rerr != nil {
				return fmt.Errorf("reading the file: %w", rerr)
			}
		}
		_, err := w.Write([]byte{0, 0, 0, 0})
		return err
	})
	if err != nil {
		return ScanResult{}, err
	}
	return ParseClamdReply(reply)
}

// roundTrip sends one command and reads one NUL-terminated reply.
func (c *ClamAV) roundTrip(ctx context.Context, send func(io.Writer) error) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.cfg.Network, c.cfg.Address)
	if err != nil {
		return "", fmt.Errorf("recognition: clamd: %w: %w", ErrScannerUnavailable, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	bw := bufio.NewWriter(conn)
	if err := send(bw); err != nil {
		return "", fmt.Errorf("recognition: clamd: sending: %w: %w", ErrScannerUnavailable, err)
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("recognition: clamd: sending: %w: %w", ErrScannerUnavailable, err)
	}
	reply, err := bufio.NewReader(io.LimitReader(conn, 4096)).ReadString(0)
	if err != nil && !(errors.Is(err, io.EOF) && reply != "") {
		if ctx.Err() != nil {
			return "", fmt.Errorf("recognition: clamd: %w: %w", ErrScannerUnavailable, ctx.Err())
		}
		return "", fmt.Errorf("recognition: clamd: reading reply: %w: %w", ErrScannerUnavailable, err)
	}
	return strings.TrimRight(reply, "\x00\n"), nil
}

// ParseClamdReply interprets a clamd scan reply: "stream: OK" is clean,
// "stream: <name> FOUND" is a threat, "<message> ERROR" (for example "INSTREAM
// size limit exceeded. ERROR") and anything else is an error wrapping
// [ErrScannerUnavailable].
func ParseClamdReply(reply string) (ScanResult, error) {
	reply = strings.TrimRight(reply, "\x00\n")
	res := ScanResult{Engine: "clamd"}
	// A reply may carry a request-number prefix ("1: stream: OK") when
	// IDSESSION is used; the path is "stream" for INSTREAM.
	body, ok := strings.CutPrefix(reply, "stream: ")
	if !ok {
		if i := strings.Index(reply, ": stream: "); i >= 0 {
			body, ok = reply[i+len(": stream: "):], true
		}
	}
	switch {
	case ok && body == "OK":
		res.Clean = true
		return res, nil
	case ok && strings.HasSuffix(body, " FOUND") && len(body) > len(" FOUND"):
		res.Threat = strings.TrimSuffix(body, " FOUND")
		if bytes.ContainsAny([]byte(res.Threat), "\x00\r\n") {
			break
		}
		return res, nil
	}
	return ScanResult{}, fmt.Errorf("recognition: clamd: %q: %w", reply, ErrScannerUnavailable)
}
