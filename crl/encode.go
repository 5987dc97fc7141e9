package crl

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"iter"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extension OIDs (RFC 5280 §5.2, §5.3; ITU-T X.509 §9.6.2.9).
var (
	oidAuthorityKeyID    = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber         = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPoint  = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidFreshestCRL       = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidExpiredCertsOnCRL = asn1.ObjectIdentifier{2, 5, 29, 60}
	oidReasonCode        = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidityDate    = asn1.ObjectIdentifier{2, 5, 29, 24}
)

// Template holds everything of a CRL but its entries and signature.
type Template struct {
	// Number is the CRL number (RFC 5280 §5.2.3): positive, at most 20
	// octets. Required.
	Number *big.Int
	// BaseNumber, when set, makes a delta CRL whose delta CRL indicator
	// names this complete CRL (RFC 5280 §5.2.4); it must be below Number.
	BaseNumber *big.Int
	// ThisUpdate and NextUpdate bound the CRL's validity (RFC 5280
	// §5.1.2.4-5); NextUpdate must be after ThisUpdate. Required.
	ThisUpdate, NextUpdate time.Time
	// DistributionPoint, when set, is the URI of the critical issuing
	// distribution point extension (RFC 5280 §5.2.5): the URI the
	// certificates' CRL distribution points name. A delta CRL carries the
	// same one as its base, since both cover one scope.
	DistributionPoint string
	// FreshestCRL, when set on a complete CRL, is the URI where the delta
	// CRLs are published (RFC 5280 §5.2.6). Ignored on a delta CRL.
	FreshestCRL string
	// ExpiredCertsOnCRL, when set, adds the extension saying that entries
	// of certificates that expired on or after this date are kept on the
	// CRL (ITU-T X.509 §9.6.2.9), as qualified CAs do.
	ExpiredCertsOnCRL time.Time
}

// validate checks the template against the signer's certificate.
func (t *Template) validate(issuer *x509.Certificate) error {
	switch {
	case t.Number == nil || t.Number.Sign() <= 0:
		return &FieldError{Field: "number", Rule: "must be positive"}
	case len(t.Number.Bytes()) > 20 || len(t.Number.Bytes()) == 20 && t.Number.Bytes()[0]&0x80 != 0:
		return &FieldError{Field: "number", Rule: "exceeds 20 octets (RFC 5280 §5.2.3)"}
	case t.BaseNumber != nil && (t.BaseNumber.Sign() <= 0 || t.BaseNumber.Cmp(t.Number) >= 0):
		return &FieldError{Field: "base_number", Rule: "must be positive and below number"}
	case t.ThisUpdate.IsZero():
		return &FieldError{Field: "this_update", Rule: "required"}
	case !t.NextUpdate.After(t.ThisUpdate):
		return &FieldError{Field: "next_update", Rule: "must be after this_update"}
	case t.ThisUpdate.Year() < 1 || t.NextUpdate.Year() > 9999:
		return &FieldError{Field: "next_update", Rule: "out of range"}
	case issuer == nil:
		return &FieldError{Field: "signer", Rule: "has no certificate"}
	case issuer.KeyUsage&x509.KeyUsageCRLSign == 0:
		return &FieldError{Field: "signer", Rule: "certificate lacks the cRLSign key usage"}
	case len(issuer.SubjectKeyId) == 0:
		return &FieldError{Field: "signer", Rule: "certificate has no subject key identifier"}
	}
	return nil
}

// Built is a signed CRL.
type Built struct {
	// DER is the CertificateList.
	DER []byte
	// RawTBS is the TBSCertList inside DER.
	RawTBS []byte
	// Signature is the signature value.
	Signature []byte
	// Entries is the number of entries encoded.
	Entries int
	// SignatureAlgorithm is the algorithm used.
	SignatureAlgorithm x509.SignatureAlgorithm
}

// Verify checks the signature with the issuer's public key.
func (b *Built) Verify(issuer *x509.Certificate) error {
	if err := issuer.CheckSignature(b.SignatureAlgorithm, b.RawTBS, b.Signature); err != nil {
		return fmt.Errorf("%w: %w", ErrVerify, err)
	}
	return nil
}

