package recognitiontest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/registra-pki/registra/internal/testutil"
)

// EICAR returns the EICAR anti-malware test string, assembled at run time so
// that no file in the repository contains it.
func EICAR() []byte {
	parts := []string{`X5O!P%@AP[4\PZX54(P^)7CC)7}`, `$EICAR-STANDARD-`, `ANTIVIRUS-TEST-FILE!$H+H*`}
	return []byte(strings.Join(parts, ""))
}

// Clamd is a clamd daemon started for one test.
type Clamd struct {
	Socket string // the Unix socket clamd listens on
	Dir    string // its temporary directory
	// Threat is the name clamd reports for the EICAR string (from the
	// signature database built by sigtool).
	Threat string
}

// StartClamd starts a real clamd on a Unix socket in a temporary
// directory, with a signature database built by sigtool that detects the
// EICAR string (no signature download is needed). It waits until clamd
// answers PING and stops it by its pid when the test ends. Without clamd or
// sigtool the test is skipped off CI and fails in CI.
func StartClamd(t testing.TB) *Clamd {
	t.Helper()
	clamdPath := testutil.RequireTool(t, "clamd", "clamav-daemon")
	sigtool := testutil.RequireTool(t, "sigtool", "clamav")
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(dir, "eicar.com")
	if err := os.WriteFile(sample, EICAR(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sigtool, "--md5", "eicar.com")
	cmd.Dir = dir
	hdb, err := cmd.Output()
	if err != nil {
		t.Fatalf("sigtool --md5: %v", err)
	}
	if err := os.WriteFile(filepath.Join(db, "test.hdb"), hdb, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(sample); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "clamd.sock")
	lines := []string{
		"DatabaseDirectory " + db,
		"LocalSocket " + socket,
		"Foreground yes",
		"PidFile " + filepath.Join(dir, "clamd.pid"),
		"StreamMaxLength 25M",
		"LogFile " + filepath.Join(dir, "clamd.log"),
	}
	if os.Geteuid() == 0 {
		// As root, clamd would otherwise switch to the clamav user, which
		// cannot read the test's temporary directory.
		lines = append(lines, "User root")
	}
	conf := strings.Join(lines, "\n") + "\n"
	confPath := filepath.Join(dir, "clamd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	proc := exec.Command(clamdPath, "--config-file="+confPath)
	proc.Stdout, proc.Stderr = &out, &out
	if err := proc.Start(); err != nil {
		t.Fatalf("starting clamd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	t.Cleanup(func() {
		_ = proc.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = proc.Process.Kill()
			<-exited
		}
	})
	// Wait for clamd to answer PING, or to exit.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := ping(socket); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("clamd exited: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("clamd did not answer PING within 60s\n%s", out.String())
		case <-tick.C:
		}
	}
	threat := strings.SplitN(strings.TrimSpace(string(hdb)), ":", 3)[2] + ".UNOFFICIAL"
	return &Clamd{Socket: socket, Dir: dir, Threat: threat}
}

func ping(socket string) error {
	conn, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if string(bytes.TrimRight(buf[:n], "\x00\n")) != "PONG" {
		return errors.New("unexpected reply " + string(buf[:n]))
	}
	return nil
}
