// Command stepca-bench measures step-ca, the peer issue #10 names, on this
// machine: certificates/s, latency and server CPU per certificate of
// POST /1.0/sign at 1, 4 and 16 concurrent clients over loopback HTTPS with
// keep-alive, the way adapters/http's BenchmarkIssuance measures registra.
//
//	go run ./scripts/stepca-bench [-n 2000] [-bin DIR]
//
// It builds step-ca and the step CLI (CGO_ENABLED=0, versions below) into
// -bin unless they are there, makes a CA with `step ca init` (ECDSA P-256,
// one JWK provisioner, the default badger store, which syncs every write)
// in a temporary directory, and starts step-ca. Each request signs a CSR
// with a one-time token of the provisioner; the CSRs and tokens are made
// before the timed run, so the client's own signing is not counted. Server
// CPU is step-ca's user+system time from /proc during each run.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.step.sm/crypto/jose"

	"github.com/registra-pki/registra/internal/loadgen"
)

// Versions of the peer, as issue #10 names it.
const (
	stepCAModule  = "github.com/smallstep/certificates/cmd/step-ca@v0.30.2"
	stepCLIModule = "github.com/smallstep/cli/cmd/step@v0.30.2"
	address       = "127.0.0.1:9443"
	caURL         = "https://localhost:9443"
	provisioner   = "bench"
)

func main() {
	n := flag.Int("n", 2000, "certificates per concurrency level")
	bin := flag.String("bin", filepath.Join(os.TempDir(), "registra-stepca-bin"), "directory of the step-ca and step binaries (built there when missing)")
	flag.Parse()
	if err := run(*n, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "stepca-bench:", err)
		os.Exit(1)
	}
}

