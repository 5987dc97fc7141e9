package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	kmsapi "go.step.sm/crypto/kms/apiv1"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/ca"
)

// Config configures the command tree. The zero value runs with no input, no
// output, no environment, no HSM and no server: cmd/registra fills it from
// the process.
type Config struct {
	// Stdin is read for secrets and documents given as "-". Nil means empty.
	Stdin io.Reader
	// Stdout receives results; Stderr receives errors, prompts and progress.
	// Nil means discard.
	Stdout, Stderr io.Writer
	// Getenv reads the environment (REGISTRA_DATA, REGISTRA_SERVER, ...).
	// Nil means an empty environment.
	Getenv func(string) string
	// ConfigDir holds the saved session. Zero means
	// os.UserConfigDir()/registra.
	ConfigDir string
	// HTTPClient sends the API requests. Nil means a client with Go's
	// default transport.
	HTTPClient *http.Client
	// Keys opens an HSM from a pkcs11: configuration URI (see
	// adapters/hsm.ParseConfigURI) for `registra init --hsm`. Nil means the
	// binary has no HSM support and --hsm is refused.
	Keys func(ctx context.Context, uri string, log *slog.Logger) (*Keys, error)
	// Serve runs the platform's servers for `registra serve` until ctx
	// ends. Nil means the command is not available in this binary.
	Serve func(ctx context.Context, opts ServeOptions) error
	// Version is printed by `registra --version`. Zero means "devel".
	Version string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives the library's logs for local commands. Nil discards.
	Logger *slog.Logger
}

// Validate names the bad fields of c: a relative ConfigDir (it would
// depend on the working directory, and the token would follow it).
func (c *Config) Validate() error {
	if c.ConfigDir != "" && !filepath.IsAbs(c.ConfigDir) {
		return &UsageError{Msg: fmt.Sprintf("Config.ConfigDir: %q must be an absolute path", c.ConfigDir)}
	}
	return nil
}

// Keys is a key manager that keeps its keys (an HSM), with the names of the
// CA keys and of holder keys in it, as registra.Config wants them.
type Keys struct {
	// Manager holds the keys.
	Manager kmsapi.KeyManager
	// CAKeyNames names the three CA keys.
	CAKeyNames ca.KeyNames
	// HolderKeyName names a product's remote signature key.
	HolderKeyName func(productID string) string
	// EvidenceKeyName names the evidence-sealing key.
	EvidenceKeyName string
	// Close releases the key manager. Nil means nothing to release.
	Close func() error
}

// ServeOptions are the settings of `registra serve`, the same as the
// example server's flags.
type ServeOptions struct {
	// Data is the data directory.
	Data string
	// Addr is the operator API's address (HTTPS unless InsecureHTTP).
	Addr string
	// PublicAddr is the address of the public CA, CRL and OCSP listener.
	PublicAddr string
	// PublicURL is the base URL written into certificates; zero means
	// http:// and the public listener's address.
	PublicURL string
	// InsecureHTTP serves the operator API over plain HTTP.
	InsecureHTTP bool
	// HSM is a pkcs11: configuration URI; zero means software keys.
	HSM string
	// LogLevel is the level of the structured logs on Stderr.
	LogLevel slog.Level
	// Recognition enables the recognition methods beyond Offline, as the
	// example server's flags of the same names do.
	Recognition registra.RecognitionFiles
	// Stdout receives the start-up lines; Stderr the logs.
	Stdout, Stderr io.Writer
}

// env is what every command shares: the configuration, the parsed global
// flags and the result printer.
type env struct {
	cfg     Config
	in      *bufio.Reader
	out     printer
	json    bool
	server  string
	caFile  string
	timeout time.Duration
	// ran is set once flags and arguments are parsed: an error before it is
	// a usage error.
	ran bool
}

func (e *env) now() time.Time {
	if e.cfg.Now != nil {
		return e.cfg.Now()
	}
	return time.Now()
}

func (e *env) getenv(k string) string {
	if e.cfg.Getenv == nil {
		return ""
	}
	return e.cfg.Getenv(k)
}

