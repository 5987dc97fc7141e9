package store

import (
	"github.com/hashicorp/go-memdb"
)

// Tables. Grouped as Nomad's schema is: one constant per table, the index
// names below it.
const (
	tableOrganisations = "organisations"
	tableUnits         = "units"
	tableOperators     = "operators"
	tableHolders       = "holders"
	tableOrders        = "orders"
	tableStatuses      = "statuses"
	tableProducts      = "products"
	tableChanges       = "status_changes"
	tableCRLEntries    = "crl_entries"
	tableCRLs          = "crls"
	tableReceipts      = "receipts"
	tableEvidence      = "evidence"
	tableEnvelopes     = "envelopes"
	tableAudit         = "audit_events"
	tableLeases        = "leases"
	tableIntents       = "intents"
	tableIdempotency   = "idempotency"
	tableCredentials   = "credentials"
	tableSessions      = "sessions"
	tableSchedules     = "schedules"
	tableMeta          = "meta"
)

// Indexes. Each comment names the search filter (DESIGN.md "Search") or the
// query it serves.
const (
	// indexID is every table's primary key.
	indexID = "id"

	// indexOrg lists an organisation's units or operators.
	indexOrg = "org"
	// indexUsername: operator login, unique.
	indexUsername = "username"

	// indexUserID: filter "user ID", unique.
	indexUserID = "user_id"
	// indexTaxCode: filter "tax code".
	indexTaxCode = "tax_code"
	// indexEmail: filter "e-mail", unique (DESIGN.md "Request").
	indexEmail = "email"
	// indexMobile: filter "mobile", unique.
	indexMobile = "mobile"
	// indexIUT: filter "IUT", unique.
	indexIUT = "iut"
	// indexSurname: filters "surname" and "surname + first name" (compound).
	indexSurname = "surname"
	// indexFirstName: filter "first name".
	indexFirstName = "first_name"

	// indexOrgCreated: the default newest-first listing and filter "input
	// date" (org, input date, id).
	indexOrgCreated = "org_created"
	// indexOrgExternal: filter "external lookup code", unique per org.
	indexOrgExternal = "org_external"
	// indexOrgOperator: filter "operator" (org, operator, input date, id).
	indexOrgOperator = "org_operator"
	// indexHolder: orders of a holder, newest first; serves every holder
	// filter above (holder, input date, id).
	indexHolder = "holder"
	// indexOrgNickname: filter "nickname".
	indexOrgNickname = "org_nickname"
	// indexOrgDevice: filter "device serial".
	indexOrgDevice = "org_device"
	// indexOrgType: filter "product type" (org, type, input date, id).
	indexOrgType = "org_type"

	// indexOrgStatusInput: filter "status" and the shortcut lists (to
	// identify, to be issued, active, revoked), newest input first.
	indexOrgStatusInput = "org_status_input"
	// indexOrgStatusActivated: filter "activation date range", with or
	// without status (org, status, activation date, id).
	indexOrgStatusActivated = "org_status_activated"

	// indexSerial: get a product by issuer and serial; serials are unique
	// per issuer.
	indexSerial = "serial"

	// indexOrder: a record's order (status changes in time order, evidence,
	// envelopes, intents).
	indexOrder = "order"
	// indexPending: the scheduler's query, status changes pending
	// publication by SLA deadline (deadline, id).
	indexPending = "pending"

	// indexScopeNumber: receipts of a CRL scope by CRL number.
	indexScopeNumber = "scope_number"

	// indexOpen: open issuance intents, oldest first, for the recovery job.
	indexOpen = "open"

	// indexOperator: an operator's sessions (operator, id), to end them.
	indexOperator = "operator"
	// indexExpires: sessions by absolute end (expiry, id), for the cleanup.
	indexExpires = "expires"

	// indexHoldUntil: suspended orders by suspension end (end, order), for
	// the scheduler.
	indexHoldUntil = "hold_until"
	// indexNotAfter: active and suspended orders by the notAfter of their
	// product (notAfter, order), for the scheduler.
	indexNotAfter = "not_after"
)

func obj[T any](fn func(*T) (key, bool)) singleIndex {
	return singleIndex{fn: func(o any) (key, bool) { return fn(o.(*T)) }}
}

func index(name string, unique, allowMissing bool, ix memdb.Indexer) *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: name, Unique: unique, AllowMissing: allowMissing, Indexer: ix}
}

