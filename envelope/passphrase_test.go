package envelope

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPassphrasePolicyChoose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		policy  PassphrasePolicy
		req     PassphraseRequest
		want    Passphrase
		wantErr error
		field   string
	}{
		{name: "tax code normalised", req: PassphraseRequest{TaxCode: "  rssmra85t10a562s \n"}, want: "RSSMRA85T10A562S"},
		{name: "tax code with omocodia", req: PassphraseRequest{TaxCode: "RSSMRA85T10A56NH"}, want: "RSSMRA85T10A56NH"},
		{name: "tax code with a typo", req: PassphraseRequest{TaxCode: "RSSMRA85T10A562T"}, wantErr: ErrInvalidInput, field: "tax_code"},
		{name: "tax code too short", req: PassphraseRequest{TaxCode: "RSSMRA85T10A562"}, wantErr: ErrInvalidInput, field: "tax_code"},
		{name: "tax code with symbol", req: PassphraseRequest{TaxCode: "RSSMRA85T10A562-"}, wantErr: ErrInvalidInput, field: "tax_code"},
		{name: "custom", req: PassphraseRequest{Custom: "correct horse battery", Confirm: "correct horse battery"}, want: "correct horse battery"},
		{name: "custom min length from policy", policy: PassphrasePolicy{MinLength: 20}, req: PassphraseRequest{Custom: "correct horse b", Confirm: "correct horse b"}, wantErr: ErrInvalidInput, field: "passphrase"},
		{name: "custom too short", req: PassphraseRequest{Custom: "short", Confirm: "short"}, wantErr: ErrInvalidInput, field: "passphrase"},
		{name: "custom too long", req: PassphraseRequest{Custom: Passphrase(strings.Repeat("a", 128)), Confirm: Passphrase(strings.Repeat("a", 128))}, wantErr: ErrInvalidInput, field: "passphrase"},
		{name: "custom non-ascii", req: PassphraseRequest{Custom: "perché-così-tanto", Confirm: "perché-così-tanto"}, wantErr: ErrInvalidInput, field: "passphrase"},
		{name: "confirmation differs", req: PassphraseRequest{Custom: "correct horse battery", Confirm: "correct horse batterY"}, wantErr: ErrInvalidInput, field: "confirm"},
		{name: "confirmation missing", req: PassphraseRequest{Custom: "correct horse battery"}, wantErr: ErrInvalidInput, field: "confirm"},
		{name: "both", req: PassphraseRequest{TaxCode: "RSSMRA85T10A562S", Custom: "correct horse battery", Confirm: "correct horse battery"}, wantErr: ErrInvalidInput, field: "passphrase"},
		{name: "neither", req: PassphraseRequest{}, wantErr: ErrInvalidInput, field: "passphrase"},
		{name: "bad policy", policy: PassphrasePolicy{MinLength: -1}, req: PassphraseRequest{TaxCode: "RSSMRA85T10A562S"}, wantErr: ErrInvalidInput, field: "min_length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.policy.Choose(tc.req)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				fe, ok := err.(*FieldError)
				require.True(t, ok)
				assert.Equal(t, tc.field, fe.Field)
				assert.Empty(t, got)
				if tc.req.Custom != "" {
					assert.NotContains(t, err.Error(), string(tc.req.Custom))
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, string(tc.want), string(got))
		})
	}
	_, err := PassphrasePolicy{}.Choose(PassphraseRequest{Custom: "short", Confirm: "short"})
	assert.EqualError(t, err, "envelope: passphrase: must be at least 12 characters")
	_, err = PassphrasePolicy{}.Choose(PassphraseRequest{TaxCode: "RSSMRA85T10A562T"})
	assert.EqualError(t, err, "envelope: tax_code: is not a valid codice fiscale (check character)",
		"the message names the rule, not the characters")
}