func run(n int, bin string) error {
	for _, m := range []string{stepCAModule, stepCLIModule} {
		name := strings.TrimSuffix(filepath.Base(m), "@v0.30.2")
		if _, err := os.Stat(filepath.Join(bin, name)); err == nil {
			continue
		}
		fmt.Fprintln(os.Stderr, "building", m)
		cmd := exec.Command("go", "install", m)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOBIN="+bin)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s: %w", m, err)
		}
	}
	dir, err := os.MkdirTemp("", "stepca-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	steppath := filepath.Join(dir, "step")
	pw := filepath.Join(dir, "password")
	password := hex.EncodeToString(randomBytes(16))
	if err := os.WriteFile(pw, []byte(password), 0o600); err != nil {
		return err
	}
	env := append(os.Environ(), "STEPPATH="+steppath)
	initCmd := exec.Command(filepath.Join(bin, "step"), "ca", "init", "--name", "bench", "--dns", "localhost",
		"--address", address, "--provisioner", provisioner, "--password-file", pw, "--provisioner-password-file", pw,
		"--deployment-type", "standalone")
	initCmd.Env = env
	if out, err := initCmd.CombinedOutput(); err != nil {
		return fmt.Errorf("step ca init: %w: %s", err, out)
	}
	cfgPath := filepath.Join(steppath, "config", "ca.json")
	key, kid, err := provisionerKey(cfgPath, password)
	if err != nil {
		return err
	}
	root, err := os.ReadFile(filepath.Join(steppath, "certs", "root_ca.crt"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(root) {
		return errors.New("no root certificate")
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	server := exec.CommandContext(ctx, filepath.Join(bin, "step-ca"), cfgPath, "--password-file", pw)
	server.Env = env
	var logs bytes.Buffer
	server.Stdout, server.Stderr = &logs, &logs
	if err := server.Start(); err != nil {
		return err
	}
	defer server.Wait() //nolint:errcheck // killed at the end
	defer stop()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 64}}
	if err := waitHealthy(client); err != nil {
		return fmt.Errorf("%w: %s", err, logs.String())
	}
	fmt.Printf("step-ca %s on %s, badger store, P-256 CA; %d certificates per level\n",
		strings.TrimPrefix(stepCAModule, "github.com/smallstep/certificates/cmd/"), address, n)
	for _, c := range []int{1, 4, 16} {
		reqs, err := requests(n, key, kid)
		if err != nil {
			return err
		}
		cpu0, err := processCPU(server.Process.Pid)
		if err != nil {
			return err
		}
		lat, wall, err := load(client, reqs, c)
		if err != nil {
			return fmt.Errorf("%w: %s", err, tail(logs.String()))
		}
		cpu1, err := processCPU(server.Process.Pid)
		if err != nil {
			return err
		}
		fmt.Printf("clients=%d\t%.1f certs/s\tp50 %.2f ms\tp99 %.2f ms\tserver CPU %.3f ms/cert\n", c,
			float64(n)/wall.Seconds(), ms(loadgen.Percentile(lat, 0.50)), ms(loadgen.Percentile(lat, 0.99)), ms((cpu1-cpu0)/time.Duration(n)))
	}
	return nil
}

// provisionerKey decrypts the JWK provisioner's key from ca.json.
func provisionerKey(path, password string) (*jose.JSONWebKey, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var cfg struct {
		Authority struct {
			Provisioners []struct {
				Name         string `json:"name"`
				EncryptedKey string `json:"encryptedKey"`
				Key          struct {
					Kid string `json:"kid"`
				} `json:"key"`
			} `json:"provisioners"`
		} `json:"authority"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, "", err
	}
	for _, p := range cfg.Authority.Provisioners {
		if p.Name != provisioner {
			continue
		}
		plain, err := jose.Decrypt([]byte(p.EncryptedKey), jose.WithPassword([]byte(password)))
		if err != nil {
			return nil, "", fmt.Errorf("provisioner key: %w", err)
		}
		key, err := jose.ParseKey(plain)
		if err != nil {
			return nil, "", fmt.Errorf("provisioner key: %w", err)
		}
		return key, p.Key.Kid, nil
	}
	return nil, "", errors.New("no JWK provisioner in ca.json")
}

// signRequest is the body of POST /1.0/sign.
type signRequest struct {
	CSR string `json:"csr"`
	OTT string `json:"ott"`
}

// requests makes n sign requests: a new P-256 key and CSR each, with a
// one-time token of the provisioner for its name.
func requests(n int, key *jose.JSONWebKey, kid string) ([][]byte, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key.Key},
		new(jose.SignerOptions).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([][]byte, n)
	for i := range out {
		name := fmt.Sprintf("host-%d-%s.bench.example", i, hex.EncodeToString(randomBytes(4)))
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name},
			DNSNames: []string{name}}, k)
		if err != nil {
			return nil, err
		}
		claims := struct {
			jose.Claims
			SANs []string `json:"sans"`
		}{Claims: jose.Claims{Issuer: provisioner, Subject: name, Audience: jose.Audience{caURL + "/1.0/sign"},
			ID: hex.EncodeToString(randomBytes(16)), IssuedAt: jose.NewNumericDate(now),
			NotBefore: jose.NewNumericDate(now.Add(-time.Minute)), Expiry: jose.NewNumericDate(now.Add(10 * time.Minute))},
			SANs: []string{name}}
		tok, err := jose.Signed(signer).Claims(claims).CompactSerialize()
		if err != nil {
			return nil, err
		}
		out[i], err = json.Marshal(signRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), OTT: tok})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// load sends reqs from c concurrent clients and returns each latency and
// the wall time.
func load(client *http.Client, reqs [][]byte, c int) ([]time.Duration, time.Duration, error) {
	return loadgen.Run(len(reqs), c, func(i int) error { return sign(client, reqs[i]) })
}

func sign(client *http.Client, body []byte) error {
	res, err := client.Post(caURL+"/1.0/sign", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("sign: %d %s", res.StatusCode, raw)
	}
	var out struct {
		Crt string `json:"crt"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || !strings.HasPrefix(out.Crt, "-----BEGIN CERTIFICATE-----") {
		return fmt.Errorf("sign: no certificate in %s", raw)
	}
	return nil
}

func waitHealthy(client *http.Client) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := client.Get(caURL + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("step-ca did not become healthy")
}

// processCPU returns a process's user+system CPU time from /proc.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which ends with the last ')'.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
