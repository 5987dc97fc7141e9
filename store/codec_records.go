package store

// Record encoders and decoders, one pair per record type, fields in
// declaration order. Changing a record's fields means a new snapshot format
// version (see snapshotVersion) and, for records embedded in commands, new
// message types.

func encOrganisation(e *encoder, v *Organisation) {
	e.str(v.ID)
	e.str(v.Name)
	e.str(v.ClientCode)
	e.time(v.CreatedAt)
	e.u64(v.Version)
}

func decOrganisation(d *decoder) Organisation {
	return Organisation{ID: d.str(), Name: d.str(), ClientCode: d.str(), CreatedAt: d.time(), Version: d.u64()}
}

func encUnit(e *encoder, v *Unit) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.Name)
	e.str(v.ParentID)
	e.u64(v.Version)
}

func decUnit(d *decoder) Unit {
	return Unit{ID: d.str(), OrgID: d.str(), Name: d.str(), ParentID: d.str(), Version: d.u64()}
}

// decUnitV1 reads a unit as [PutUnitV1Type] and snapshot format 1 wrote it,
// before units had a parent.
func decUnitV1(d *decoder) Unit {
	return Unit{ID: d.str(), OrgID: d.str(), Name: d.str(), Version: d.u64()}
}

func encCredentials(e *encoder, v *Credentials) {
	e.str(v.OperatorID)
	e.str(v.OrgID)
	e.bytes(v.Sealed)
	e.boolean(v.Confirmed)
	e.i64(v.LastStep)
	e.u32(v.Failures)
	e.time(v.LockedUntil)
	e.time(v.UpdatedAt)
	e.u64(v.Version)
}

func decCredentials(d *decoder) Credentials {
	return Credentials{OperatorID: d.str(), OrgID: d.str(), Sealed: d.bytes(), Confirmed: d.boolean(),
		LastStep: d.i64(), Failures: d.u32(), LockedUntil: d.time(), UpdatedAt: d.time(), Version: d.u64()}
}

func encSession(e *encoder, v *Session) {
	e.str(v.ID)
	e.str(v.OperatorID)
	e.str(v.OrgID)
	e.time(v.CreatedAt)
	e.time(v.LastSeen)
	e.time(v.ExpiresAt)
	e.u64(v.Version)
}

func decSession(d *decoder) Session {
	return Session{ID: d.str(), OperatorID: d.str(), OrgID: d.str(), CreatedAt: d.time(), LastSeen: d.time(),
		ExpiresAt: d.time(), Version: d.u64()}
}

func encStep(e *encoder, v *StepRecord) {
	e.str(v.OrderID)
	e.str(v.Kind)
	e.str(v.OrgID)
	e.str(v.OperatorID)
	e.str(v.Blob)
	e.time(v.CreatedAt)
	e.time(v.ExpiresAt)
}

func decStep(d *decoder) StepRecord {
	return StepRecord{OrderID: d.str(), Kind: d.str(), OrgID: d.str(), OperatorID: d.str(), Blob: d.str(),
		CreatedAt: d.time(), ExpiresAt: d.time()}
}

func encSchedule(e *encoder, v *Schedule) {
	e.str(v.OrderID)
	e.str(v.OrgID)
	e.str(string(v.Status))
	e.time(v.HoldUntil)
	e.time(v.NotAfter)
	e.u64(v.Version)
}

func decSchedule(d *decoder) Schedule {
	return Schedule{OrderID: d.str(), OrgID: d.str(), Status: Status(d.str()), HoldUntil: d.time(),
		NotAfter: d.time(), Version: d.u64()}
}

func encOperator(e *encoder, v *Operator) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.UnitID)
	e.str(v.Username)
	e.str(v.Name)
	e.str(v.Email)
	e.str(v.TaxCode)
	e.str(v.Role)
	e.boolean(v.Disabled)
	e.time(v.CreatedAt)
	e.u64(v.Version)
}

func decOperator(d *decoder) Operator {
	return Operator{ID: d.str(), OrgID: d.str(), UnitID: d.str(), Username: d.str(), Name: d.str(),
		Email: d.str(), TaxCode: d.str(), Role: d.str(), Disabled: d.boolean(), CreatedAt: d.time(), Version: d.u64()}
}

// decOperatorV1 reads an operator as [PutOperatorV1Type] and snapshot
// formats before 5 wrote it, before operators had a tax code.
func decOperatorV1(d *decoder) Operator {
	return Operator{ID: d.str(), OrgID: d.str(), UnitID: d.str(), Username: d.str(), Name: d.str(),
		Email: d.str(), Role: d.str(), Disabled: d.boolean(), CreatedAt: d.time(), Version: d.u64()}
}

func encHolder(e *encoder, v *HolderIdentity) {
	e.str(v.ID)
	e.str(v.UserID)
	e.str(v.TaxCode)
	e.str(v.FirstName)
	e.str(v.Surname)
	e.time(v.BirthDate)
	e.str(v.Email)
	e.str(v.Mobile)
	e.str(v.IUT)
	e.time(v.CreatedAt)
	e.u64(v.Version)
}

