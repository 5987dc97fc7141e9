package registra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// URL paths of the public listener that certificates name (their CRL
// distribution point and freshest CRL), under Config.PublicURL.
const (
	PathCRL      = "/crl/issuing.crl"
	PathDeltaCRL = "/crl/issuing-delta.crl"
	PathOCSP     = "/ocsp"
)

// publication wires package crl to the store: the Source and StatusSource
// the CRL scheduler and the OCSP responder read, and the Journal of CRL
// numbers, heads and receipts.
//
// The change log crl reads is the audit trail: every status change is
// committed with one audit event naming it, in commit order, so a change's
// sequence number is derived from its audit event's (seq×4 + the
// certificate's index in its product: a device product's two certificates
// change together).
type publication struct {
	p         *Platform
	scope     crl.Scope
	sink      *crl.HTTPSink
	responder *crl.Responder
	scheduler *crl.Scheduler

	mu        sync.Mutex
	lastAudit uint64 // the newest audit sequence number seen
}

// certsPerProduct bounds the certificates of a product (store: 1-4).
const certsPerProduct = 4

func (p *Platform) openPublication() error {
	h := p.hierarchy
	pub := &publication{p: p, scope: crl.Scope(p.issuerID)}
	var err error
	base := p.cfg.publicURL()
	if pub.sink, err = crl.NewHTTPSink(crl.HTTPSinkConfig{FullPath: PathCRL, DeltaPath: PathDeltaCRL, Now: p.now}); err != nil {
		return err
	}
	// The CRLs are also kept as files in Dir/crl, written before they are
	// served or recorded, so that a restarted platform serves the last ones
	// at once rather than nothing until the next publication.
	crlDir := filepath.Join(p.cfg.Dir, "crl")
	if err := os.MkdirAll(crlDir, 0o755); err != nil {
		return fmt.Errorf("registra: crl directory: %w", err)
	}
	files, err := crl.NewDirSink(crl.DirSinkConfig{Dir: crlDir})
	if err != nil {
		return err
	}
	last, err := files.Load(pub.scope, h.Issuing())
	if err != nil {
		return fmt.Errorf("registra: restoring the published CRLs: %w", err)
	}
	for _, c := range last {
		if err := pub.sink.Publish(context.Background(), c); err != nil {
			return fmt.Errorf("registra: restoring the published CRLs: %w", err)
		}
	}
	if pub.responder, err = crl.NewResponder(crl.ResponderConfig{Issuer: h.Issuing(),
		Signer: crl.KeySigner{Cert: h.OCSP(), Key: h.OCSPSigner()}, Source: pub, Now: p.now, Logger: p.log}); err != nil {
		return err
	}
	if pub.scheduler, err = crl.NewScheduler(crl.SchedulerConfig{Scope: pub.scope, Source: pub, Journal: pub,
		Signer: crl.KeySigner{Cert: h.Issuing(), Key: h.IssuingSigner()}, Publishers: []crl.Publisher{files, pub.sink},
		DistributionPoint: base + PathCRL, DeltaURL: base + PathDeltaCRL, Now: p.now, Logger: p.log}); err != nil {
		return err
	}
	p.pub = pub
	return nil
}

// CRLHandler serves the current full and delta CRLs at [PathCRL] and
// [PathDeltaCRL] (DER, application/pkix-crl, with caching headers up to
// nextUpdate), for the public listener.
func (p *Platform) CRLHandler() http.Handler { return p.pub.sink }

// OCSPHandler answers OCSP requests (RFC 6960, GET and POST) from the live
// status in the store, signed by the delegated OCSP signer; mount it at
// [PathOCSP] with the prefix stripped.
func (p *Platform) OCSPHandler() http.Handler { return p.pub.responder }

// CRLMetrics returns the CRL scheduler's Prometheus collector (publication
// lag, SLA misses, CRL numbers).
func (p *Platform) CRLMetrics() *crl.Metrics { return p.pub.scheduler.Collector() }

// PublishCRLs makes one pass of the CRL scheduler at now: a full CRL when
// the cadence calls for one (or none was published since the platform
// opened), a delta CRL when an immediate change's coalescing window, a normal
// change's deadline margin or the cadence has come. [Platform.Run] runs the
// scheduler continuously.
func (p *Platform) PublishCRLs(ctx context.Context, now time.Time) (crl.Pass, error) {
	pass, err := p.pub.scheduler.PublishDue(ctx, now)
	if err != nil {
		return pass, &Error{Op: "crl.publish", Err: err}
	}
	return pass, nil
}