// maxHeader is the longest DER tag-and-length header we write (lengths
// below 2^32).
const maxHeader = 6

// Build encodes and signs a CRL, streaming entries (which must come in
// strictly ascending serial order) into one buffer: no entry is kept as a Go
// value. The entries follow RFC 5280 §5.1.2.6 and §5.3: reasonCode only
// when not unspecified, invalidityDate when known. The layout (the order of
// extensions, the time encodings) is the one x509.CreateRevocationList
// produces, so both give byte-identical output for equal input.
//
// Build checks, in this order: the template, the order of the entries and
// their fields, errors from the iterator, ctx, then signs.
func Build(ctx context.Context, t *Template, entries iter.Seq2[Entry, error], s Signer) (*Built, error) {
	if s == nil {
		return nil, &FieldError{Field: "signer", Rule: "required"}
	}
	issuer := s.Certificate()
	if err := t.validate(issuer); err != nil {
		return nil, err
	}
	alg, err := sigAlgFor(issuer.PublicKey)
	if err != nil {
		return nil, err
	}

	// The fields before revokedCertificates are known up front.
	pb := cryptobyte.NewBuilder(make([]byte, 0, 256+len(issuer.RawSubject)))
	pb.AddASN1Int64(1) // v2
	alg.addAlgorithmIdentifier(pb)
	pb.AddBytes(issuer.RawSubject)
	addTime(pb, t.ThisUpdate)
	addTime(pb, t.NextUpdate)
	prefix, err := pb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("crl: encoding tbs: %w", err)
	}
	exts, err := t.extensions(issuer)
	if err != nil {
		return nil, err
	}

	// Entries stream after a gap that will receive, written backwards, the
	// revokedCertificates header, the prefix, the TBS header and the
	// CertificateList header.
	gap := 3*maxHeader + len(prefix)
	buf := make([]byte, gap, gap+64*1024)
	var (
		n    int
		last *big.Int
	)
	for e, err := range entries {
		if err != nil {
			return nil, fmt.Errorf("crl: reading entries: %w", err)
		}
		if err := checkEntry(e, last); err != nil {
			return nil, err
		}
		last = e.SerialNumber
		buf = appendEntryFast(buf, e)
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Back-fill: revokedCertificates is absent when empty (RFC 5280
	// §5.1.2.6).
	start := gap
	if n > 0 {
		start = putHeader(buf, start, byte(cbasn1.SEQUENCE), len(buf)-gap)
	}
	start -= len(prefix)
	copy(buf[start:], prefix)
	buf = append(buf, exts...)
	tbsStart := putHeader(buf, start, byte(cbasn1.SEQUENCE), len(buf)-start)
	tbs := buf[tbsStart:]

	sig, err := alg.sign(ctx, s, tbs)
	if err != nil {
		return nil, err
	}
	tail := cryptobyte.NewBuilder(make([]byte, 0, len(sig)+32))
	alg.addAlgorithmIdentifier(tail)
	tail.AddASN1BitString(sig)
	tb, err := tail.Bytes()
	if err != nil {
		return nil, fmt.Errorf("crl: encoding signature: %w", err)
	}
	tbsLen := len(tbs)
	buf = append(buf, tb...)
	certStart := putHeader(buf, tbsStart, byte(cbasn1.SEQUENCE), len(buf)-tbsStart)
	der := buf[certStart:]
	return &Built{
		DER:                der,
		RawTBS:             der[tbsStart-certStart : tbsStart-certStart+tbsLen],
		Signature:          sig,
		Entries:            n,
		SignatureAlgorithm: alg.alg,
	}, nil
}

// putHeader writes a DER tag and length ending at end and returns where it
// starts.
func putHeader(buf []byte, end int, tag byte, length int) int {
	var l [maxHeader]byte
	h := l[:0]
	h = append(h, tag)
	switch {
	case length < 0x80:
		h = append(h, byte(length))
	case length <= 0xff:
		h = append(h, 0x81, byte(length))
	case length <= 0xffff:
		h = append(h, 0x82, byte(length>>8), byte(length))
	case length <= 0xffffff:
		h = append(h, 0x83, byte(length>>16), byte(length>>8), byte(length))
	default:
		h = append(h, 0x84, byte(length>>24), byte(length>>16), byte(length>>8), byte(length))
	}
	start := end - len(h)
	copy(buf[start:], h)
	return start
}

// checkEntry checks one entry and its order after last.
func checkEntry(e Entry, last *big.Int) error {
	switch {
	case e.SerialNumber == nil || e.SerialNumber.Sign() < 0:
		return &FieldError{Field: "entries.serial_number", Rule: "required and non-negative"}
	case last != nil && e.SerialNumber.Cmp(last) <= 0:
		return &FieldError{Field: "entries.serial_number", Rule: fmt.Sprintf("%x not in strictly ascending order", e.SerialNumber)}
	case e.RevocationTime.IsZero():
		return &FieldError{Field: "entries.revocation_time", Rule: fmt.Sprintf("serial %x: required", e.SerialNumber)}
	case e.RevocationTime.Year() < 1 || e.RevocationTime.Year() > 9999:
		return &FieldError{Field: "entries.revocation_time", Rule: "out of range"}
	case !e.ReasonCode.Valid():
		return &FieldError{Field: "entries.reason_code", Rule: fmt.Sprintf("serial %x: %d is not an RFC 5280 reason", e.SerialNumber, e.ReasonCode)}
	case !e.InvalidityDate.IsZero() && (e.InvalidityDate.Year() < 1 || e.InvalidityDate.Year() > 9999):
		return &FieldError{Field: "entries.invalidity_date", Rule: "out of range"}
	}
	return nil
}

// reasonExtensions holds the DER of the reasonCode extension per code,
// encoded once.
var reasonExtensions = func() [11][]byte {
	var out [11][]byte
	for r := range out {
		b := cryptobyte.NewBuilder(nil)
		addExtension(b, oidReasonCode, false, func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(r)) })
		out[r] = b.BytesOrPanic()
	}
	return out
}()

