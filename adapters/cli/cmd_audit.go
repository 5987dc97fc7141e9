package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/store"
)

// auditReport is what `registra audit verify --json` prints.
type auditReport struct {
	Intact   bool        `json:"intact"`
	Events   uint64      `json:"events"`
	Sealed   uint64      `json:"sealed"`
	Head     string      `json:"head,omitempty"`
	FirstBad *auditEvent `json:"first_bad,omitempty"`
	Reason   string      `json:"reason,omitempty"`
}

// auditEvent is one event as the CLI shows it.
type auditEvent struct {
	Seq     uint64 `json:"seq"`
	Org     string `json:"org,omitempty"`
	At      string `json:"at,omitempty"`
	Actor   string `json:"actor,omitempty"`
	Action  string `json:"action,omitempty"`
	Subject string `json:"subject,omitempty"`
	Details string `json:"details,omitempty"`
}

func newAudit(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "audit",
		Short:   "Check the audit trail",
		Example: "  registra audit verify --data ./registra-data\n  registra audit list --subject ORDER",
		Args:    exactArgs(),
	}
	var data string
	v := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit trail's SHA-256 chain in a data directory",
		Long: `verify checks the whole audit trail of a data directory: consecutive sequence
numbers, an unbroken SHA-256 chain over the sealed events, and a chain head
that matches the store's record of it. It exits 0 when the trail is intact and
1 naming the first altered, removed or reordered event when it is not.

Events recorded since the last sealing pass of the running platform are not
yet chained; they are counted apart. Stop the server first: the data
directory is opened by one process at a time.`,
		Example: "  registra audit verify --data ./registra-data\n  registra audit verify --data ./registra-data --json | jq .first_bad",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			dir := e.dataDir(data)
			if _, err := os.Stat(filepath.Join(dir, "store")); err != nil {
				return usagef("--data: %s holds no registra store", dir)
			}
			// The store alone: checking the trail needs neither the CA
			// keys (an HSM) nor anything else the platform opens.
			node, err := store.Open(ctx, store.Config{Dir: filepath.Join(dir, "store"), Now: e.cfg.Now, Logger: e.logger()})
			if err != nil {
				return errorf("opening the store of "+dir, err)
			}
			defer node.Close() //nolint:errcheck // read-only use
			snap, err := node.Snapshot(ctx)
			if err != nil {
				return err
			}
			defer snap.Close()
			verr := snap.VerifyAudit()
			rep := auditReport{Intact: verr == nil}
			var bad uint64
			ce, isChain := errors.AsType[*store.AuditChainError](verr)
			if isChain {
				bad, rep.Reason = ce.Seq, ce.Reason
			}
			if err := snap.AuditEvents(0, func(ev store.AuditEvent) error {
				rep.Events++
				if len(ev.Hash) > 0 {
					rep.Sealed++
					rep.Head = hex.EncodeToString(ev.Hash)
				}
				if isChain && ev.Seq == bad {
					rep.FirstBad = &auditEvent{Seq: ev.Seq, Org: ev.OrgID, At: ts(ev.At), Actor: ev.ActorID, Action: ev.Action,
						Subject: ev.Subject, Details: ev.Details}
				}
				return nil
			}); err != nil {
				return err
			}
			if isChain && rep.FirstBad == nil {
				rep.FirstBad = &auditEvent{Seq: bad}
			}
			if verr != nil && !isChain {
				return errorf("verifying the audit trail", verr)
			}
			if err := e.out.emit(rep, func(w io.Writer) error {
				if rep.Intact {
					head := ""
					if rep.Head != "" {
						head = ", head " + rep.Head
					}
					fprintf(w, "audit trail intact: %d events, %d sealed%s\n", rep.Events, rep.Sealed, head)
					if n := rep.Events - rep.Sealed; n > 0 {
						fprintf(w, "%d event(s) recorded since the last sealing pass are not chained yet\n", n)
					}
					return nil
				}
				fb := rep.FirstBad
				fprintf(w, "audit trail BROKEN at event %d: %s\n", fb.Seq, rep.Reason)
				return kv(w, "seq", fmt.Sprint(fb.Seq), "at", fb.At, "org", fb.Org, "actor", fb.Actor, "action", fb.Action,
					"subject", fb.Subject, "details", fb.Details)
			}); err != nil {
				return err
			}
			if verr != nil {
				return fmt.Errorf("audit trail broken at event %d: %w", bad, verr)
			}
			return nil
		},
	}
	v.Flags().StringVar(&data, "data", "", "data directory (default $REGISTRA_DATA or ./registra-data)")
	c.AddCommand(v, newAuditList(e))
	return c
}

// wireAuditEvent is one event as GET /v1/audit answers it.
type wireAuditEvent struct {
	Seq     uint64         `json:"seq"`
	Org     string         `json:"org"`
	ActorID string         `json:"actor"`
	Action  string         `json:"action"`
	Subject string         `json:"subject"`
	At      time.Time      `json:"at"`
	Details map[string]any `json:"details,omitempty"`
	Hash    string         `json:"hash,omitempty"`
}

func newAuditList(e *env) *cobra.Command {
	var from uint64
	var subject string
	var limit int
	c := &cobra.Command{
		Use:   "list",
		Short: "List the organisation's audit events through the API (master RAO)",
		Long: `list shows the audit events of your organisation, oldest first: who did what,
when, to which object, with the outcome. --subject keeps one order's events.`,
		Example: "  registra audit list --subject ORDER\n  registra audit list --from 100 --limit 50 --json",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if from > 0 {
				q.Set("from", strconv.FormatUint(from, 10))
			}
			if subject != "" {
				q.Set("subject", subject)
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			var out struct {
				Events []wireAuditEvent `json:"events"`
			}
			return e.call(cmd.Context(), request{method: "GET", path: "/v1/audit", query: q}, &out, func(w io.Writer) error {
				t := newTable(w, "SEQ", "AT", "ACTOR", "ACTION", "SUBJECT", "OUTCOME", "SEALED")
				for _, ev := range out.Events {
					outcome, _ := ev.Details["outcome"].(string)
					t.AppendRow([]any{ev.Seq, ts(ev.At), ev.ActorID, ev.Action, ev.Subject, outcome, ev.Hash != ""})
				}
				render(w, t)
				return nil
			})
		},
	}
	c.Flags().Uint64Var(&from, "from", 0, "first sequence number")
	c.Flags().StringVar(&subject, "subject", "", "keep the events of one object (an order ID)")
	c.Flags().IntVar(&limit, "limit", 0, "at most this many events, 1-1000 (default 100)")
	return c
}