// Every compound key ends with the record ID, so every index is declared
// unique to go-memdb (which then does not append the ID again). Uniqueness of
// values (e-mail, serial, ...) is checked by the commands before they write:
// go-memdb itself never refuses a duplicate.
func schema() *memdb.DBSchema {
	tables := []*memdb.TableSchema{
		{Name: tableOrganisations, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Organisation) (key, bool) { return newKey().str(o.ID), true })),
		)},
		{Name: tableUnits, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Unit) (key, bool) { return newKey().str(o.ID), true })),
			index(indexOrg, true, false, obj(func(o *Unit) (key, bool) { return newKey().str(o.OrgID).str(o.ID), true })),
		)},
		{Name: tableOperators, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Operator) (key, bool) { return newKey().str(o.ID), true })),
			index(indexOrg, true, false, obj(func(o *Operator) (key, bool) { return newKey().str(o.OrgID).str(o.ID), true })),
			index(indexUsername, true, false, obj(func(o *Operator) (key, bool) { return newKey().fold(o.Username), true })),
		)},
		{Name: tableHolders, Indexes: ixs(
			index(indexID, true, false, obj(func(o *HolderIdentity) (key, bool) { return newKey().str(o.ID), true })),
			index(indexUserID, true, true, optional(func(o *HolderIdentity) string { return o.UserID })),
			index(indexTaxCode, true, false, obj(func(o *HolderIdentity) (key, bool) {
				return newKey().fold(o.TaxCode).str(o.ID), true
			})),
			index(indexEmail, true, true, optional(func(o *HolderIdentity) string { return o.Email })),
			index(indexMobile, true, true, optional(func(o *HolderIdentity) string { return o.Mobile })),
			index(indexIUT, true, true, optional(func(o *HolderIdentity) string { return o.IUT })),
			index(indexSurname, true, false, obj(func(o *HolderIdentity) (key, bool) {
				return newKey().fold(o.Surname).fold(o.FirstName).str(o.ID), true
			})),
			index(indexFirstName, true, false, obj(func(o *HolderIdentity) (key, bool) {
				return newKey().fold(o.FirstName).str(o.ID), true
			})),
		)},
		{Name: tableOrders, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Order) (key, bool) { return newKey().str(o.ID), true })),
			index(indexOrgCreated, true, false, obj(func(o *Order) (key, bool) {
				return newKey().str(o.OrgID).time(o.CreatedAt).str(o.ID), true
			})),
			index(indexOrgExternal, true, true, obj(func(o *Order) (key, bool) {
				return newKey().str(o.OrgID).fold(o.ExternalCode), o.ExternalCode != ""
			})),
			index(indexOrgOperator, true, false, obj(func(o *Order) (key, bool) {
				return newKey().str(o.OrgID).str(o.OperatorID).time(o.CreatedAt).str(o.ID), true
			})),
			index(indexHolder, true, false, obj(func(o *Order) (key, bool) {
				return newKey().str(o.HolderID).time(o.CreatedAt).str(o.ID), true
			})),
			index(indexOrgNickname, true, true, obj(func(o *Order) (key, bool) {
				return newKey().str(o.OrgID).fold(o.Nickname).str(o.ID), o.Nickname != ""
			})),
			index(indexOrgDevice, true, true, obj(func(o *Order) (key, bool) {
				return newKey().str(o.OrgID).fold(o.DeviceSerial).str(o.ID), o.DeviceSerial != ""
			})),
			index(indexOrgType, true, false, obj(func(o *Order) (key, bool) {
				return newKey().str(o.OrgID).fold(o.ProductType).time(o.CreatedAt).str(o.ID), true
			})),
		)},
		{Name: tableStatuses, Indexes: ixs(
			index(indexID, true, false, obj(func(o *StatusRecord) (key, bool) { return newKey().str(o.OrderID), true })),
			index(indexOrgStatusInput, true, false, obj(func(o *StatusRecord) (key, bool) {
				return newKey().str(o.OrgID).str(string(o.Status)).time(o.InputDate).str(o.OrderID), true
			})),
			index(indexOrgStatusActivated, true, true, obj(func(o *StatusRecord) (key, bool) {
				return newKey().str(o.OrgID).str(string(o.Status)).time(o.ActivatedAt).str(o.OrderID), !o.ActivatedAt.IsZero()
			})),
		)},
		{Name: tableProducts, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Product) (key, bool) { return newKey().str(o.ID), true })),
			index(indexSerial, true, false, multiIndex{fn: func(o any) []key {
				p := o.(*Product)
				out := make([]key, 0, len(p.Certificates))
				for _, c := range p.Certificates {
					out = append(out, newKey().str(c.Issuer).serial(c.Serial))
				}
				return out
			}}),
		)},
		{Name: tableChanges, Indexes: ixs(
			index(indexID, true, false, obj(func(o *StatusChange) (key, bool) { return newKey().str(o.ID), true })),
			index(indexOrder, true, false, obj(func(o *StatusChange) (key, bool) {
				return newKey().str(o.OrderID).time(o.At).str(o.ID), true
			})),
			index(indexPending, true, true, obj(func(o *StatusChange) (key, bool) {
				return newKey().time(o.Deadline).str(o.ID), pending(o)
			})),
		)},
		{Name: tableCRLEntries, Indexes: ixs(
			index(indexID, true, false, obj(func(o *CRLEntry) (key, bool) {
				return newKey().str(o.Issuer).u32(o.Shard).serial(o.Serial), true
			})),
		)},
		{Name: tableCRLs, Indexes: ixs(
			index(indexID, true, false, obj(func(o *CRLRecord) (key, bool) { return newKey().str(o.Issuer).u32(o.Shard), true })),
		)},
		{Name: tableReceipts, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Receipt) (key, bool) { return newKey().str(o.ID), true })),
			index(indexScopeNumber, true, false, obj(func(o *Receipt) (key, bool) {
				return newKey().str(o.Issuer).u32(o.Shard).u64(o.CRLNumber).str(o.ID), true
			})),
		)},
		{Name: tableEvidence, Indexes: ixs(
			index(indexID, true, false, obj(func(o *EvidenceRef) (key, bool) { return newKey().str(o.ID), true })),
			index(indexOrder, true, false, obj(func(o *EvidenceRef) (key, bool) { return newKey().str(o.OrderID).str(o.ID), true })),
		)},
		{Name: tableEnvelopes, Indexes: ixs(
			index(indexID, true, false, obj(func(o *EnvelopeRef) (key, bool) { return newKey().str(o.ID), true })),
			index(indexOrder, true, false, obj(func(o *EnvelopeRef) (key, bool) { return newKey().str(o.OrderID).str(o.ID), true })),
		)},
		{Name: tableAudit, Indexes: ixs(
			index(indexID, true, false, obj(func(o *AuditEvent) (key, bool) { return newKey().u64(o.Seq), true })),
		)},
		{Name: tableLeases, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Lease) (key, bool) { return newKey().str(o.Name), true })),
		)},
		{Name: tableIntents, Indexes: ixs(
			index(indexID, true, false, obj(func(o *IntentRecord) (key, bool) { return newKey().str(o.ID), true })),
			index(indexSerial, true, false, obj(func(o *IntentRecord) (key, bool) {
				return newKey().str(o.Issuer).serial(o.Serial), true
			})),
			index(indexOpen, true, true, obj(func(o *IntentRecord) (key, bool) {
				return newKey().time(o.CreatedAt).str(o.ID), o.State == IntentOpen
			})),
		)},
		{Name: tableCredentials, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Credentials) (key, bool) { return newKey().str(o.OperatorID), true })),
		)},
		{Name: tableSessions, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Session) (key, bool) { return newKey().str(o.ID), true })),
			index(indexOperator, true, false, obj(func(o *Session) (key, bool) {
				return newKey().str(o.OperatorID).str(o.ID), true
			})),
			index(indexExpires, true, false, obj(func(o *Session) (key, bool) {
				return newKey().time(o.ExpiresAt).str(o.ID), true
			})),
		)},
		{Name: tableSchedules, Indexes: ixs(
			index(indexID, true, false, obj(func(o *Schedule) (key, bool) { return newKey().str(o.OrderID), true })),
			index(indexHoldUntil, true, true, obj(func(o *Schedule) (key, bool) {
				return newKey().time(o.HoldUntil).str(o.OrderID), !o.HoldUntil.IsZero()
			})),
			index(indexNotAfter, true, true, obj(func(o *Schedule) (key, bool) {
				return newKey().time(o.NotAfter).str(o.OrderID), !o.NotAfter.IsZero()
			})),
		)},
		{Name: tableIdempotency, Indexes: ixs(
			index(indexID, true, false, obj(func(o *idempotencyRecord) (key, bool) { return newKey().str(o.Org).str(o.Key), true })),
		)},
		{Name: tableMeta, Indexes: ixs(
			index(indexID, true, false, obj(func(o *metaRecord) (key, bool) { return newKey().str(o.Name), true })),
		)},
	}
	s := &memdb.DBSchema{Tables: make(map[string]*memdb.TableSchema, len(tables))}
	for _, t := range tables {
		s.Tables[t.Name] = t
	}
	return s
}

func ixs(list ...*memdb.IndexSchema) map[string]*memdb.IndexSchema {
	m := make(map[string]*memdb.IndexSchema, len(list))
	for _, ix := range list {
		m[ix.Name] = ix
	}
	return m
}

// optional indexes a folded, case-insensitively unique holder value when it
// is set.
func optional(get func(*HolderIdentity) string) singleIndex {
	return obj(func(o *HolderIdentity) (key, bool) {
		v := get(o)
		return newKey().fold(v), v != ""
	})
}

// pending reports whether a status change still waits for publication.
func pending(c *StatusChange) bool { return !c.Deadline.IsZero() && c.PublishedAt.IsZero() }

// idempotencyRecord remembers the result of a batch sent with an
// idempotency key.
type idempotencyRecord struct {
	Org       string
	Key       string
	Hash      []byte
	Result    Result
	CreatedAt uint64 // commit index
}

// metaRecord holds the store's counters (audit sequence and chain head).
type metaRecord struct {
	Name  string
	Value uint64
	Aux   uint64
	Hash  []byte
}

const (
	metaAudit      = "audit"       // Value: last appended seq; Aux: last sealed seq; Hash: chain head
	metaAuditBreak = "audit-break" // Value: first event found changed while sealing (absent: none)
)
