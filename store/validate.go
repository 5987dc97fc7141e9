package store

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of "same input, same answer" (STORE.md): the store refuses what
// either backend could not hold. Indexed text stays well under PostgreSQL's
// 2,704-byte btree entry limit, even after upper-case folding.
const (
	MaxIDLen      = 64    // identifiers: ASCII letters, digits and . _ : @ -
	MaxNameLen    = 200   // names, usernames, product types, nicknames
	MaxIndexedLen = 512   // other indexed or short text
	MaxNotesLen   = 8192  // notes, reasons, receipt details
	MaxDetailsLen = 16384 // audit event details
	MaxSerialLen  = 20    // RFC 5280 §4.1.2.2: serials up to 20 octets
	MaxCommands   = 1000  // per batch: bounds the nodes one write transaction copies
	MaxSealBatch  = 10000 // audit events sealed per SealAudit
	MaxLeaseTTL   = 24 * time.Hour
	MaxBatchBlob  = 256 << 10 // one blob of a PutBlobs
	MaxBatchBlobs = 1 << 20   // the PutBlobs of one batch together
)

var (
	minTime   = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime   = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	minMicros = minTime.UnixMicro()
	maxMicros = maxTime.UnixMicro()
)

// NormalizeTime returns t in UTC, truncated to microseconds: the form every
// time comes back in from either backend.
func NormalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// checker validates fields under a path prefix; the first failure sticks.
type checker struct {
	path string
	err  error
}

func (c *checker) fail(name, rule string) {
	if c.err == nil {
		c.err = fieldErr(c.path+name, rule)
	}
}

func (c *checker) text(name, v string, maxLen int, required bool) {
	switch {
	case v == "":
		if required {
			c.fail(name, "is required")
		}
	case !utf8.ValidString(v):
		c.fail(name, "is not valid UTF-8")
	case strings.IndexByte(v, 0) >= 0:
		c.fail(name, "contains a NUL byte")
	case len(v) > maxLen:
		c.fail(name, fmt.Sprintf("is longer than %d bytes", maxLen))
	}
}

func (c *checker) id(name, v string, required bool) {
	if v == "" {
		if required {
			c.fail(name, "is required")
		}
		return
	}
	c.text(name, v, MaxIDLen, required)
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '.' || b == '_' || b == ':' || b == '@' || b == '-') {
			c.fail(name, "may contain only ASCII letters, digits and . _ : @ -")
			return
		}
	}
}

func (c *checker) time(name string, t *time.Time, required bool) {
	if t.IsZero() {
		if required {
			c.fail(name, "is required")
		}
		return
	}
	n := NormalizeTime(*t)
	if n.Before(minTime) || n.After(maxTime) {
		c.fail(name, "is outside years 1-9999")
		return
	}
	*t = n
}

func (c *checker) blob(name, v string, required bool) {
	if v == "" {
		if required {
			c.fail(name, "is required")
		}
		return
	}
	if !validHash(v) {
		c.fail(name, "is not a lower-case hex SHA-256")
	}
}

func (c *checker) serial(name string, v []byte) {
	switch {
	case len(v) == 0:
		c.fail(name, "is required")
	case len(v) > MaxSerialLen:
		c.fail(name, fmt.Sprintf("is longer than %d octets", MaxSerialLen))
	case v[0] == 0:
		c.fail(name, "has a leading zero octet")
	}
}

func (c *checker) status(name string, s Status, required bool) {
	if s == "" && !required {
		return
	}
	if !s.Valid() {
		c.fail(name, "is not a known status")
	}
}

func (c *checker) reason(name string, r int32) {
	// RFC 5280 §5.3.1: 0-10 without 7; -1 means "no reason code".
	if r < -1 || r > 10 || r == 7 {
		c.fail(name, "is not an RFC 5280 reason code")
	}
}

func (c *checker) scope(name string, s CRLScope) {
	c.id(name+".issuer", s.Issuer, true)
}

