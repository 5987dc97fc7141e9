package cli

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/internal/atomicfile"
)

// BootstrapFile is the name, in the data directory, of the first admin's
// credentials, as the example server writes it: JSON with username,
// password and the base32 TOTP secret, mode 0600.
const BootstrapFile = "bootstrap.json"

// bootstrapCredentials is the content of BootstrapFile.
type bootstrapCredentials struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	TOTPSecret string `json:"totp_secret"`
}

// initResult is what `registra init --json` prints.
type initResult struct {
	Data          string   `json:"data"`
	KeyAlgorithm  string   `json:"key_algorithm"`
	KeyStorage    string   `json:"key_storage"`
	Certificates  []caCert `json:"certificates"`
	Organisation  string   `json:"organisation"`
	Admin         string   `json:"admin"`
	BootstrapFile string   `json:"bootstrap_file"`
}

// caCert describes one certificate of the hierarchy.
type caCert struct {
	Role     string `json:"role"`
	Subject  string `json:"subject"`
	NotAfter string `json:"not_after"`
	SHA256   string `json:"sha256"`
}

type initFlags struct {
	data, algorithm, hsm, caOrg, publicURL      string
	org, orgName, unit, unitName                string
	admin, adminName, adminEmail, adminPassword string
}

func newInit(e *env) *cobra.Command {
	var f initFlags
	c := &cobra.Command{
		Use:   "init",
		Short: "Create the CA hierarchy and the first admin in a new data directory",
		Long: `init creates a data directory: the CA hierarchy (root, issuing CA and OCSP
signer), the store, the code vault's key, a first partner organisation with
one unit and its admin operator. The admin's credentials (username, password
and TOTP secret) go to DATA/bootstrap.json, mode 0600, where 'registra serve'
and the example server find them.

Keys are software keys (PKCS #8 files, mode 0600, under DATA/ca/keys) unless
--hsm names a PKCS #11 token; --algorithm chooses ECDSA-P256 (default),
ECDSA-P384, RSA-3072 or RSA-4096.

init refuses a directory that already holds a CA hierarchy: it never
overwrites one.`,
		Example: `  registra init --data ./registra-data
  registra init --data /var/lib/registra --algorithm ECDSA-P384 --ca-org "Example QTSP S.p.A." \
      --public-url http://pki.example.com
  REGISTRA_HSM_PIN=1234 registra init --data /var/lib/registra \
      --hsm 'pkcs11:token=registra?module-path=/usr/lib/softhsm/libsofthsm2.so&x-pin-env=REGISTRA_HSM_PIN'`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return e.runInit(cmd, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.data, "data", "", "data directory (default $REGISTRA_DATA or ./registra-data)")
	fl.StringVar(&f.algorithm, "algorithm", "ECDSA-P256", "key algorithm of the CA keys: ECDSA-P256, ECDSA-P384, RSA-3072 or RSA-4096")
	fl.StringVar(&f.hsm, "hsm", "", "PKCS #11 token for the keys, as a pkcs11: URI (module-path, and pin-source or x-pin-env for the PIN)")
	fl.StringVar(&f.caOrg, "ca-org", "registra", "organisation (O) of the CA certificates")
	fl.StringVar(&f.publicURL, "public-url", registra.DefaultPublicURL, "base URL of the public CA, CRL and OCSP listener, written into certificates")
	fl.StringVar(&f.org, "org", "DEMO", "client code of the first partner organisation")
	fl.StringVar(&f.orgName, "org-name", "Demo partner", "name of the first partner organisation")
	fl.StringVar(&f.unit, "unit", "main", "ID of the organisation's main unit")
	fl.StringVar(&f.unitName, "unit-name", "Main office", "name of the main unit")
	fl.StringVar(&f.admin, "admin", "admin", "username of the first admin")
	fl.StringVar(&f.adminName, "admin-name", "Platform admin", "display name of the first admin")
	fl.StringVar(&f.adminEmail, "admin-email", "admin@registra.example", "e-mail of the first admin")
	fl.StringVar(&f.adminPassword, "admin-password-file", "", "file holding the admin's password (\"-\" for standard input); default: a random one")
	return c
}

func (e *env) runInit(cmd *cobra.Command, f initFlags) error {
	ctx := cmd.Context()
	dir := e.dataDir(f.data)
	alg, err := ca.ParseKeyAlgorithm(strings.ToUpper(f.algorithm))
	if err != nil {
		return usagef("--algorithm: %q: use ECDSA-P256, ECDSA-P384, RSA-3072 or RSA-4096", f.algorithm)
	}
	if f.hsm != "" && e.cfg.Keys == nil {
		return usagef("--hsm: this binary was built without HSM support")
	}
	for _, name := range []string{filepath.Join("ca", ca.ManifestFile), BootstrapFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("%w: %s already holds %s: init never overwrites a hierarchy", ErrExists, dir, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	password := ""
	if f.adminPassword != "" {
		if password, err = e.secret("admin-password-file", f.adminPassword, "Admin password"); err != nil {
			return err
		}
	} else {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	}

	cfg := registra.Config{Dir: dir, Organization: f.caOrg, PublicURL: strings.TrimRight(f.publicURL, "/"), Now: e.cfg.Now, Logger: e.logger()}
	storage := "software keys in " + filepath.Join(dir, "ca", "keys")
	if f.hsm != "" {
		keys, err := e.cfg.Keys(ctx, f.hsm, e.logger())
		if err != nil {
			return errorf("opening the HSM", err)
		}
		if keys.Close != nil {
			defer keys.Close() //nolint:errcheck // closing at exit; the keys are in the token
		}
		cfg.KeyManager, cfg.CAKeyNames, cfg.HolderKeyName = keys.Manager, keys.CAKeyNames, keys.HolderKeyName
		cfg.EvidenceKeyName = keys.EvidenceKeyName
		storage = "keys in the PKCS #11 token"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// The Platform opens an existing hierarchy with its own settings, so the
	// key algorithm is chosen here, by creating the hierarchy first with the
	// URLs the Platform writes into it.
	bar := e.newProgress(-1, "creating the CA hierarchy")
	h, err := ca.OpenHierarchy(ctx, ca.HierarchyConfig{Dir: filepath.Join(dir, "ca"), KeyManager: cfg.KeyManager,
		KeyNames: cfg.CAKeyNames, KeyAlgorithm: alg, Organization: f.caOrg,
		IssuingCertURL: cfg.PublicURL + "/ca/issuing.crt", RootCertURL: cfg.PublicURL + "/ca/root.crt",
		Now: e.cfg.Now, Logger: e.logger()})
	if err != nil {
		bar.done()
		return errorf("creating the CA hierarchy", err)
	}
	p, err := registra.Open(ctx, cfg)
	bar.done()
	if err != nil {
		return errorf("opening the platform", err)
	}
	defer p.Close() //nolint:errcheck // closing at exit; acknowledged writes are durable
	enr, err := p.Bootstrap(ctx, registra.BootstrapInput{
		Organisation: registra.Organisation{ClientCode: f.org, Name: f.orgName, Units: []registra.Unit{{ID: f.unit, Name: f.unitName}}},
		Admin: registra.OperatorInput{Username: f.admin, Name: f.adminName, Email: f.adminEmail,
			Roles: []access.Role{access.RoleAdmin}, Unit: f.unit, Password: access.Password(password)},
	})
	if err != nil {
		return errorf("creating the first organisation and admin", err)
	}
	j, err := json.MarshalIndent(bootstrapCredentials{Username: f.admin, Password: password, TOTPSecret: enr.Secret.Reveal()}, "", "  ")
	if err != nil {
		return err
	}
	bootstrap := filepath.Join(dir, BootstrapFile)
	if err := atomicfile.Write(bootstrap, append(j, '\n'), 0o600); err != nil {
		return err
	}

	res := initResult{Data: dir, KeyAlgorithm: h.KeyAlgorithm().String(), KeyStorage: storage, Organisation: f.org,
		Admin: f.admin, BootstrapFile: bootstrap}
	for _, c := range []struct {
		role string
		cert *x509.Certificate
	}{{"root", h.Root()}, {"issuing", h.Issuing()}, {"ocsp", h.OCSP()}} {
		sum := sha256.Sum256(c.cert.Raw)
		res.Certificates = append(res.Certificates, caCert{Role: c.role, Subject: c.cert.Subject.String(),
			NotAfter: day(c.cert.NotAfter), SHA256: hex.EncodeToString(sum[:])})
	}
	return e.out.emit(res, func(w io.Writer) error {
		fprintf(w, "Created a CA hierarchy in %s: %s, %s\n\n", dir, res.KeyAlgorithm, storage)
		t := newTable(w, "ROLE", "SUBJECT", "NOT AFTER", "SHA-256")
		for _, c := range res.Certificates {
			t.AppendRow([]any{c.Role, c.Subject, c.NotAfter, c.SHA256})
		}
		render(w, t)
		fprintf(w, "\nOrganisation %s with unit %s; admin %q.\n", f.org, f.unit, f.admin)
		fprintf(w, "The admin's password and TOTP secret are in %s (mode 0600).\n", bootstrap)
		fprintf(w, "Add the TOTP to an authenticator app: %s\n", enr.URI.Reveal())
		return nil
	})
}