// appendEntry appends one revokedCertificates entry with cryptobyte. It is
// the reference encoding: [appendEntryFast] must produce the same bytes
// (checked by TestAppendEntryFastMatchesCryptobyte and by the byte-for-byte
// comparison with x509.CreateRevocationList).
func appendEntry(buf []byte, e Entry) ([]byte, error) {
	b := cryptobyte.NewBuilder(buf)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(e.SerialNumber)
		addTime(b, e.RevocationTime)
		if e.ReasonCode == Unspecified && e.InvalidityDate.IsZero() {
			return
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			// x509.CreateRevocationList's order: extra extensions first,
			// then the reason code.
			if !e.InvalidityDate.IsZero() {
				addExtension(b, oidInvalidityDate, false, func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(e.InvalidityDate.UTC().Truncate(time.Second))
				})
			}
			if e.ReasonCode != Unspecified {
				b.AddBytes(reasonExtensions[e.ReasonCode])
			}
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("crl: encoding entry %x: %w", e.SerialNumber, err)
	}
	return out, nil
}

// addTime appends a Time: UTCTime through 2049, GeneralizedTime after
// (RFC 5280 §5.1.2.4).
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
		return
	}
	b.AddASN1GeneralizedTime(t)
}

// addExtension appends an Extension (RFC 5280 §4.1); critical is encoded
// only when true (DER: DEFAULT FALSE is omitted).
func addExtension(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, critical bool, value cryptobyte.BuilderContinuation) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}

// addURIDistributionPointName appends DistributionPointName fullName with
// one URI (RFC 5280 §4.2.1.13), tagged [0] as its container requires.
func addURIDistributionPointName(b *cryptobyte.Builder, uri string) {
	b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes([]byte(uri))
			})
		})
	})
}

// extensions encodes crlExtensions [0] EXPLICIT Extensions in the order
// x509.CreateRevocationList writes them (AKI, CRL number), followed by the
// ones it leaves to ExtraExtensions.
func (t *Template) extensions(issuer *x509.Certificate) ([]byte, error) {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, e := range t.extensionList(issuer) {
				addExtension(b, e.oid, e.critical, e.value)
			}
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("crl: encoding extensions: %w", err)
	}
	return out, nil
}

