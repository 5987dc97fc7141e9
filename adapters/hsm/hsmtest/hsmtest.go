//go:build cgo

package hsmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/miekg/pkcs11"
	"github.com/registra-pki/registra/adapters/hsm"
	"github.com/registra-pki/registra/internal/testutil"
)

// ModulePath is the SoftHSM2 module installed by Debian's softhsm2 package.
const ModulePath = "/usr/lib/softhsm/libsofthsm2.so"

// The PINs of every token made here. They are test values: the user PIN
// reaches the Token through a PIN file, as in production.
const (
	PIN   = "1234"
	SOPIN = "5678"
)

// dirPrefix names the per-process directories in os.TempDir().
const dirPrefix = "registra-softhsm-"

// childEnv marks a test binary started by [Isolated].
const childEnv = "REGISTRA_HSMTEST_ISOLATED"

// process is the SoftHSM2 state of this test binary. It is package-level
// state, against registra's habit, because the thing it stands for is
// process-wide: SOFTHSM2_CONF is read from the environment, and the token
// directory scanned, once per process, when the module is initialised.
type process struct {
	dir    string // per-process directory: softhsm2.conf, tokens/, pins/
	conf   string
	tokens string
	module string // ModulePath with symbolic links resolved
	anchor *hsm.Token
	raw    *pkcs11.Ctx

	mu sync.Mutex // serialises C_InitToken and the token counter
	n  int
}

var (
	procOnce sync.Once
	proc     *process
	errProc  error
)

// Token is a fresh SoftHSM2 token made for one test, logged into by nobody
// yet. Its user PIN is [PIN] and its security-officer PIN [SOPIN].
type Token struct {
	// Label is the token label, unique in the process.
	Label string
	// Config opens the token with [hsm.Open]: module path, label, PIN file.
	Config hsm.Config
	// Dir is the token's directory in the SoftHSM2 token store.
	Dir string
	// Conf is the SOFTHSM2_CONF of this process, for foreign tools.
	Conf string
}

// New makes a fresh token. Without SoftHSM2 the test is skipped on a
// developer machine, with the package to install, and fails under CI=true.
func New(t testing.TB) *Token {
	t.Helper()
	p := setup(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	label := fmt.Sprintf("hsmtest-%d", p.n)
	dir, err := p.initToken(label)
	if err != nil {
		t.Fatalf("hsmtest: creating token %s: %v", label, err)
	}
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(PIN+"\n"), 0o600); err != nil {
		t.Fatalf("hsmtest: %v", err)
	}
	return &Token{
		Label: label,
		Config: hsm.Config{
			ModulePath: p.module,
			TokenLabel: label,
			PINFile:    pinFile,
		},
		Dir:  dir,
		Conf: p.conf,
	}
}

// Open opens the token with its Config and closes it when the test ends.
func (tk *Token) Open(t testing.TB) *hsm.Token {
	t.Helper()
	tok, err := hsm.Open(context.Background(), tk.Config)
	if err != nil {
		t.Fatalf("hsmtest: opening %s: %v", tk.Label, err)
	}
	t.Cleanup(func() {
		if err := tok.Close(); err != nil {
			t.Errorf("hsmtest: closing %s: %v", tk.Label, err)
		}
	})
	return tok
}

// Reinit re-initialises the token from another process (softhsm2-util) under
// the label newLabel while this process may hold it open: every object is
// destroyed and the token this process logged into is replaced.
func (tk *Token) Reinit(t testing.TB, newLabel string) {
	t.Helper()
	tool := testutil.RequireTool(t, "softhsm2-util", "softhsm2")
	cmd := exec.Command(tool, "--init-token", "--token", tk.Label, "--label", newLabel,
		"--so-pin", SOPIN, "--pin", PIN)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+tk.Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hsmtest: re-initialising %s: %v\n%s", tk.Label, err, out)
	}
}

// Remove deletes the token's directory under the running process, as an
// operator pulling a token would. SoftHSM2 then answers C_GetTokenInfo on
// that slot with CKR_GENERAL_ERROR, and crypto11 stops its token search at
// the first failing slot: after Remove, no token can be opened in this
// process. Call it only from a test body run by [Isolated].
func (tk *Token) Remove(t testing.TB) {
	t.Helper()
	if os.Getenv(childEnv) == "" {
		t.Fatal("hsmtest: Remove breaks token lookups for the whole process: run the test through hsmtest.Isolated")
	}
	if err := os.RemoveAll(tk.Dir); err != nil {
		t.Fatalf("hsmtest: removing %s: %v", tk.Dir, err)
	}
}

// Isolated runs the calling test again, alone, in a child process with its
// own SoftHSM2 state, and returns false in the parent (which checks the
// child's result); in the child it returns true and the test body runs. Use
// it for tests that damage the process-wide module, such as [Token.Remove]:
//
//	if !hsmtest.Isolated(t) {
//		return
//	}
func Isolated(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("hsmtest: %v", err)
	}
	pattern := "^" + strings.ReplaceAll(regexpQuote(t.Name()), "/", "$/^") + "$"
	cmd := exec.CommandContext(t.Context(), exe, "-test.run="+pattern, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hsmtest: isolated run of %s failed: %v\n%s", t.Name(), err, out)
	}
	if bytes.Contains(out, []byte("--- SKIP: "+t.Name())) {
		t.Skipf("hsmtest: isolated run of %s skipped:\n%s", t.Name(), out)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("hsmtest: isolated run of %s did not pass:\n%s", t.Name(), out)
	}
	t.Logf("isolated run:\n%s", out)
	return false
}