func (e *env) logger() *slog.Logger {
	if e.cfg.Logger != nil {
		return e.cfg.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run runs the command line args (without the program name) and returns the
// exit code; errors are printed on Stderr as one line.
func Run(ctx context.Context, cfg Config, args []string) int {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Stdin == nil {
		cfg.Stdin = strings.NewReader("")
	}
	if err := cfg.Validate(); err != nil {
		fprintf(cfg.Stderr, "registra: %s\n", err)
		return ExitCode(err)
	}
	e := &env{cfg: cfg, in: bufio.NewReader(cfg.Stdin)}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(cfg.Stdin)
	root.SetOut(cfg.Stdout)
	root.SetErr(cfg.Stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !e.ran && !errors.Is(err, ErrUsage) {
		err = &UsageError{Msg: err.Error()}
	}
	if err != nil {
		fprintf(cfg.Stderr, "registra: %s\n", oneLine(err.Error()))
		if errors.Is(err, ErrUsage) {
			fprintf(cfg.Stderr, "Run 'registra --help' for usage.\n")
		}
		if p, ok := errors.AsType[*ProblemError](err); ok && p.Status == http.StatusUnauthorized && e.ran && !isLogin(args) {
			fprintf(cfg.Stderr, "Run 'registra login' to open a new session.\n")
		}
	}
	return ExitCode(err)
}

// isLogin reports whether args run a command that opens a session itself.
func isLogin(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "login" || a == "enrol" })
}

// New returns the command tree, for documentation generators and tests;
// [Run] is what a main calls.
func New(cfg Config) *cobra.Command {
	if cfg.Stdin == nil {
		cfg.Stdin = strings.NewReader("")
	}
	return newRoot(&env{cfg: cfg, in: bufio.NewReader(cfg.Stdin)})
}

const rootLong = `registra administers a registra PKI data directory and drives the operator
API of a running platform from the shell.

Local commands (init, serve, audit verify, evidence verify, envelope open,
crl show) work on files and data directories. Client commands need a
session: run 'registra login --server URL' first.

Output is an aligned table for people, JSON with --json.

Exit codes:
  0  success
  1  refused by the platform, or a check failed
  2  usage error
  3  the server cannot be reached`

func newRoot(e *env) *cobra.Command {
	version := e.cfg.Version
	if version == "" {
		version = "devel"
	}
	root := &cobra.Command{
		Use:           "registra",
		Short:         "Administer a registra PKI and drive its operator API",
		Long:          rootLong,
		Example:       "  registra init --data ./registra-data\n  registra login --server https://127.0.0.1:8443 --ca-file ./registra-data/tls/ca.pem --username rao1\n  registra search --status active --json",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			e.ran = true
			e.out = printer{w: e.cfg.Stdout, json: e.json}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	pf := root.PersistentFlags()
	pf.BoolVar(&e.json, "json", false, "print JSON for scripts instead of tables")
	pf.StringVar(&e.server, "server", "", "base URL of the operator API (default: the saved session's, or $REGISTRA_SERVER)")
	pf.StringVar(&e.caFile, "ca-file", "", "PEM file of the CA that signed the server's TLS certificate (default: the saved session's)")
	pf.DurationVar(&e.timeout, "timeout", defaultTimeout, "time limit of each request to the server")

	root.AddGroup(&cobra.Group{ID: "local", Title: "Local commands:"}, &cobra.Group{ID: "client", Title: "Client commands (need 'registra login'):"})
	for _, c := range []*cobra.Command{newInit(e), newServe(e), newAudit(e), newEvidence(e), newCRL(e)} {
		c.GroupID = "local"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newLogin(e), newLogout(e), newWhoami(e), newPasswd(e), newEnrol(e), newOrder(e), newRecognition(e),
		newIssue(e), newSuspend(e), newReactivate(e), newRevoke(e), newEnvelope(e), newSearch(e), newProduct(e), newCatalogue(e),
		newOperator(e), newOrganisation(e)} {
		if c.GroupID == "" {
			c.GroupID = "client"
		}
		root.AddCommand(c)
	}
	root.CompletionOptions.DisableDefaultCmd = true
	help, completion := newHelp(root), newCompletion(e)
	help.GroupID, completion.GroupID = "local", "local"
	root.SetHelpCommand(help)
	root.AddCommand(completion)
	root.InitDefaultHelpCmd()
	return root
}

// newHelp replaces cobra's help command, to give it an example.
func newHelp(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:     "help [command]",
		Short:   "Help about any command",
		Example: "  registra help order create\n  registra order create --help",
		RunE: func(_ *cobra.Command, args []string) error {
			target, _, err := root.Find(args)
			if err != nil || target == nil {
				return usagef("unknown help topic %q", strings.Join(args, " "))
			}
			return target.Help()
		},
	}
}

// newCompletion replaces cobra's completion command, to give it examples.
func newCompletion(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: `completion prints the script that completes registra's commands, flags and
arguments in a shell. Load it from the shell's start-up file.`,
		Example: `  source <(registra completion bash)
  registra completion zsh > "${fpath[1]}/_registra"
  registra completion fish > ~/.config/fish/completions/registra.fish`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      exactArgs("SHELL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), e.cfg.Stdout
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return usagef("SHELL: %q: use bash, zsh, fish or powershell", args[0])
		},
	}
}

// args returns a cobra argument check that reports usage errors.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usagef("expected %d argument(s): %s; got %d", len(names), strings.Join(names, " "), len(args))
		}
		for i, a := range args {
			if strings.TrimSpace(a) == "" {
				return usagef("%s: must not be empty", names[i])
			}
		}
		return nil
	}
}

// required reports a missing flag as a usage error.
func required(name, value string) error {
	if value == "" {
		return usagef("--%s is required", name)
	}
	return nil
}

// readInput reads a file, or standard input for "-".
func (e *env) readInput(flag, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(e.in)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--%s: %v", flag, err)
	}
	return b, nil
}

// secret reads a secret: from a file (one trailing newline removed), from
// one line of standard input for "-", or by prompting on the terminal
// without echo when path is empty and standard input is a terminal. When
// standard input is not a terminal and path is empty, one line of standard
// input is read, so that scripts pipe secrets in.
func (e *env) secret(flag, path, prompt string) (string, error) {
	switch {
	case path == "-" || path == "" && !e.stdinIsTerminal():
		line, err := e.in.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", usagef("--%s: no value on standard input", flag)
		}
		return line, nil
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return "", usagef("--%s: %v", flag, err)
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if s == "" {
			return "", usagef("--%s: %s is empty", flag, path)
		}
		return s, nil
	}
	f := e.cfg.Stdin.(*os.File) // stdinIsTerminal checked it
	fprintf(e.cfg.Stderr, "%s: ", prompt)
	b, err := readPassword(f)
	fprintf(e.cfg.Stderr, "\n")
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", usagef("%s: empty", strings.ToLower(prompt))
	}
	return string(b), nil
}

func (e *env) stdinIsTerminal() bool {
	f, ok := e.cfg.Stdin.(*os.File)
	return ok && isTerminal(f)
}

// dataDir returns --data, $REGISTRA_DATA or ./registra-data.
func (e *env) dataDir(flag string) string {
	if flag != "" {
		return flag
	}
	if v := e.getenv("REGISTRA_DATA"); v != "" {
		return v
	}
	return "./registra-data"
}

// errorf wraps err with what the command was doing.
func errorf(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