type extension struct {
	oid      asn1.ObjectIdentifier
	critical bool
	value    cryptobyte.BuilderContinuation
}

func (t *Template) extensionList(issuer *x509.Certificate) []extension {
	exts := []extension{
		{oidAuthorityKeyID, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(issuer.SubjectKeyId) })
			})
		}},
		{oidCRLNumber, false, func(b *cryptobyte.Builder) { b.AddASN1BigInt(t.Number) }},
	}
	if t.BaseNumber != nil {
		// RFC 5280 §5.2.4: the delta CRL indicator is critical.
		exts = append(exts, extension{oidDeltaCRLIndicator, true, func(b *cryptobyte.Builder) { b.AddASN1BigInt(t.BaseNumber) }})
	}
	if t.DistributionPoint != "" {
		// RFC 5280 §5.2.5: the issuing distribution point is critical.
		exts = append(exts, extension{oidIssuingDistPoint, true, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { addURIDistributionPointName(b, t.DistributionPoint) })
		}})
	}
	if t.FreshestCRL != "" && t.BaseNumber == nil {
		// RFC 5280 §5.2.6: non-critical, absent from delta CRLs.
		exts = append(exts, extension{oidFreshestCRL, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { addURIDistributionPointName(b, t.FreshestCRL) })
			})
		}})
	}
	if !t.ExpiredCertsOnCRL.IsZero() {
		exts = append(exts, extension{oidExpiredCertsOnCRL, false, func(b *cryptobyte.Builder) {
			b.AddASN1GeneralizedTime(t.ExpiredCertsOnCRL.UTC().Truncate(time.Second))
		}})
	}
	return exts
}

// Reconcile wraps entries so that the CRL being built lists exactly the
// serials listed yields (the status records' revoked and held serials, read
// independently): both streams are in ascending order and are merged as
// they go. When they differ, the last value yielded is a
// [*ReconcileError] naming the missing and extra serials (the first 100 of
// each), so that [Build] refuses the CRL.
func Reconcile(entries iter.Seq2[Entry, error], listed iter.Seq2[*big.Int, error]) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		next, stop := iter.Pull2(listed)
		defer stop()
		var rerr ReconcileError
		add := func(list *[]*big.Int, s *big.Int) {
			if len(*list) < 100 {
				*list = append(*list, s)
			}
		}
		cur, err, ok := next()
		if ok && err != nil {
			yield(Entry{}, fmt.Errorf("crl: reading status records: %w", err))
			return
		}
		for e, eerr := range entries {
			if eerr != nil {
				yield(Entry{}, eerr)
				return
			}
			for ok && e.SerialNumber != nil && cur.Cmp(e.SerialNumber) < 0 {
				add(&rerr.Missing, cur)
				cur, err, ok = next()
				if ok && err != nil {
					yield(Entry{}, fmt.Errorf("crl: reading status records: %w", err))
					return
				}
			}
			if ok && e.SerialNumber != nil && cur.Cmp(e.SerialNumber) == 0 {
				cur, err, ok = next()
				if ok && err != nil {
					yield(Entry{}, fmt.Errorf("crl: reading status records: %w", err))
					return
				}
			} else {
				add(&rerr.Extra, e.SerialNumber)
			}
			if !yield(e, nil) {
				return
			}
		}
		for ok {
			add(&rerr.Missing, cur)
			cur, err, ok = next()
			if ok && err != nil {
				yield(Entry{}, fmt.Errorf("crl: reading status records: %w", err))
				return
			}
		}
		if len(rerr.Missing) > 0 || len(rerr.Extra) > 0 {
			yield(Entry{}, &rerr)
		}
	}
}

