package envelope

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSealAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newTestPDF(t)
	c := fastCMS(t)
	es, err := SealAll(ctx, testCodes, "RSSMRA85T10A562S", c, p)
	require.NoError(t, err)
	require.Len(t, es, 2)
	assert.Equal(t, FileNameCMS, es[0].FileName)
	assert.Equal(t, FileNamePDF, es[1].FileName)
	for i, o := range []Opener{c, p} {
		got, err := o.Open(ctx, es[i], "RSSMRA85T10A562S")
		require.NoError(t, err)
		assert.Equal(t, testCodes, got)
	}
	es, err = SealAll(ctx, testCodes, "", c, p)
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Nil(t, es, "all or nothing")
	_, err = SealAll(ctx, testCodes, "x")
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestDeliveryValidate(t *testing.T) {
	t.Parallel()
	e := &Envelope{FileName: FileNameCMS, Data: []byte{1}}
	tests := []struct {
		name  string
		d     Delivery
		field string
	}{
		{"ok", Delivery{ID: "prod-1.2_a", To: "a@b.it", Envelopes: []*Envelope{e}}, ""},
		{"empty id", Delivery{To: "a@b.it", Envelopes: []*Envelope{e}}, "id"},
		{"dot dot", Delivery{ID: "..", To: "a@b.it", Envelopes: []*Envelope{e}}, "id"},
		{"slash", Delivery{ID: "a/b", To: "a@b.it", Envelopes: []*Envelope{e}}, "id"},
		{"no to", Delivery{ID: "x", Envelopes: []*Envelope{e}}, "to"},
		{"no envelopes", Delivery{ID: "x", To: "a@b.it"}, "envelopes"},
		{"empty envelope", Delivery{ID: "x", To: "a@b.it", Envelopes: []*Envelope{{FileName: "a"}}}, "envelopes[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.d.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidInput)
			assert.Equal(t, tc.field, err.(*FieldError).Field)
		})
	}
}