// CRLReport summarises the publication receipts per mode: count, misses,
// worst and p99 lag.
func (p *Platform) CRLReport(ctx context.Context) (crl.SLAReport, error) {
	r, err := p.pub.scheduler.SLA(ctx)
	if err != nil {
		return crl.SLAReport{}, &Error{Op: "crl.report", Err: err}
	}
	return r, nil
}

// View implements crl.Source.
func (pub *publication) View(ctx context.Context, scope crl.Scope) (crl.View, error) {
	if scope != pub.scope {
		return nil, fmt.Errorf("%w: scope %q", crl.ErrNotFound, scope)
	}
	snap, err := pub.p.store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	v := &crlView{pub: pub, snap: snap}
	// The newest audit event gives the newest change visible: scan on from
	// the last one seen.
	pub.mu.Lock()
	from := pub.lastAudit
	pub.mu.Unlock()
	last := from
	if err := snap.AuditEvents(from+1, func(e store.AuditEvent) error { last = e.Seq; return nil }); err != nil {
		snap.Close()
		return nil, err
	}
	pub.mu.Lock()
	pub.lastAudit = max(pub.lastAudit, last)
	pub.mu.Unlock()
	v.seq = last*certsPerProduct + certsPerProduct - 1
	return v, nil
}

// Status implements crl.StatusSource for the OCSP responder.
func (pub *publication) Status(ctx context.Context, serial *big.Int) (crl.Status, error) {
	snap, err := pub.p.store.Snapshot(ctx)
	if err != nil {
		return crl.Status{}, err
	}
	defer snap.Close()
	return statusIn(snap, pub.p.issuerID, serial)
}

