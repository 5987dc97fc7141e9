package crl_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/registra-pki/registra/crl"
)

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err      error
		sentinel error
		msg      string
	}{
		{&crl.FieldError{Field: "number", Rule: "must be positive"}, crl.ErrInvalidInput, "crl: number: must be positive"},
		{&crl.ReconcileError{Missing: []*big.Int{big.NewInt(0x1003)}, Extra: []*big.Int{big.NewInt(0xff), big.NewInt(0x100)}}, crl.ErrReconcile,
			"crl: reconcile: 1 serial(s) missing (first 1003) 2 serial(s) not revoked or held (first ff)"},
		{&crl.LintError{Results: map[string]string{"e_b": "error: x", "e_a": "warn: y"}}, crl.ErrLint, "crl: lint: e_a (warn: y); e_b (error: x)"},
		{&crl.NumberError{Number: big.NewInt(4), Last: big.NewInt(9)}, crl.ErrNumber, "crl: crl number 4: not greater than last published 9"},
	}
	for _, tc := range cases {
		t.Run(tc.msg, func(t *testing.T) {
			t.Parallel()
			assert.EqualError(t, tc.err, tc.msg)
			assert.True(t, errors.Is(tc.err, tc.sentinel))
		})
	}
}
