package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// EncodeCommand returns the stable encoding of c: its [MessageType] byte
// followed by its fields. Equal commands encode to equal bytes.
func EncodeCommand(c Command) []byte {
	e := &encoder{b: make([]byte, 0, 128)}
	encCommand(e, c)
	return e.b
}

// DecodeCommand parses the output of [EncodeCommand]. Malformed input
// returns an error wrapping [ErrCorrupt]; it never panics.
func DecodeCommand(p []byte) (Command, error) {
	d := &decoder{b: p}
	c := decCommand(d)
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("%w: command: %w", ErrCorrupt, err)
	}
	return c, nil
}

func encCommand(e *encoder, c Command) {
	e.byte1(byte(c.MessageType()))
	switch c := c.(type) {
	case PutOrganisation:
		encOrganisation(e, &c.Organisation)
		e.u64(c.ExpectVersion)
	case PutUnit:
		encUnit(e, &c.Unit)
		e.u64(c.ExpectVersion)
	case PutOperator:
		encOperator(e, &c.Operator)
		e.u64(c.ExpectVersion)
	case PutHolder:
		encHolder(e, &c.Holder)
		e.u64(c.ExpectVersion)
	case PutCredentials:
		encCredentials(e, &c.Credentials)
		e.u64(c.ExpectVersion)
	case PutSession:
		encSession(e, &c.Session)
		e.u64(c.ExpectVersion)
	case DeleteSession:
		e.str(c.ID)
	case PutStep:
		encStep(e, &c.Step)
	case DeleteSteps:
		e.str(c.OrderID)
		e.str(c.Kind)
	case PutBlobs:
		e.u64(uint64(len(c.Blobs)))
		for _, d := range c.Blobs {
			e.bytes(d)
		}
	case PutOrder:
		encOrder(e, &c.Order)
		e.u64(c.ExpectVersion)
		e.str(string(c.InitialStatus))
	case ChangeStatus:
		encChange(e, &c.Change)
		e.u64(c.ExpectVersion)
		e.time(c.ActivatedAt)
	case PrepareIntent:
		encIntent(e, &c.Intent)
	case CompleteIntent:
		encProduct(e, &c.Product)
	case AbandonIntent:
		e.str(c.IntentID)
		e.str(c.Reason)
	case ReserveCRLNumber:
		encScope(e, c.Scope)
	case PublishCRL:
		encScope(e, c.Scope)
		e.u64(c.Number)
		e.time(c.ThisUpdate)
		e.time(c.NextUpdate)
		e.str(c.CRLBlob)
		e.strs(c.Changes)
	case PutReceipt:
		encReceipt(e, &c.Receipt)
	case AppendAudit:
		encAudit(e, &c.Event)
	case SealAudit:
		e.u32(c.Max)
		if c.From != 0 {
			e.u64(c.From)
			e.u64(uint64(len(c.Hashes)))
			for _, h := range c.Hashes {
				e.bytes(h)
			}
		}
	case PutEvidence:
		encEvidence(e, &c.Evidence)
	case PutEnvelope:
		encEnvelope(e, &c.Envelope)
	case AcquireLease:
		e.str(c.Name)
		e.str(c.Holder)
		e.i64(int64(c.TTL))
	case RenewLease:
		encToken(e, &c.Token)
		e.i64(int64(c.TTL))
	case ReleaseLease:
		encToken(e, &c.Token)
	default:
		// The Command interface is sealed: every implementation is above.
		panic(fmt.Sprintf("store: unknown command type %T", c))
	}
}

func decCommand(d *decoder) Command {
	t := MessageType(d.byte1())
	if d.err != nil {
		return nil
	}
	switch t {
	case PutOrganisationType:
		return PutOrganisation{Organisation: decOrganisation(d), ExpectVersion: d.u64()}
	case PutUnitV1Type:
		return PutUnit{Unit: decUnitV1(d), ExpectVersion: d.u64()}
	case PutUnitType:
		return PutUnit{Unit: decUnit(d), ExpectVersion: d.u64()}
	case PutCredentialsType:
		return PutCredentials{Credentials: decCredentials(d), ExpectVersion: d.u64()}
	case PutSessionType:
		return PutSession{Session: decSession(d), ExpectVersion: d.u64()}
	case DeleteSessionType:
		return DeleteSession{ID: d.str()}
	case PutStepType:
		return PutStep{Step: decStep(d)}
	case DeleteStepsType:
		return DeleteSteps{OrderID: d.str(), Kind: d.str()}
	case PutBlobsType:
		return decPutBlobs(d)
	case PutOperatorType:
		return PutOperator{Operator: decOperator(d), ExpectVersion: d.u64()}
	case PutOperatorV1Type:
		return PutOperator{Operator: decOperatorV1(d), ExpectVersion: d.u64()}
	case PutHolderType:
		return PutHolder{Holder: decHolder(d), ExpectVersion: d.u64()}
	case PutOrderType:
		return PutOrder{Order: decOrder(d), ExpectVersion: d.u64(), InitialStatus: Status(d.str())}
	case ChangeStatusType:
		return ChangeStatus{Change: decChange(d), ExpectVersion: d.u64(), ActivatedAt: d.time()}
	case PrepareIntentType:
		return PrepareIntent{Intent: decIntent(d)}
	case CompleteIntentType:
		return CompleteIntent{Product: decProduct(d)}
	case AbandonIntentType:
		return AbandonIntent{IntentID: d.str(), Reason: d.str()}
	case ReserveCRLNumberType:
		return ReserveCRLNumber{Scope: decScope(d)}
	case PublishCRLType:
		return PublishCRL{Scope: decScope(d), Number: d.u64(), ThisUpdate: d.time(), NextUpdate: d.time(),
			CRLBlob: d.str(), Changes: d.strs()}
	case PutReceiptType:
		return PutReceipt{Receipt: decReceipt(d)}
	case AppendAuditType:
		return AppendAudit{Event: decAudit(d)}
	case SealAuditV1Type:
		return SealAudit{Max: d.u32()}
	case SealAuditType:
		return decSealAudit(d)
	case PutEvidenceType:
		return PutEvidence{Evidence: decEvidence(d)}
	case PutEnvelopeType:
		return PutEnvelope{Envelope: decEnvelope(d)}
	case AcquireLeaseType:
		return AcquireLease{Name: d.str(), Holder: d.str(), TTL: time.Duration(d.i64())}
	case RenewLeaseType:
		return RenewLease{Token: decToken(d), TTL: time.Duration(d.i64())}
	case ReleaseLeaseType:
		return ReleaseLease{Token: decToken(d)}
	}
	d.fail(fmt.Sprintf("unknown message type %d", t))
	return nil
}

