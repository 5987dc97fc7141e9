package envelope

import (
	"testing"
)

// FuzzParseRecord: any stored bytes give a valid record or an error. The
// seed corpus in testdata/fuzz/FuzzParseRecord holds a real record and
// damaged copies.
func FuzzParseRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err != nil {
			if r != nil {
				t.Fatal("a record and an error")
			}
			return
		}
		if err := r.validate(); err != nil {
			t.Fatalf("ParseRecord returned an invalid record: %v", err)
		}
		if _, err := r.MarshalBinary(); err != nil {
			t.Fatalf("a parsed record does not marshal: %v", err)
		}
	})
}

// FuzzParsePayload: any decrypted content gives valid codes or an error.
func FuzzParsePayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		codes, err := parsePayload(b)
		if err != nil {
			if codes != nil {
				t.Fatal("codes and an error")
			}
			return
		}
		if err := codes.Validate(); err != nil {
			t.Fatalf("parsePayload returned invalid codes: %v", err)
		}
		again, err := marshalPayload(codes)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parsePayload(again)
		if err != nil || len(back) != len(codes) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