func decHolder(d *decoder) HolderIdentity {
	return HolderIdentity{ID: d.str(), UserID: d.str(), TaxCode: d.str(), FirstName: d.str(), Surname: d.str(),
		BirthDate: d.time(), Email: d.str(), Mobile: d.str(), IUT: d.str(), CreatedAt: d.time(), Version: d.u64()}
}

func encOrder(e *encoder, v *Order) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.UnitID)
	e.str(v.OperatorID)
	e.str(v.HolderID)
	e.str(v.ExternalCode)
	e.str(v.ProductType)
	e.str(v.Nickname)
	e.str(v.DeviceSerial)
	e.u32(v.DurationMonth)
	e.str(v.RoleOrg)
	e.str(v.Role)
	e.time(v.CreatedAt)
	e.time(v.UpdatedAt)
	e.u64(v.Version)
}

func decOrder(d *decoder) Order {
	return Order{ID: d.str(), OrgID: d.str(), UnitID: d.str(), OperatorID: d.str(), HolderID: d.str(),
		ExternalCode: d.str(), ProductType: d.str(), Nickname: d.str(), DeviceSerial: d.str(),
		DurationMonth: d.u32(), RoleOrg: d.str(), Role: d.str(), CreatedAt: d.time(), UpdatedAt: d.time(),
		Version: d.u64()}
}

func encCertificate(e *encoder, v *Certificate) {
	e.str(v.Issuer)
	e.u32(v.Shard)
	e.bytes(v.Serial)
	e.time(v.NotBefore)
	e.time(v.NotAfter)
	e.str(v.CertificateBlob)
}

func decCertificate(d *decoder) Certificate {
	return Certificate{Issuer: d.str(), Shard: d.u32(), Serial: d.bytes(), NotBefore: d.time(),
		NotAfter: d.time(), CertificateBlob: d.str()}
}

func encProduct(e *encoder, v *Product) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.OrderID)
	e.str(v.HolderID)
	e.str(v.ProductType)
	e.time(v.IssuedAt)
	e.u64(uint64(len(v.Certificates)))
	for i := range v.Certificates {
		encCertificate(e, &v.Certificates[i])
	}
	e.u64(v.Version)
}

func decProduct(d *decoder) Product {
	p := Product{ID: d.str(), OrgID: d.str(), OrderID: d.str(), HolderID: d.str(), ProductType: d.str(),
		IssuedAt: d.time()}
	if n := d.length(); n > 0 {
		p.Certificates = make([]Certificate, 0, n)
		for range n {
			p.Certificates = append(p.Certificates, decCertificate(d))
		}
	}
	p.Version = d.u64()
	return p
}

func encStatus(e *encoder, v *StatusRecord) {
	e.str(v.OrderID)
	e.str(v.OrgID)
	e.str(string(v.Status))
	e.time(v.InputDate)
	e.time(v.ActivatedAt)
	e.str(v.ProductID)
	e.time(v.UpdatedAt)
	e.u64(v.Version)
}

func decStatus(d *decoder) StatusRecord {
	return StatusRecord{OrderID: d.str(), OrgID: d.str(), Status: Status(d.str()), InputDate: d.time(),
		ActivatedAt: d.time(), ProductID: d.str(), UpdatedAt: d.time(), Version: d.u64()}
}

func encChange(e *encoder, v *StatusChange) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.OrderID)
	e.str(string(v.From))
	e.str(string(v.To))
	e.time(v.At)
	e.str(v.ActorID)
	e.str(v.Requester)
	e.i64(int64(v.ReasonCode))
	e.str(v.Notes)
	e.str(v.ContractBlob)
	e.str(string(v.Mode))
	e.time(v.Deadline)
	e.time(v.HoldUntil)
	e.time(v.RevocationTime)
	e.time(v.InvalidityDate)
	e.time(v.PublishedAt)
	e.u64(v.CRLNumber)
	e.u64(v.Version)
}

func decChange(d *decoder) StatusChange {
	return StatusChange{ID: d.str(), OrgID: d.str(), OrderID: d.str(), From: Status(d.str()),
		To: Status(d.str()), At: d.time(), ActorID: d.str(), Requester: d.str(), ReasonCode: d.i32(),
		Notes: d.str(), ContractBlob: d.str(), Mode: PublicationMode(d.str()), Deadline: d.time(),
		HoldUntil: d.time(), RevocationTime: d.time(), InvalidityDate: d.time(), PublishedAt: d.time(),
		CRLNumber: d.u64(), Version: d.u64()}
}

func encCRLEntry(e *encoder, v *CRLEntry) {
	e.str(v.Issuer)
	e.u32(v.Shard)
	e.bytes(v.Serial)
	e.i64(int64(v.ReasonCode))
	e.time(v.RevocationTime)
	e.time(v.InvalidityDate)
	e.str(v.OrderID)
	e.str(v.ProductID)
	e.u64(v.Version)
}