func (c *checker) version(name string, v uint64) {
	if v > 1<<62 {
		c.fail(name, "is out of range")
	}
}

func validHash(v string) bool {
	if len(v) != 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !(v[i] >= '0' && v[i] <= '9' || v[i] >= 'a' && v[i] <= 'f') {
			return false
		}
	}
	return true
}

// validateBatch checks every field of b and returns a normalised copy of its
// commands (times in UTC, truncated to microseconds). It does not modify b.
func validateBatch(b *Batch) ([]Command, error) {
	if b == nil {
		return nil, fieldErr("batch", "is required")
	}
	c := &checker{}
	c.id("batch.org", b.Org, b.IdempotencyKey != "")
	c.text("batch.idempotency_key", b.IdempotencyKey, MaxIndexedLen, false)
	if b.Fence != nil {
		c.id("batch.fence.name", b.Fence.Name, true)
		c.text("batch.fence.holder", b.Fence.Holder, MaxNameLen, true)
	}
	switch {
	case len(b.Commands) == 0:
		c.fail("batch.commands", "is empty")
	case len(b.Commands) > MaxCommands:
		c.fail("batch.commands", fmt.Sprintf("has more than %d commands", MaxCommands))
	}
	if c.err != nil {
		return nil, c.err
	}
	out := make([]Command, len(b.Commands))
	blobBytes := 0
	for i, cmd := range b.Commands {
		n, err := validateCommand(fmt.Sprintf("commands[%d].", i), cmd)
		if err != nil {
			return nil, err
		}
		if pb, ok := n.(PutBlobs); ok {
			for _, d := range pb.Blobs {
				blobBytes += len(d)
			}
			if blobBytes > MaxBatchBlobs {
				return nil, fieldErr(fmt.Sprintf("commands[%d].blobs", i),
					fmt.Sprintf("bring the batch's blobs past %d bytes", MaxBatchBlobs))
			}
		}
		out[i] = n
	}
	return out, nil
}

