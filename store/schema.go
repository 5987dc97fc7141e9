package store

import "time"

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
	tableSteps         = "steps"
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

	// indexAt: idempotency keys by entry time, oldest first, to drop the
	// expired ones.
	indexAt = "at"

	// indexOpen: open issuance intents, oldest first, for the recovery job.
	indexOpen = "open"

	// indexOperator: an operator's sessions (operator, id), to end them.
	indexOperator = "operator"
	// indexExpires: sessions and recognition steps by their end (expiry,
	// id), for the cleanup.
	indexExpires = "expires"

	// indexHoldUntil: suspended orders by suspension end (end, order), for
	// the scheduler.
	indexHoldUntil = "hold_until"
	// indexNotAfter: active and suspended orders by the notAfter of their
	// product (notAfter, order), for the scheduler.
	indexNotAfter = "not_after"
)

// obj adapts a key function of one record type.
func obj[T any](fn func(k key, o *T) (key, bool)) keyFunc {
	return func(k key, o any) (key, bool) { return fn(k, o.(*T)) }
}

func index(name string, fn keyFunc) *indexDef { return &indexDef{name: name, key: fn} }

// idIndex is a primary index whose key is one text field: comparisons read
// the field instead of building its key.
func idIndex[T any](get func(*T) string) *indexDef {
	return &indexDef{
		name: indexID,
		key:  func(k key, o any) (key, bool) { return k.str(get(o.(*T))), true },
		text: func(o any) string { return get(o.(*T)) },
	}
}

