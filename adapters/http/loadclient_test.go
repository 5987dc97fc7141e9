package httpapi_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/loadgen"
)

// loadClientEnv makes the test binary a load client (TestMain): the
// benchmark's HTTPS client runs in a process of its own, so that the
// benchmark's process CPU is the server's alone.
const loadClientEnv = "REGISTRA_BENCH_LOAD_CLIENT"

func TestMain(m *testing.M) {
	if os.Getenv(loadClientEnv) == "1" {
		if err := serveLoad(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "load client:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// loadSetup is the load client's first line: where and how to issue.
type loadSetup struct {
	URL     string `json:"url"`
	Token   string `json:"token"`
	CAPEM   []byte `json:"ca_pem"`
	Clients int    `json:"clients"`
}

// loadJob is each later line: orders to issue.
type loadJob struct {
	IDs []string `json:"ids"`
}

// loadResult answers a job: each issuance's latency, the wall time and the
// client's CPU time.
type loadResult struct {
	Latencies []time.Duration `json:"latencies"`
	Wall      time.Duration   `json:"wall"`
	CPU       time.Duration   `json:"cpu"`
	Err       string          `json:"err,omitempty"`
}

// serveLoad is the load client: it reads a setup, then issues the orders of
// each job through POST /v1/orders/{id}/issue with the setup's concurrency
// over keep-alive HTTPS, and answers each job with a result line.
func serveLoad(r io.Reader, w io.Writer) error {
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	if !in.Scan() {
		return errors.New("no setup")
	}
	var s loadSetup
	if err := json.Unmarshal(in.Bytes(), &s); err != nil {
		return err
	}
	issue, err := httpIssue(s.URL, s.Token, s.CAPEM, s.Clients)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for in.Scan() {
		var job loadJob
		if err := json.Unmarshal(in.Bytes(), &job); err != nil {
			return err
		}
		cpu0 := cpu()
		lat, wall, err := issueAll(job.IDs, s.Clients, issue)
		res := loadResult{Latencies: lat, Wall: wall, CPU: cpu() - cpu0}
		if err != nil {
			res.Err = err.Error()
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	return in.Err()
}

// httpIssue returns a client's issuance of one order through
// POST /v1/orders/{id}/issue on the server at url, trusting caPEM, as token,
// with up to c keep-alive connections: the answer must be 201 with the
// product active.
func httpIssue(url, token string, caPEM []byte, c int) (func(id string) error, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c,
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	body := []byte(`{"passphrase":{"use_tax_code":true}}`)
	return func(id string) error {
		req, err := http.NewRequest(http.MethodPost, url+"/v1/orders/"+id+"/issue", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusCreated {
			return fmt.Errorf("issue %s: %d %s", id, res.StatusCode, raw)
		}
		var p struct{ Status string }
		if err := json.Unmarshal(raw, &p); err != nil || p.Status != "active" {
			return fmt.Errorf("issue %s: %s", id, raw)
		}
		return nil
	}, nil
}

// httpClients issues orders through the HTTP API with a fixed concurrency
// and returns each latency, the wall time and, when it can tell, the
// client's CPU time.
type httpClients interface {
	issue(tb testing.TB, ids []string) (lat []time.Duration, wall, clientCPU time.Duration)
}

// inProcessClients are the clients as goroutines of the benchmark's
// process: their CPU is the process's, not told apart.
type inProcessClients struct {
	do func(id string) error
	c  int
}

func (ic inProcessClients) issue(tb testing.TB, ids []string) ([]time.Duration, time.Duration, time.Duration) {
	tb.Helper()
	lat, wall := run(tb, ids, ic.c, ic.do)
	return lat, wall, 0
}

// loadClient is a running load client process.
type loadClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startLoadClient starts the test binary as a load client of the server at
// url, trusting caPEM, issuing as token with c concurrent clients. It ends
// with the benchmark.
func startLoadClient(tb testing.TB, url, token string, caPEM []byte, c int) *loadClient {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadClientEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	require.NoError(tb, err)
	out, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	require.NoError(tb, cmd.Start())
	lc := &loadClient{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	lc.out.Buffer(make([]byte, 1<<20), 64<<20)
	tb.Cleanup(func() {
		in.Close()     //nolint:errcheck // ends the client
		_ = cmd.Wait() //nolint:errcheck // its errors were reported by the jobs
	})
	require.NoError(tb, json.NewEncoder(in).Encode(loadSetup{URL: url, Token: token, CAPEM: caPEM, Clients: c}))
	return lc
}

// issue has the client issue ids and returns each latency, the wall time
// and the client's CPU time, as the client measured them.
func (lc *loadClient) issue(tb testing.TB, ids []string) ([]time.Duration, time.Duration, time.Duration) {
	tb.Helper()
	require.NoError(tb, json.NewEncoder(lc.in).Encode(loadJob{IDs: ids}))
	require.True(tb, lc.out.Scan(), "load client ended: %v", lc.out.Err())
	var res loadResult
	require.NoError(tb, json.Unmarshal(lc.out.Bytes(), &res))
	require.Empty(tb, res.Err)
	return res.Latencies, res.Wall, res.CPU
}

// issueAll issues ids with c concurrent workers through issue and returns
// each call's latency and the wall time; the first error stops its worker
// and is returned.
func issueAll(ids []string, c int, issue func(id string) error) ([]time.Duration, time.Duration, error) {
	return loadgen.Run(len(ids), c, func(i int) error { return issue(ids[i]) })
}
