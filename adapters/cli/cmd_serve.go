package cli

import (
	"flag"
	"log/slog"

	"github.com/spf13/cobra"
)

func newServe(e *env) *cobra.Command {
	var o ServeOptions
	var level string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the platform: the operator API and the public CA, CRL and OCSP listener",
		Long: `serve runs the same server as the example server (examples/server): the
operator API over HTTPS (a TLS certificate for "localhost" from the platform's
own CA, under DATA/tls; clients trust DATA/tls/ca.pem) and the public CA
certificates, CRLs and OCSP over plain HTTP, with the platform's scheduler
(CRL publication, suspension ends, expiry), on a data directory made by
'registra init'. SIGINT or SIGTERM stop it gracefully.

--evidence-roots trusts evidence sealed elsewhere (default: the platform's
own root CA). The recognition methods beyond Offline are enabled by their
flags, each also read from its environment variable
(REGISTRA_QUALIFIED_ROOTS, ...): --qualified-roots, --crls and --clamd for Sign ID and Live ID, --otp-outbox
for the applicant's OTP form signature (Live ID, Video ID, SPID),
--video-provider and --video-key-file for Video ID, and --spid-idp-metadata,
--spid-key and --spid-cert (--spid-entity-id, --spid-acs-url) for SPID.`,
		Example: "  registra serve --data ./registra-data\n  registra serve --data /var/lib/registra --addr 0.0.0.0:8443 --public-addr 0.0.0.0:8080 --public-url http://pki.example.com\n  registra serve --otp-outbox ./otp --video-provider videoprov --video-key-file ./video.key",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if e.cfg.Serve == nil {
				return usagef("serve: this binary was built without the server")
			}
			if err := o.LogLevel.UnmarshalText([]byte(level)); err != nil {
				return usagef("--log-level: %q: use debug, info, warn or error", level)
			}
			if o.HSM != "" && e.cfg.Keys == nil {
				return usagef("--hsm: this binary was built without HSM support")
			}
			o.Data = e.dataDir(o.Data)
			o.Stdout, o.Stderr = e.cfg.Stdout, e.cfg.Stderr
			return e.cfg.Serve(cmd.Context(), o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Data, "data", "", "data directory (default $REGISTRA_DATA or ./registra-data)")
	fl.StringVar(&o.Addr, "addr", "127.0.0.1:8443", "address of the operator API")
	fl.StringVar(&o.PublicAddr, "public-addr", "127.0.0.1:8080", "address of the public CA, CRL and OCSP endpoints (HTTP)")
	fl.StringVar(&o.PublicURL, "public-url", "", "base URL of the public endpoints written into certificates (default http:// and the public listener's address)")
	fl.BoolVar(&o.InsecureHTTP, "insecure-http", false, "serve the operator API over plain HTTP (tests and TLS-terminating proxies only)")
	fl.StringVar(&o.HSM, "hsm", "", "PKCS #11 token for the keys, as a pkcs11: URI")
	fl.StringVar(&level, "log-level", slog.LevelInfo.String(), "log level: debug, info, warn or error")
	rec := flag.NewFlagSet("recognition", flag.ContinueOnError)
	o.Recognition.RegisterFlags(rec, func(name, def string) string {
		if v := e.getenv(name); v != "" {
			return v
		}
		return def
	})
	fl.AddGoFlagSet(rec)
	return c
}