// logEntryVersion is the first byte of every Raft log entry this package
// writes. A node refuses entries of another version rather than guess.
const logEntryVersion = 1

// entry is a batch as it travels through the Raft log: the batch plus the
// leader's clock reading, so that every node applies the same time.
type entry struct {
	Org            string
	IdempotencyKey string
	At             time.Time
	Fence          *LeaseToken
	Commands       []Command
}

func encodeEntry(en *entry) []byte {
	size := 256
	for _, c := range en.Commands {
		if pb, ok := c.(PutBlobs); ok { // the bulk of an entry that carries blobs
			for _, d := range pb.Blobs {
				size += len(d) + binary.MaxVarintLen64
			}
		}
	}
	e := &encoder{b: make([]byte, 0, size)}
	e.byte1(logEntryVersion)
	e.str(en.Org)
	e.str(en.IdempotencyKey)
	e.time(en.At)
	encFenceAndCommands(e, en.Fence, en.Commands)
	return e.b
}

func encFenceAndCommands(e *encoder, fence *LeaseToken, cmds []Command) {
	e.boolean(fence != nil)
	if fence != nil {
		encToken(e, fence)
	}
	e.u64(uint64(len(cmds)))
	for _, c := range cmds {
		inner := &encoder{b: make([]byte, 0, 128)}
		encCommand(inner, c)
		e.bytes(inner.b)
	}
}

func decodeEntry(p []byte) (*entry, error) {
	d := &decoder{b: p}
	if v := d.byte1(); d.err == nil && v != logEntryVersion {
		return nil, fmt.Errorf("%w: log entry version %d, this program reads %d", ErrVersion, v, logEntryVersion)
	}
	en := &entry{Org: d.str(), IdempotencyKey: d.str(), At: d.time()}
	if d.boolean() {
		t := decToken(d)
		en.Fence = &t
	}
	n := d.length()
	for range n {
		cd := &decoder{b: d.raw()}
		if d.err != nil {
			break
		}
		c := decCommand(cd)
		if err := cd.end(); err != nil {
			d.fail(err.Error())
			break
		}
		en.Commands = append(en.Commands, c)
	}
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("%w: log entry: %w", ErrCorrupt, err)
	}
	return en, nil
}

// contentHash is the idempotency fingerprint of a batch: the SHA-256 of its
// fence and commands as the caller gave them (not of its key or time, nor
// of the range and hashes the store fills into a [SealAudit]).
func contentHash(fence *LeaseToken, cmds []Command) []byte {
	given := make([]Command, len(cmds))
	for i, c := range cmds {
		if s, ok := c.(SealAudit); ok {
			c = SealAudit{Max: s.Max}
		}
		given[i] = c
	}
	e := &encoder{b: make([]byte, 0, 256)}
	encFenceAndCommands(e, fence, given)
	h := sha256.Sum256(e.b)
	return h[:]
}

func decSealAudit(d *decoder) Command {
	c := SealAudit{Max: d.u32(), From: d.u64()}
	if d.err == nil && c.From == 0 {
		d.fail("seal from event 0")
		return nil
	}
	n := d.length()
	for range n {
		c.Hashes = append(c.Hashes, d.bytes())
		if d.err != nil {
			return nil
		}
	}
	return c
}

func decPutBlobs(d *decoder) Command {
	n := d.length()
	c := PutBlobs{}
	if n > 0 {
		c.Blobs = make([][]byte, 0, n)
	}
	for range n {
		c.Blobs = append(c.Blobs, d.bytes())
		if d.err != nil {
			return nil
		}
	}
	return c
}