// Entries returns an iterator over a slice, for callers that already hold
// their entries (tests, small CRLs).
func Entries(es []Entry) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// ParseDeltaBase returns the base CRL number of a delta CRL, or nil for a
// complete CRL (RFC 5280 §5.2.4).
func ParseDeltaBase(rl *x509.RevocationList) (*big.Int, error) {
	for _, e := range rl.Extensions {
		if e.Id.Equal(oidDeltaCRLIndicator) {
			n := new(big.Int)
			rest, err := asn1.Unmarshal(e.Value, &n)
			if err != nil || len(rest) > 0 {
				return nil, &FieldError{Field: "delta_crl_indicator", Rule: "not an INTEGER"}
			}
			return n, nil
		}
	}
	return nil, nil
}

// Pre-encoded pieces of an entry's extensions (RFC 5280 §5.3.2): the
// invalidityDate extension up to its GeneralizedTime value.
var invalidityPrefix = func() []byte {
	b := cryptobyte.NewBuilder(nil)
	addExtension(b, oidInvalidityDate, false, func(b *cryptobyte.Builder) {
		b.AddASN1GeneralizedTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	})
	der := b.BytesOrPanic()
	return der[:len(der)-15] // drop the 15 bytes of "20000101000000Z"
}()

// appendEntryFast appends one revokedCertificates entry without
// allocating: a million-entry CRL spends most of its time here. The layout
// is the one appendEntry writes with cryptobyte.
func appendEntryFast(buf []byte, e Entry) []byte {
	var sb [40]byte
	n := (e.SerialNumber.BitLen() + 7) / 8
	if n > len(sb)-1 {
		out, err := appendEntry(buf, e) // very long serial: the general path
		if err != nil {
			panic(err) // unreachable: checkEntry validated the entry
		}
		return out
	}
	serial := sb[1 : 1+n]
	e.SerialNumber.FillBytes(serial)
	if n == 0 || serial[0]&0x80 != 0 {
		serial = sb[:n+1] // a leading zero keeps the INTEGER positive
	}
	rt := e.RevocationTime.UTC()
	timeLen := 13
	if rt.Year() < 1950 || rt.Year() >= 2050 {
		timeLen = 15
	}
	extsLen := 0
	if !e.InvalidityDate.IsZero() {
		extsLen += len(invalidityPrefix) + 15
	}
	if e.ReasonCode != Unspecified {
		extsLen += len(reasonExtensions[e.ReasonCode])
	}
	content := 2 + len(serial) + 2 + timeLen
	if extsLen > 0 {
		content += derHeaderLen(extsLen) + extsLen
	}
	buf = appendHeader(buf, 0x30, content)
	buf = append(buf, 0x02, byte(len(serial)))
	buf = append(buf, serial...)
	buf = appendTime(buf, rt, timeLen == 15)
	if extsLen > 0 {
		buf = appendHeader(buf, 0x30, extsLen)
		if !e.InvalidityDate.IsZero() {
			buf = append(buf, invalidityPrefix...)
			buf = appendTime(buf[:len(buf)-2], e.InvalidityDate.UTC(), true)
		}
		if e.ReasonCode != Unspecified {
			buf = append(buf, reasonExtensions[e.ReasonCode]...)
		}
	}
	return buf
}

func derHeaderLen(length int) int {
	switch {
	case length < 0x80:
		return 2
	case length <= 0xff:
		return 3
	default:
		return 4 // entries are far below 64 KiB
	}
}

func appendHeader(buf []byte, tag byte, length int) []byte {
	switch {
	case length < 0x80:
		return append(buf, tag, byte(length))
	case length <= 0xff:
		return append(buf, tag, 0x81, byte(length))
	default:
		return append(buf, tag, 0x82, byte(length>>8), byte(length))
	}
}

// appendTime appends a UTCTime (YYMMDDHHMMSSZ) or, when generalized, a
// GeneralizedTime (YYYYMMDDHHMMSSZ), with its tag and length.
func appendTime(buf []byte, t time.Time, generalized bool) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	two := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	if generalized {
		buf = append(buf, 0x18, 15)
		buf = two(buf, year/100)
	} else {
		buf = append(buf, 0x17, 13)
	}
	buf = two(buf, year%100)
	buf = two(buf, int(month))
	buf = two(buf, day)
	buf = two(buf, hour)
	buf = two(buf, minute)
	buf = two(buf, sec)
	return append(buf, 'Z')
}