func decCRLEntry(d *decoder) CRLEntry {
	return CRLEntry{Issuer: d.str(), Shard: d.u32(), Serial: d.bytes(), ReasonCode: d.i32(),
		RevocationTime: d.time(), InvalidityDate: d.time(), OrderID: d.str(), ProductID: d.str(), Version: d.u64()}
}

func encCRL(e *encoder, v *CRLRecord) {
	e.str(v.Issuer)
	e.u32(v.Shard)
	e.u64(v.Reserved)
	e.u64(v.Number)
	e.time(v.ThisUpdate)
	e.time(v.NextUpdate)
	e.str(v.CRLBlob)
	e.time(v.PublishedAt)
	e.u64(v.Version)
}

func decCRL(d *decoder) CRLRecord {
	return CRLRecord{Issuer: d.str(), Shard: d.u32(), Reserved: d.u64(), Number: d.u64(), ThisUpdate: d.time(),
		NextUpdate: d.time(), CRLBlob: d.str(), PublishedAt: d.time(), Version: d.u64()}
}

func encReceipt(e *encoder, v *Receipt) {
	e.str(v.ID)
	e.str(v.Issuer)
	e.u32(v.Shard)
	e.u64(v.CRLNumber)
	e.str(v.Sink)
	e.time(v.PublishedAt)
	e.str(v.Detail)
	e.u64(v.Version)
}

func decReceipt(d *decoder) Receipt {
	return Receipt{ID: d.str(), Issuer: d.str(), Shard: d.u32(), CRLNumber: d.u64(), Sink: d.str(),
		PublishedAt: d.time(), Detail: d.str(), Version: d.u64()}
}

func encEvidence(e *encoder, v *EvidenceRef) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.OrderID)
	e.str(v.Method)
	e.strs(v.Blobs)
	e.time(v.CreatedAt)
	e.u64(v.Version)
}

func decEvidence(d *decoder) EvidenceRef {
	return EvidenceRef{ID: d.str(), OrgID: d.str(), OrderID: d.str(), Method: d.str(), Blobs: d.strs(),
		CreatedAt: d.time(), Version: d.u64()}
}

func encEnvelope(e *encoder, v *EnvelopeRef) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.OrderID)
	e.str(v.ProductID)
	e.str(v.Format)
	e.str(v.Blob)
	e.time(v.CreatedAt)
	e.u64(v.Version)
}

func decEnvelope(d *decoder) EnvelopeRef {
	return EnvelopeRef{ID: d.str(), OrgID: d.str(), OrderID: d.str(), ProductID: d.str(), Format: d.str(),
		Blob: d.str(), CreatedAt: d.time(), Version: d.u64()}
}

func encAudit(e *encoder, v *AuditEvent) {
	e.u64(v.Seq)
	e.str(v.OrgID)
	e.time(v.At)
	e.str(v.ActorID)
	e.str(v.Action)
	e.str(v.Subject)
	e.str(v.Details)
	e.bytes(v.Hash)
	e.u64(v.Version)
}

func decAudit(d *decoder) AuditEvent {
	return AuditEvent{Seq: d.u64(), OrgID: d.str(), At: d.time(), ActorID: d.str(), Action: d.str(),
		Subject: d.str(), Details: d.str(), Hash: d.bytes(), Version: d.u64()}
}

func encLease(e *encoder, v *Lease) {
	e.str(v.Name)
	e.str(v.Holder)
	e.u64(v.Epoch)
	e.time(v.ExpiresAt)
	e.u64(v.Version)
}

func decLease(d *decoder) Lease {
	return Lease{Name: d.str(), Holder: d.str(), Epoch: d.u64(), ExpiresAt: d.time(), Version: d.u64()}
}

func encToken(e *encoder, v *LeaseToken) {
	e.str(v.Name)
	e.str(v.Holder)
	e.u64(v.Epoch)
}

func decToken(d *decoder) LeaseToken {
	return LeaseToken{Name: d.str(), Holder: d.str(), Epoch: d.u64()}
}

func encIntent(e *encoder, v *IntentRecord) {
	e.str(v.ID)
	e.str(v.OrgID)
	e.str(v.OrderID)
	e.str(v.Issuer)
	e.u32(v.Shard)
	e.bytes(v.Serial)
	e.str(v.Profile)
	e.str(string(v.State))
	e.str(v.ProductID)
	e.str(v.Reason)
	e.time(v.CreatedAt)
	e.time(v.UpdatedAt)
	e.u64(v.Version)
}

func decIntent(d *decoder) IntentRecord {
	return IntentRecord{ID: d.str(), OrgID: d.str(), OrderID: d.str(), Issuer: d.str(), Shard: d.u32(),
		Serial: d.bytes(), Profile: d.str(), State: IntentState(d.str()), ProductID: d.str(), Reason: d.str(),
		CreatedAt: d.time(), UpdatedAt: d.time(), Version: d.u64()}
}

func encScope(e *encoder, v CRLScope) {
	e.str(v.Issuer)
	e.u32(v.Shard)
}

func decScope(d *decoder) CRLScope { return CRLScope{Issuer: d.str(), Shard: d.u32()} }