// regexpQuote escapes the regexp metacharacters of a test name.
func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Objects lists the token's objects with pkcs11-tool (package opensc),
// logged in as the user: an independent view of what the token holds.
func (tk *Token) Objects(t testing.TB) []Object {
	t.Helper()
	return ParseObjects(string(PKCS11Tool(t, tk, "--login", "--pin", PIN, "--list-objects")))
}

// setup prepares the process-wide SoftHSM2 state once.
func setup(t testing.TB) *process {
	t.Helper()
	testutil.RequireFile(t, ModulePath, "softhsm2")
	tool := testutil.RequireTool(t, "softhsm2-util", "softhsm2")
	procOnce.Do(func() { proc, errProc = start(tool) })
	if errProc != nil {
		t.Fatalf("hsmtest: preparing SoftHSM2: %v", errProc)
	}
	return proc
}

// start writes this process's SoftHSM2 configuration, points SOFTHSM2_CONF
// at it, makes an anchor token with softhsm2-util and opens it. The anchor
// stays open for the life of the process, so the module is initialised once
// and never finalised; further tokens are made in-process with
// C_InitToken, since SoftHSM2 does not see tokens that another process adds
// after C_Initialize.
func start(tool string) (*process, error) {
	sweep()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", dirPrefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	p := &process{dir: dir, conf: filepath.Join(dir, "softhsm2.conf"), tokens: filepath.Join(dir, "tokens")}
	if p.module, err = filepath.EvalSymlinks(ModulePath); err != nil {
		return nil, err
	}
	if err := os.Mkdir(p.tokens, 0o700); err != nil {
		return nil, err
	}
	// Debian's SoftHSM2 has no sqlite backend: objectstore.backend = file.
	conf := "directories.tokendir = " + p.tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(p.conf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	if err := os.Setenv("SOFTHSM2_CONF", p.conf); err != nil {
		return nil, err
	}
	const anchor = "hsmtest-anchor"
	cmd := exec.Command(tool, "--init-token", "--free", "--label", anchor, "--so-pin", SOPIN, "--pin", PIN)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+p.conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("softhsm2-util --init-token: %w\n%s", err, out)
	}
	pinFile := filepath.Join(dir, "anchor.pin")
	if err := os.WriteFile(pinFile, []byte(PIN), 0o600); err != nil {
		return nil, err
	}
	p.anchor, err = hsm.Open(context.Background(), hsm.Config{ModulePath: p.module, TokenLabel: anchor, PINFile: pinFile})
	if err != nil {
		return nil, err
	}
	p.raw = pkcs11.New(p.module)
	if p.raw == nil {
		return nil, errors.New("loading the module a second time failed")
	}
	var perr pkcs11.Error
	if err := p.raw.Initialize(); !errors.As(err, &perr) || perr != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
		return nil, fmt.Errorf("module not shared with crypto11: C_Initialize returned %v", err)
	}
	return p, nil
}

// initToken initialises the free slot as a token with label and user PIN,
// and returns the token's directory. The caller holds p.mu.
func (p *process) initToken(label string) (string, error) {
	before, err := p.tokenDirs()
	if err != nil {
		return "", err
	}
	slots, err := p.raw.GetSlotList(false)
	if err != nil {
		return "", err
	}
	slot, found := uint(0), false
	for _, s := range slots {
		ti, err := p.raw.GetTokenInfo(s)
		if err == nil && ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			slot, found = s, true
			break
		}
	}
	if !found {
		return "", errors.New("no free slot")
	}
	if err := p.raw.InitToken(slot, SOPIN, label); err != nil {
		return "", fmt.Errorf("C_InitToken: %w", err)
	}
	sh, err := p.raw.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return "", fmt.Errorf("C_OpenSession: %w", err)
	}
	defer func() { _ = p.raw.CloseSession(sh) }() // the token is made; a close failure changes nothing
	if err := p.raw.Login(sh, pkcs11.CKU_SO, SOPIN); err != nil {
		return "", fmt.Errorf("C_Login(SO): %w", err)
	}
	if err := p.raw.InitPIN(sh, PIN); err != nil {
		return "", fmt.Errorf("C_InitPIN: %w", err)
	}
	if err := p.raw.Logout(sh); err != nil {
		return "", fmt.Errorf("C_Logout: %w", err)
	}
	after, err := p.tokenDirs()
	if err != nil {
		return "", err
	}
	for _, d := range after {
		if !slices.Contains(before, d) {
			return filepath.Join(p.tokens, d), nil
		}
	}
	return "", errors.New("the new token has no directory")
}

// tokenDirs lists the token store.
func (p *process) tokenDirs() ([]string, error) {
	ents, err := os.ReadDir(p.tokens)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, nil
}

// sweep removes the directories left by earlier test processes that have
// exited (a test binary has no hook at exit to remove its own).
func sweep() {
	matches, err := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	if err != nil {
		return // a bad pattern is impossible; nothing to sweep
	}
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), dirPrefix)
		pidText, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(m) // best effort: another sweeper may race us
		}
	}
}

// PKCS11Tool runs pkcs11-tool (package opensc) on the token with args and
// returns its standard output; the test fails if it exits non-zero.
func PKCS11Tool(t testing.TB, tk *Token, args ...string) []byte {
	t.Helper()
	tool := testutil.RequireTool(t, "pkcs11-tool", "opensc")
	args = append([]string{"--module", tk.Config.ModulePath, "--token-label", tk.Label}, args...)
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+tk.Conf)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hsmtest: pkcs11-tool %v: %v\n%s%s", args, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}