// statusIn returns the live status of a certificate from its order's
// status record and the CRL-entry table.
func statusIn(snap store.Snapshot, issuer string, serial *big.Int) (crl.Status, error) {
	pr, err := snap.ProductBySerial(issuer, serial.Bytes())
	if isNotFound(err) {
		return crl.Status{}, fmt.Errorf("%w: serial %x", crl.ErrNotFound, serial)
	}
	if err != nil {
		return crl.Status{}, err
	}
	st, err := snap.Status(pr.OrderID)
	if err != nil {
		return crl.Status{}, err
	}
	out := crl.Status{Version: st.Version}
	switch st.Status {
	case store.StatusSuspended, store.StatusRevoked:
		var entry *store.CRLEntry
		cert := pr.Certificates[slices.IndexFunc(pr.Certificates, func(c store.Certificate) bool {
			return new(big.Int).SetBytes(c.Serial).Cmp(serial) == 0
		})]
		err := snap.CRLEntries(cert.Scope(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), func(e store.CRLEntry) error {
			if new(big.Int).SetBytes(e.Serial).Cmp(serial) == 0 {
				entry = &e
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return crl.Status{}, err
		}
		if entry == nil {
			return crl.Status{}, fmt.Errorf("registra: serial %x is %s without a CRL entry", serial, st.Status)
		}
		out.State, out.Reason = crl.Revoked, crl.Reason(entry.ReasonCode)
		if st.Status == store.StatusSuspended {
			out.State, out.Reason = crl.Held, crl.CertificateHold
		}
		out.RevokedAt, out.InvalidityDate = entry.RevocationTime, entry.InvalidityDate
	}
	return out, nil
}

// crlView is one consistent view of the scope for a CRL build.
type crlView struct {
	pub  *publication
	snap store.Snapshot
	seq  uint64
}

func (v *crlView) Seq() uint64  { return v.seq }
func (v *crlView) Close() error { v.snap.Close(); return nil }

func (v *crlView) Status(_ context.Context, serial *big.Int) (crl.Status, error) {
	return statusIn(v.snap, v.pub.p.issuerID, serial)
}

// Entries streams the store's CRL-entry table, in serial order (the store
// keys serials by length, then bytes: numeric order for minimal
// big-endian magnitudes).
func (v *crlView) Entries(ctx context.Context) iter.Seq2[crl.Entry, error] {
	return func(yield func(crl.Entry, error) bool) {
		stop := errors.New("stop")
		err := v.snap.CRLEntries(store.CRLScope{Issuer: v.pub.p.issuerID}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
			func(e store.CRLEntry) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				if !yield(crl.Entry{SerialNumber: new(big.Int).SetBytes(e.Serial), RevocationTime: e.RevocationTime,
					ReasonCode: crl.Reason(e.ReasonCode), InvalidityDate: e.InvalidityDate}, nil) {
					return stop
				}
				return nil
			})
		if err != nil && !errors.Is(err, stop) {
			yield(crl.Entry{}, err)
		}
	}
}

// Listed reads the suspended and revoked products through the status
// records (an independent read of the CRL-entry table): every organisation,
// both statuses, sorted by serial.
func (v *crlView) Listed(ctx context.Context) iter.Seq2[*big.Int, error] {
	return func(yield func(*big.Int, error) bool) {
		var serials []*big.Int
		orgs, err := v.snap.Organisations()
		if err != nil {
			yield(nil, err)
			return
		}
		for _, org := range orgs {
			for _, st := range []store.Status{store.StatusSuspended, store.StatusRevoked} {
				cursor := ""
				for {
					page, err := v.snap.Search(store.SearchQuery{Org: org.ID, Status: st, Limit: store.MaxSearchLimit, Cursor: cursor})
					if err != nil {
						yield(nil, err)
						return
					}
					for _, h := range page.Hits {
						if h.Status.ProductID == "" {
							continue
						}
						pr, err := v.snap.Product(h.Status.ProductID)
						if err != nil {
							yield(nil, err)
							return
						}
						for _, c := range pr.Certificates {
							if c.Issuer == v.pub.p.issuerID {
								serials = append(serials, new(big.Int).SetBytes(c.Serial))
							}
						}
					}
					if page.Next == "" {
						break
					}
					cursor = page.Next
				}
			}
		}
		slices.SortFunc(serials, (*big.Int).Cmp)
		for _, s := range serials {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if !yield(s, nil) {
				return
			}
		}
	}
}

// Changes streams the changes of revocation status after seq, from the
// audit events that name them.
func (v *crlView) Changes(ctx context.Context, after uint64) iter.Seq2[crl.Change, error] {
	return func(yield func(crl.Change, error) bool) {
		stop := errors.New("stop")
		err := v.snap.AuditEvents(after/certsPerProduct, func(e store.AuditEvent) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			changes, err := v.pub.changesOf(v.snap, e)
			if err != nil {
				return err
			}
			for _, c := range changes {
				if c.Seq <= after || c.Seq > v.seq {
					continue
				}
				if !yield(c, nil) {
					return stop
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(crl.Change{}, err)
		}
	}
}

// changeID returns the status change an audit event records, if any.
func changeID(e store.AuditEvent) string {
	var d auditDetails
	if json.Unmarshal([]byte(e.Details), &d) != nil {
		return ""
	}
	return d.Change
}

// changesOf returns the crl changes of the status change an audit event
// records: one per certificate of the product, none when the change does
// not touch the revocation status.
func (pub *publication) changesOf(snap store.Snapshot, e store.AuditEvent) ([]crl.Change, error) {
	id := changeID(e)
	if id == "" {
		return nil, nil
	}
	ch, err := snap.StatusChange(id)
	if err != nil {
		return nil, err
	}
	if ch.Mode == store.PublicationNone {
		return nil, nil
	}
	st, err := snap.Status(ch.OrderID)
	if err != nil || st.ProductID == "" {
		return nil, err
	}
	pr, err := snap.Product(st.ProductID)
	if err != nil {
		return nil, err
	}
	c := crl.Change{RevocationTime: ch.RevocationTime, InvalidityDate: ch.InvalidityDate, RequestedAt: ch.At,
		Deadline: ch.Deadline, Mode: crl.Normal}
	if ch.Mode == store.PublicationImmediate {
		c.Mode = crl.Immediate
	}
	if ch.From == store.StatusSuspended {
		c.From = crl.Held
	}
	switch {
	case ch.To == store.StatusSuspended:
		c.Kind = crl.Suspend
	case ch.To == store.StatusRevoked:
		c.Kind, c.Reason = crl.Revoke, crl.Reason(ch.ReasonCode)
		if lifecycle.Reason(ch.ReasonCode) == lifecycle.ReasonUnspecified {
			c.Reason = crl.Unspecified
		}
	case ch.From == store.StatusSuspended && ch.To == store.StatusActive:
		c.Kind = crl.Reactivate
	default:
		return nil, nil
	}
	var out []crl.Change
	for i, cert := range pr.Certificates {
		if cert.Issuer != pub.p.issuerID || i >= certsPerProduct {
			continue
		}
		cc := c
		cc.Seq = e.Seq*certsPerProduct + uint64(i)
		cc.SerialNumber = new(big.Int).SetBytes(cert.Serial)
		out = append(out, cc)
	}
	return out, nil
}

// crlHead is the blob a scope's CRL record points to: the last published
// full and delta CRLs.
type crlHead struct {
	Full  *crl.CRLInfo `json:"full,omitempty"`
	Delta *crl.CRLInfo `json:"delta,omitempty"`
}

func (pub *publication) storeScope() store.CRLScope { return store.CRLScope{Issuer: pub.p.issuerID} }

// ReserveNumber implements crl.Journal.
func (pub *publication) ReserveNumber(ctx context.Context, _ crl.Scope) (*big.Int, error) {
	r, err := pub.p.store.Apply(ctx, &store.Batch{Commands: []store.Command{store.ReserveCRLNumber{Scope: pub.storeScope()}}})
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetUint64(r.Outputs[0].Number), nil
}

// Head implements crl.Journal.
func (pub *publication) Head(ctx context.Context, _ crl.Scope) (crl.Head, error) {
	snap, err := pub.p.store.Snapshot(ctx)
	if err != nil {
		return crl.Head{}, err
	}
	defer snap.Close()
	return pub.head(ctx, snap)
}

func (pub *publication) head(ctx context.Context, snap store.Snapshot) (crl.Head, error) {
	rec, err := snap.CRL(pub.storeScope())
	if isNotFound(err) {
		return crl.Head{}, nil
	}
	if err != nil {
		return crl.Head{}, err
	}
	h := crl.Head{}
	if rec.CRLBlob != "" {
		var hd crlHead
		if err := pub.p.getJSON(ctx, rec.CRLBlob, &hd); err != nil {
			return crl.Head{}, err
		}
		h.Full, h.Delta = hd.Full, hd.Delta
	}
	return h, nil
}

// Record implements crl.Journal: the scope's CRL record moves to the new
// head and every change first carried is marked published with its CRL
// number, in one batch.
func (pub *publication) Record(ctx context.Context, _ crl.Scope, p *crl.Publication) error {
	snap, err := pub.p.store.Snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	h, err := pub.head(ctx, snap)
	if err != nil {
		return err
	}
	hd := crlHead{Full: h.Full, Delta: h.Delta}
	newest := p.Delta
	if p.Full != nil {
		hd.Full = p.Full
		if newest == nil || p.Full.Number.Cmp(newest.Number) > 0 {
			newest = p.Full
		}
	}
	if p.Delta != nil {
		hd.Delta = p.Delta
	}
	if newest == nil {
		return fmt.Errorf("%w: a publication without a CRL", crl.ErrInvalidInput)
	}
	if last := h.LastNumber(); last != nil && newest.Number.Cmp(last) <= 0 {
		return &crl.NumberError{Number: newest.Number, Last: last}
	}
	blob, blobCmds, err := pub.p.putJSON(ctx, hd)
	if err != nil {
		return err
	}
	var ids []string
	for _, r := range p.Receipts {
		evs := []store.AuditEvent{}
		err := snap.AuditEvents(r.Seq/certsPerProduct, func(e store.AuditEvent) error {
			evs = append(evs, e)
			return errStop
		})
		if err != nil && !errors.Is(err, errStop) {
			return err
		}
		if len(evs) == 1 {
			if id := changeID(evs[0]); id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	_, err = pub.p.store.Apply(ctx, &store.Batch{Commands: append(blobCmds, store.PublishCRL{Scope: pub.storeScope(),
		Number: newest.Number.Uint64(), ThisUpdate: newest.ThisUpdate, NextUpdate: newest.NextUpdate, CRLBlob: blob,
		Changes: ids})})
	return err
}

// Receipts implements crl.Journal: the receipts are the published status
// changes, in the order of their changes.
func (pub *publication) Receipts(ctx context.Context, _ crl.Scope) iter.Seq2[crl.Receipt, error] {
	return func(yield func(crl.Receipt, error) bool) {
		snap, err := pub.p.store.Snapshot(ctx)
		if err != nil {
			yield(crl.Receipt{}, err)
			return
		}
		defer snap.Close()
		stop := errors.New("stop")
		err = snap.AuditEvents(0, func(e store.AuditEvent) error {
			changes, err := pub.changesOf(snap, e)
			if err != nil || len(changes) == 0 {
				return err
			}
			ch, err := snap.StatusChange(changeID(e))
			if err != nil {
				return err
			}
			if ch.PublishedAt.IsZero() {
				return nil
			}
			for _, c := range changes {
				r := crl.Receipt{Scope: pub.scope, Seq: c.Seq, SerialNumber: c.SerialNumber, Kind: c.Kind, Mode: c.Mode,
					RequestedAt: c.RequestedAt, Deadline: c.Deadline, PublishedAt: ch.PublishedAt,
					CRLNumber: new(big.Int).SetUint64(ch.CRLNumber)}
				if !yield(r, nil) {
					return stop
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(crl.Receipt{}, err)
		}
	}
}