// validateCommand checks cmd and returns its normalised copy.
func validateCommand(path string, cmd Command) (Command, error) {
	c := &checker{path: path}
	switch v := cmd.(type) {
	case PutOrganisation:
		o := &v.Organisation
		c.id("organisation.id", o.ID, true)
		c.text("organisation.name", o.Name, MaxNameLen, true)
		c.text("organisation.client_code", o.ClientCode, MaxNameLen, false)
		c.time("organisation.created_at", &o.CreatedAt, false)
		c.version("expect_version", v.ExpectVersion)
		cmd = v
	case PutUnit:
		u := &v.Unit
		c.id("unit.id", u.ID, true)
		c.id("unit.org_id", u.OrgID, true)
		c.text("unit.name", u.Name, MaxNameLen, true)
		c.id("unit.parent_id", u.ParentID, false)
		c.version("expect_version", v.ExpectVersion)
		cmd = v
	case PutCredentials:
		cr := &v.Credentials
		c.id("credentials.operator_id", cr.OperatorID, true)
		c.id("credentials.org_id", cr.OrgID, true)
		switch {
		case len(cr.Sealed) == 0:
			c.fail("credentials.sealed", "is required")
		case len(cr.Sealed) > MaxNotesLen:
			c.fail("credentials.sealed", fmt.Sprintf("is longer than %d bytes", MaxNotesLen))
		}
		if cr.LastStep < 0 {
			c.fail("credentials.last_step", "must not be negative")
		}
		c.time("credentials.locked_until", &cr.LockedUntil, false)
		c.time("credentials.updated_at", &cr.UpdatedAt, false)
		c.version("expect_version", v.ExpectVersion)
		cmd = v
	case PutSession:
		se := &v.Session
		if !validHash(se.ID) {
			c.fail("session.id", "is not a lower-case hex SHA-256")
		}
		c.id("session.operator_id", se.OperatorID, true)
		c.id("session.org_id", se.OrgID, true)
		c.time("session.created_at", &se.CreatedAt, true)
		c.time("session.last_seen", &se.LastSeen, false)
		c.time("session.expires_at", &se.ExpiresAt, true)
		if c.err == nil && !se.ExpiresAt.After(se.CreatedAt) {
			c.fail("session.expires_at", "must be after created_at")
		}
		c.version("expect_version", v.ExpectVersion)
		cmd = v
	case DeleteSession:
		if !validHash(v.ID) {
			c.fail("id", "is not a lower-case hex SHA-256")
		}
	case PutStep:
		st := &v.Step
		c.id("step.order_id", st.OrderID, true)
		c.text("step.kind", st.Kind, MaxNameLen, true)
		c.id("step.org_id", st.OrgID, true)
		c.id("step.operator_id", st.OperatorID, false)
		c.blob("step.blob", st.Blob, true)
		c.time("step.created_at", &st.CreatedAt, true)
		c.time("step.expires_at", &st.ExpiresAt, true)
		if c.err == nil && !st.ExpiresAt.After(st.CreatedAt) {
			c.fail("step.expires_at", "must be after created_at")
		}
		cmd = v
	case DeleteSteps:
		c.id("order_id", v.OrderID, true)
		c.text("kind", v.Kind, MaxNameLen, false)
	case PutBlobs:
		if len(v.Blobs) == 0 {
			c.fail("blobs", "is empty")
		}
		for i, d := range v.Blobs {
			switch {
			case len(d) == 0:
				c.fail(fmt.Sprintf("blobs[%d]", i), "is empty")
			case len(d) > MaxBatchBlob:
				c.fail(fmt.Sprintf("blobs[%d]", i), fmt.Sprintf("is larger than %d bytes", MaxBatchBlob))
			}
		}
	case PutOperator:
		o := &v.Operator
		c.id("operator.id", o.ID, true)
		c.id("operator.org_id", o.OrgID, true)
		c.id("operator.unit_id", o.UnitID, false)
		c.text("operator.username", o.Username, MaxNameLen, true)
		c.text("operator.name", o.Name, MaxNameLen, false)
		c.text("operator.email", o.Email, 254, false)
		c.text("operator.tax_code", o.TaxCode, 32, false)
		c.text("operator.role", o.Role, MaxNameLen, true)
		c.time("operator.created_at", &o.CreatedAt, false)
		c.version("expect_version", v.ExpectVersion)
		cmd = v
	case PutHolder:
		h := &v.Holder
		c.id("holder.id", h.ID, true)
		c.id("holder.user_id", h.UserID, false)
		c.text("holder.tax_code", h.TaxCode, 32, true)
		c.text("holder.first_name", h.FirstName, MaxNameLen, true)
		c.text("holder.surname", h.Surname, MaxNameLen, true)
		c.time("holder.birth_date", &h.BirthDate, false)
		c.text("holder.email", h.Email, 254, false)
		c.text("holder.mobile", h.Mobile, 32, false)
		c.text("holder.iut", h.IUT, MaxIDLen, false)
		c.time("holder.created_at", &h.CreatedAt, false)
		c.version("expect_version", v.ExpectVersion)
		cmd = v
	case PutOrder:
		o := &v.Order
		c.id("order.id", o.ID, true)
		c.id("order.org_id", o.OrgID, true)
		c.id("order.unit_id", o.UnitID, false)
		c.id("order.operator_id", o.OperatorID, true)
		c.id("order.holder_id", o.HolderID, true)
		c.text("order.external_code", o.ExternalCode, MaxIndexedLen, false)
		c.text("order.product_type", o.ProductType, MaxNameLen, true)
		c.text("order.nickname", o.Nickname, MaxNameLen, false)
		c.text("order.device_serial", o.DeviceSerial, MaxNameLen, false)
		c.text("order.role_org", o.RoleOrg, MaxNameLen, false)
		c.text("order.role", o.Role, MaxNameLen, false)
		c.time("order.created_at", &o.CreatedAt, true)
		c.time("order.updated_at", &o.UpdatedAt, false)
		c.version("expect_version", v.ExpectVersion)
		if v.ExpectVersion == 0 {
			if v.InitialStatus != StatusDraft && v.InitialStatus != StatusToIdentify {
				c.fail("initial_status", "must be draft or to_identify")
			}
		} else if v.InitialStatus != "" {
			c.fail("initial_status", "is only for creation")
		}
		cmd = v
	case ChangeStatus:
		s := &v.Change
		c.id("change.id", s.ID, true)
		c.id("change.order_id", s.OrderID, true)
		c.status("change.from", s.From, true)
		c.status("change.to", s.To, true)
		c.time("change.at", &s.At, true)
		c.id("change.actor_id", s.ActorID, false)
		c.text("change.requester", s.Requester, MaxNameLen, false)
		c.reason("change.reason_code", s.ReasonCode)
		c.text("change.notes", s.Notes, MaxNotesLen, false)
		c.blob("change.contract_blob", s.ContractBlob, false)
		switch s.Mode {
		case PublicationNone, PublicationNormal, PublicationImmediate:
		default:
			c.fail("change.mode", "is not a publication mode")
		}
		c.time("change.deadline", &s.Deadline, s.Mode != PublicationNone)
		c.time("change.hold_until", &s.HoldUntil, false)
		c.time("change.revocation_time", &s.RevocationTime, false)
		c.time("change.invalidity_date", &s.InvalidityDate, false)
		if !s.PublishedAt.IsZero() || s.CRLNumber != 0 || s.Version != 0 || s.OrgID != "" {
			c.fail("change", "org_id, published_at, crl_number and version are set by the store")
		}
		c.time("activated_at", &v.ActivatedAt, false)
		c.version("expect_version", v.ExpectVersion)
		cmd = v
	case PrepareIntent:
		in := &v.Intent
		c.id("intent.id", in.ID, true)
		c.id("intent.org_id", in.OrgID, true)
		c.id("intent.order_id", in.OrderID, true)
		c.id("intent.issuer", in.Issuer, true)
		c.serial("intent.serial", in.Serial)
		c.text("intent.profile", in.Profile, MaxNameLen, false)
		c.time("intent.created_at", &in.CreatedAt, true)
		if in.State != "" || in.ProductID != "" || in.Reason != "" || !in.UpdatedAt.IsZero() || in.Version != 0 {
			c.fail("intent", "state, product_id, reason, updated_at and version are set by the store")
		}
		cmd = v
	case CompleteIntent:
		p := &v.Product
		c.id("product.id", p.ID, true)
		c.id("product.org_id", p.OrgID, true)
		c.id("product.order_id", p.OrderID, true)
		c.id("product.holder_id", p.HolderID, true)
		c.text("product.product_type", p.ProductType, MaxNameLen, true)
		c.time("product.issued_at", &p.IssuedAt, true)
		if len(p.Certificates) == 0 || len(p.Certificates) > 4 {
			c.fail("product.certificates", "must have 1-4 certificates")
		}
		p.Certificates = append([]Certificate(nil), p.Certificates...)
		for i := range p.Certificates {
			cert := &p.Certificates[i]
			n := fmt.Sprintf("product.certificates[%d].", i)
			c.id(n+"issuer", cert.Issuer, true)
			c.serial(n+"serial", cert.Serial)
			c.time(n+"not_before", &cert.NotBefore, true)
			c.time(n+"not_after", &cert.NotAfter, true)
			c.blob(n+"certificate_blob", cert.CertificateBlob, true)
		}
		cmd = v
	case AbandonIntent:
		c.id("intent_id", v.IntentID, true)
		c.text("reason", v.Reason, MaxNotesLen, true)
	case ReserveCRLNumber:
		c.scope("scope", v.Scope)
	case PublishCRL:
		c.scope("scope", v.Scope)
		if v.Number == 0 {
			c.fail("number", "is required")
		}
		c.time("this_update", &v.ThisUpdate, true)
		c.time("next_update", &v.NextUpdate, false)
		c.blob("crl_blob", v.CRLBlob, true)
		if len(v.Changes) > MaxCommands*10 {
			c.fail("changes", "lists too many changes")
		}
		for i, id := range v.Changes {
			c.id(fmt.Sprintf("changes[%d]", i), id, true)
		}
		cmd = v
	case PutReceipt:
		r := &v.Receipt
		c.id("receipt.id", r.ID, true)
		c.id("receipt.issuer", r.Issuer, true)
		if r.CRLNumber == 0 {
			c.fail("receipt.crl_number", "is required")
		}
		c.text("receipt.sink", r.Sink, MaxNameLen, true)
		c.time("receipt.published_at", &r.PublishedAt, true)
		c.text("receipt.detail", r.Detail, MaxNotesLen, false)
		cmd = v
	case AppendAudit:
		a := &v.Event
		c.id("event.org_id", a.OrgID, false)
		c.time("event.at", &a.At, true)
		c.id("event.actor_id", a.ActorID, false)
		c.text("event.action", a.Action, MaxNameLen, true)
		c.text("event.subject", a.Subject, MaxIndexedLen, false)
		c.text("event.details", a.Details, MaxDetailsLen, false)
		if a.Seq != 0 || len(a.Hash) != 0 || a.Version != 0 {
			c.fail("event", "seq, hash and version are set by the store")
		}
		cmd = v
	case SealAudit:
		if v.Max == 0 || v.Max > MaxSealBatch {
			c.fail("max", fmt.Sprintf("must be 1-%d", MaxSealBatch))
		}
		if len(v.Hashes) > int(v.Max) || (v.From == 0 && len(v.Hashes) != 0) {
			c.fail("hashes", "has more hashes than max, or hashes without from")
		}
		for i, h := range v.Hashes {
			if len(h) != sha256.Size {
				c.fail(fmt.Sprintf("hashes[%d]", i), "must be a SHA-256 hash")
			}
		}
	case PutEvidence:
		ev := &v.Evidence
		c.id("evidence.id", ev.ID, true)
		c.id("evidence.org_id", ev.OrgID, true)
		c.id("evidence.order_id", ev.OrderID, true)
		c.text("evidence.method", ev.Method, MaxNameLen, true)
		if len(ev.Blobs) > 64 {
			c.fail("evidence.blobs", "has more than 64 blobs")
		}
		for i, b := range ev.Blobs {
			c.blob(fmt.Sprintf("evidence.blobs[%d]", i), b, true)
		}
		c.time("evidence.created_at", &ev.CreatedAt, true)
		cmd = v
	case PutEnvelope:
		en := &v.Envelope
		c.id("envelope.id", en.ID, true)
		c.id("envelope.org_id", en.OrgID, true)
		c.id("envelope.order_id", en.OrderID, true)
		c.id("envelope.product_id", en.ProductID, false)
		c.text("envelope.format", en.Format, MaxNameLen, true)
		c.blob("envelope.blob", en.Blob, true)
		c.time("envelope.created_at", &en.CreatedAt, true)
		cmd = v
	case AcquireLease:
		c.id("name", v.Name, true)
		c.text("holder", v.Holder, MaxNameLen, true)
		if v.TTL <= 0 || v.TTL > MaxLeaseTTL {
			c.fail("ttl", "must be positive and at most 24h")
		}
	case RenewLease:
		c.id("token.name", v.Token.Name, true)
		c.text("token.holder", v.Token.Holder, MaxNameLen, true)
		if v.TTL <= 0 || v.TTL > MaxLeaseTTL {
			c.fail("ttl", "must be positive and at most 24h")
		}
	case ReleaseLease:
		c.id("token.name", v.Token.Name, true)
		c.text("token.holder", v.Token.Holder, MaxNameLen, true)
	case nil:
		c.fail("", "command is nil")
	default:
		c.fail("", fmt.Sprintf("unknown command %T", cmd))
	}
	if c.err != nil {
		return nil, c.err
	}
	return cmd, nil
}