// Every compound key ends with the record ID, so keys of distinct records
// differ. Uniqueness of values (e-mail, serial, ...) is checked by the
// commands before they write: the indexes never refuse a duplicate.
func schema() *dbSchema {
	return newSchema(
		table(tableOrganisations,
			idIndex(func(o *Organisation) string { return o.ID }),
		),
		table(tableUnits,
			idIndex(func(o *Unit) string { return o.ID }),
			index(indexOrg, obj(func(k key, o *Unit) (key, bool) { return k.str(o.OrgID).str(o.ID), true })),
		),
		table(tableOperators,
			idIndex(func(o *Operator) string { return o.ID }),
			index(indexOrg, obj(func(k key, o *Operator) (key, bool) { return k.str(o.OrgID).str(o.ID), true })),
			index(indexUsername, obj(func(k key, o *Operator) (key, bool) { return k.fold(o.Username), true })),
		),
		table(tableHolders,
			idIndex(func(o *HolderIdentity) string { return o.ID }),
			index(indexUserID, optional(func(o *HolderIdentity) string { return o.UserID })),
			index(indexTaxCode, obj(func(k key, o *HolderIdentity) (key, bool) {
				return k.fold(o.TaxCode).str(o.ID), true
			})),
			index(indexEmail, optional(func(o *HolderIdentity) string { return o.Email })),
			index(indexMobile, optional(func(o *HolderIdentity) string { return o.Mobile })),
			index(indexIUT, optional(func(o *HolderIdentity) string { return o.IUT })),
			index(indexSurname, obj(func(k key, o *HolderIdentity) (key, bool) {
				return k.fold(o.Surname).fold(o.FirstName).str(o.ID), true
			})),
			index(indexFirstName, obj(func(k key, o *HolderIdentity) (key, bool) {
				return k.fold(o.FirstName).str(o.ID), true
			})),
		),
		table(tableOrders,
			idIndex(func(o *Order) string { return o.ID }),
			index(indexOrgCreated, obj(func(k key, o *Order) (key, bool) {
				return k.str(o.OrgID).time(o.CreatedAt).str(o.ID), true
			})),
			index(indexOrgExternal, obj(func(k key, o *Order) (key, bool) {
				return k.str(o.OrgID).fold(o.ExternalCode), o.ExternalCode != ""
			})),
			index(indexOrgOperator, obj(func(k key, o *Order) (key, bool) {
				return k.str(o.OrgID).str(o.OperatorID).time(o.CreatedAt).str(o.ID), true
			})),
			index(indexHolder, obj(func(k key, o *Order) (key, bool) {
				return k.str(o.HolderID).time(o.CreatedAt).str(o.ID), true
			})),
			index(indexOrgNickname, obj(func(k key, o *Order) (key, bool) {
				return k.str(o.OrgID).fold(o.Nickname).str(o.ID), o.Nickname != ""
			})),
			index(indexOrgDevice, obj(func(k key, o *Order) (key, bool) {
				return k.str(o.OrgID).fold(o.DeviceSerial).str(o.ID), o.DeviceSerial != ""
			})),
			index(indexOrgType, obj(func(k key, o *Order) (key, bool) {
				return k.str(o.OrgID).fold(o.ProductType).time(o.CreatedAt).str(o.ID), true
			})),
		),
		table(tableStatuses,
			idIndex(func(o *StatusRecord) string { return o.OrderID }),
			index(indexOrgStatusInput, obj(func(k key, o *StatusRecord) (key, bool) {
				return k.str(o.OrgID).str(string(o.Status)).time(o.InputDate).str(o.OrderID), true
			})),
			index(indexOrgStatusActivated, obj(func(k key, o *StatusRecord) (key, bool) {
				return k.str(o.OrgID).str(string(o.Status)).time(o.ActivatedAt).str(o.OrderID), !o.ActivatedAt.IsZero()
			})),
		),
		table(tableProducts,
			idIndex(func(o *Product) string { return o.ID }),
			&indexDef{name: indexSerial, multi: func(o any) []key {
				p := o.(*Product)
				out := make([]key, 0, len(p.Certificates))
				for _, c := range p.Certificates {
					out = append(out, newKey().str(c.Issuer).serial(c.Serial))
				}
				return out
			}},
		),
		table(tableChanges,
			idIndex(func(o *StatusChange) string { return o.ID }),
			index(indexOrder, obj(func(k key, o *StatusChange) (key, bool) {
				return k.str(o.OrderID).time(o.At).str(o.ID), true
			})),
			index(indexPending, obj(func(k key, o *StatusChange) (key, bool) {
				return k.time(o.Deadline).str(o.ID), pending(o)
			})),
		),
		table(tableCRLEntries,
			index(indexID, obj(func(k key, o *CRLEntry) (key, bool) {
				return k.str(o.Issuer).u32(o.Shard).serial(o.Serial), true
			})),
		),
		table(tableCRLs,
			index(indexID, obj(func(k key, o *CRLRecord) (key, bool) { return k.str(o.Issuer).u32(o.Shard), true })),
		),
		table(tableReceipts,
			idIndex(func(o *Receipt) string { return o.ID }),
			index(indexScopeNumber, obj(func(k key, o *Receipt) (key, bool) {
				return k.str(o.Issuer).u32(o.Shard).u64(o.CRLNumber).str(o.ID), true
			})),
		),
		table(tableEvidence,
			idIndex(func(o *EvidenceRef) string { return o.ID }),
			index(indexOrder, obj(func(k key, o *EvidenceRef) (key, bool) { return k.str(o.OrderID).str(o.ID), true })),
		),
		table(tableEnvelopes,
			idIndex(func(o *EnvelopeRef) string { return o.ID }),
			index(indexOrder, obj(func(k key, o *EnvelopeRef) (key, bool) { return k.str(o.OrderID).str(o.ID), true })),
		),
		table(tableAudit,
			index(indexID, obj(func(k key, o *AuditEvent) (key, bool) { return k.u64(o.Seq), true })),
		),
		table(tableLeases,
			idIndex(func(o *Lease) string { return o.Name }),
		),
		table(tableIntents,
			idIndex(func(o *IntentRecord) string { return o.ID }),
			index(indexSerial, obj(func(k key, o *IntentRecord) (key, bool) {
				return k.str(o.Issuer).serial(o.Serial), true
			})),
			index(indexOpen, obj(func(k key, o *IntentRecord) (key, bool) {
				return k.time(o.CreatedAt).str(o.ID), o.State == IntentOpen
			})),
		),
		table(tableCredentials,
			idIndex(func(o *Credentials) string { return o.OperatorID }),
		),
		table(tableSessions,
			idIndex(func(o *Session) string { return o.ID }),
			index(indexOperator, obj(func(k key, o *Session) (key, bool) {
				return k.str(o.OperatorID).str(o.ID), true
			})),
			index(indexExpires, obj(func(k key, o *Session) (key, bool) {
				return k.time(o.ExpiresAt).str(o.ID), true
			})),
		),
		table(tableSchedules,
			idIndex(func(o *Schedule) string { return o.OrderID }),
			index(indexHoldUntil, obj(func(k key, o *Schedule) (key, bool) {
				return k.time(o.HoldUntil).str(o.OrderID), !o.HoldUntil.IsZero()
			})),
			index(indexNotAfter, obj(func(k key, o *Schedule) (key, bool) {
				return k.time(o.NotAfter).str(o.OrderID), !o.NotAfter.IsZero()
			})),
		),
		table(tableSteps,
			index(indexID, obj(func(k key, o *StepRecord) (key, bool) { return k.str(o.OrderID).str(o.Kind), true })),
			index(indexExpires, obj(func(k key, o *StepRecord) (key, bool) {
				return k.time(o.ExpiresAt).str(o.OrderID).str(o.Kind), true
			})),
		),
		table(tableIdempotency,
			index(indexID, obj(func(k key, o *idempotencyRecord) (key, bool) { return k.str(o.Org).str(o.Key), true })),
			index(indexAt, obj(func(k key, o *idempotencyRecord) (key, bool) { return k.time(o.At).str(o.Org).str(o.Key), true })),
		),
		table(tableMeta,
			idIndex(func(o *metaRecord) string { return o.Name }),
		),
	)
}

// optional indexes a folded, case-insensitively unique holder value when it
// is set.
func optional(get func(*HolderIdentity) string) keyFunc {
	return obj(func(k key, o *HolderIdentity) (key, bool) {
		v := get(o)
		return k.fold(v), v != ""
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
	CreatedAt uint64    // commit index
	At        time.Time // entry time; zero for keys restored from format 1-2 snapshots
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
