package registra_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/internal/taxcode"
	"github.com/registra-pki/registra/recognition"
)

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	fe, ok := errors.AsType[*registra.FieldError](err)
	require.True(t, ok, "%v", err)
	return fe.Field
}

// TestApplicantValidation: bad input is refused with the field and the rule
// and changes nothing (no order, no audit event). Drafts check what is set;
// Submit checks everything.
func TestApplicantValidation(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	op := env.User(orgA, access.RoleOperator)
	omocodia := func(code string) string {
		c, err := taxcode.MustParse(code).Omocodia(2)
		require.NoError(t, err)
		return c.String()
	}

	cases := []struct {
		name   string
		edit   func(*registra.OrderInput)
		submit bool   // the rule is checked at Submit only
		field  string // empty: accepted
	}{
		{"valid", func(*registra.OrderInput) {}, true, ""},
		{"omocodia variant", func(in *registra.OrderInput) { in.Applicant.TaxCode = omocodia(in.Applicant.TaxCode) }, true, ""},
		{"lower-case tax code", func(in *registra.OrderInput) { in.Applicant.TaxCode = "  " + toLower(in.Applicant.TaxCode) }, true, ""},
		{"check character", func(in *registra.OrderInput) { in.Applicant.TaxCode = flipCheck(in.Applicant.TaxCode) }, false, "applicant.tax_code"},
		{"another given name", func(in *registra.OrderInput) { in.Applicant.FirstName = "Zeno" }, false, "applicant.tax_code"},
		{"another surname", func(in *registra.OrderInput) { in.Applicant.Surname = "Zanetti" }, false, "applicant.tax_code"},
		{"another birth date", func(in *registra.OrderInput) { in.Applicant.BirthDate = in.Applicant.BirthDate.AddDate(0, 0, 1) }, false, "applicant.tax_code"},
		{"another sex", func(in *registra.OrderInput) { in.Applicant.Sex = flipSex(in.Applicant.Sex) }, false, "applicant.tax_code"},
		{"another birth place", func(in *registra.OrderInput) { in.Applicant.BirthPlace = "F205" }, false, "applicant.tax_code"},
		{"no names", func(in *registra.OrderInput) { in.Applicant.FirstName = "" }, false, "applicant.first_name"},
		{"bad sex", func(in *registra.OrderInput) { in.Applicant.Sex = "X" }, false, "applicant.sex"},
		{"born tomorrow", func(in *registra.OrderInput) { in.Applicant.BirthDate = testStart.AddDate(0, 0, 1) }, false, "applicant.birth_date"},
		{"e-mail", func(in *registra.OrderInput) { in.Applicant.Email = "mario.rossi@" }, false, "applicant.email"},
		{"e-mail with a name", func(in *registra.OrderInput) { in.Applicant.Email = "Mario <m@example.org>" }, false, "applicant.email"},
		{"e-mail without a domain dot", func(in *registra.OrderInput) { in.Applicant.Email = "m@localhost" }, false, "applicant.email"},
		{"mobile without prefix", func(in *registra.OrderInput) { in.Applicant.Mobile = "3401234567" }, false, "applicant.mobile"},
		{"mobile with letters", func(in *registra.OrderInput) { in.Applicant.Mobile = "+39340ABC4567" }, false, "applicant.mobile"},
		{"document type", func(in *registra.OrderInput) { in.Applicant.Document.Type = "library_card" }, false, "applicant.document.type"},
		{"document country", func(in *registra.OrderInput) { in.Applicant.Document.Country = "Italy" }, false, "applicant.document.country"},
		{"document expired", func(in *registra.OrderInput) { in.Applicant.Document.ExpiresOn = testStart.AddDate(0, 0, -1) }, false, "applicant.document.expires_on"},
		{"document issued in the future", func(in *registra.OrderInput) { in.Applicant.Document.IssuedOn = testStart.AddDate(0, 0, 2) }, false, "applicant.document.issued_on"},
		{"document issued before birth", func(in *registra.OrderInput) {
			in.Applicant.Document.IssuedOn = in.Applicant.BirthDate.AddDate(0, 0, -1)
		}, false, "applicant.document.issued_on"},
		{"product", func(in *registra.OrderInput) { in.ProductType = "gold_card" }, false, "product_type"},
		{"method for the product", func(in *registra.OrderInput) { in.Method = recognition.MethodSPID }, false, "method"},
		{"SPID product with another method", func(in *registra.OrderInput) { in.ProductType = registra.ProductRemoteSignatureSPID }, false, "method"},
		{"duration fixed offline", func(in *registra.OrderInput) { in.DurationMonths = 24 }, false, "duration_months"},
		{"duration editable with Live ID", func(in *registra.OrderInput) { in.DurationMonths = 24; in.Method = recognition.MethodLiveID }, true, ""},
		{"duration outside the catalogue", func(in *registra.OrderInput) { in.DurationMonths = 18; in.Method = recognition.MethodLiveID }, false, "duration_months"},
		{"role data on a plain product", func(in *registra.OrderInput) { in.RoleTitle = "Director" }, false, "role_organization"},
		{"role product without role data", func(in *registra.OrderInput) { in.ProductType = registra.ProductRemoteSignatureRole }, true, "role_organization"},
		{"role organisation identifier", func(in *registra.OrderInput) {
			in.ProductType = registra.ProductRemoteSignatureRole
			in.RoleOrganization, in.RoleOrganizationID, in.RoleTitle = "Acme", "01234567890", "Director"
		}, false, "role_organization_id"},
		{"role product", func(in *registra.OrderInput) {
			in.ProductType = registra.ProductRemoteSignatureRole
			in.RoleOrganization, in.RoleOrganizationID, in.RoleTitle = "Acme", "VATIT-01234567890", "Director"
		}, true, ""},
		{"no privacy consent", func(in *registra.OrderInput) { in.Applicant.PrivacyConsent = false }, true, "applicant.privacy_consent"},
		{"no residence", func(in *registra.OrderInput) { in.Applicant.Residence = registra.Address{} }, true, "applicant.residence.street"},
		{"no document", func(in *registra.OrderInput) { in.Applicant.Document = registra.Document{} }, true, "applicant.document.type"},
		{"no e-mail", func(in *registra.OrderInput) { in.Applicant.Email = "" }, true, "applicant.email"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := orderInput(40 + i)
			c.edit(&in)
			before := len(allEvents(t, env))
			o, err := env.P.CreateDraft(ctx, op.Actor, in)
			if c.field != "" && !c.submit {
				assert.Equal(t, c.field, fieldOf(t, err))
				assert.Len(t, allEvents(t, env), before, "a refused draft is not audited")
				return
			}
			require.NoError(t, err)
			before = len(allEvents(t, env))
			_, err = env.P.Submit(ctx, op.Actor, o.ID)
			if c.field == "" {
				require.NoError(t, err)
				return
			}
			assert.Equal(t, c.field, fieldOf(t, err))
			assert.Len(t, allEvents(t, env), before)
			got, err := env.P.GetOrder(ctx, op.Actor, o.ID)
			require.NoError(t, err)
			assert.Equal(t, "draft", got.Status.String())
		})
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func flipCheck(code string) string {
	last := code[15] + 1
	if last > 'Z' {
		last = 'A'
	}
	return code[:15] + string(last)
}

func flipSex(s string) string {
	if s == "M" {
		return "F"
	}
	return "M"
}

// TestContactsUnique: the e-mail and mobile of a holder identity are unused
// by any other; a used e-mail is refused with an alias proposal, which is
// accepted; deleting a request releases them.
func TestContactsUnique(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	op := env.User(orgA, access.RoleOperator)
	first, err := env.P.CreateDraft(ctx, op.Actor, orderInput(1))
	require.NoError(t, err)

	dup := orderInput(2)
	dup.Applicant.Email = "HOLDER1@example.org" // compared case-insensitively
	_, err = env.P.CreateDraft(ctx, op.Actor, dup)
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	fe, ok := errors.AsType[*registra.FieldError](err)
	require.True(t, ok)
	assert.Equal(t, "applicant.email", fe.Field)
	assert.Regexp(t, `^HOLDER1\+[a-z2-7]{6}@example\.org$`, fe.Suggestion)
	dup.Applicant.Email = fe.Suggestion
	_, err = env.P.CreateDraft(ctx, op.Actor, dup)
	require.NoError(t, err, "the alias is free")

	// Another organisation's holders count too: identities are global.
	other := orderInput(3)
	other.Applicant.Mobile = orderInput(1).Applicant.Mobile
	_, err = env.P.CreateDraft(ctx, env.User(orgB, access.RoleOperator).Actor, other)
	assert.Equal(t, "applicant.mobile", fieldOf(t, err))

	require.NoError(t, env.P.DeleteOrder(ctx, op.Actor, first.ID))
	_, err = env.P.CreateDraft(ctx, env.User(orgB, access.RoleOperator).Actor, other)
	require.NoError(t, err, "deleting the first request released its mobile")

	// The external lookup code is unique in the organisation.
	ext := orderInput(4)
	ext.ExternalCode = orderInput(2).ExternalCode
	_, err = env.P.CreateDraft(ctx, op.Actor, ext)
	assert.Equal(t, "external_code", fieldOf(t, err))
}

// TestUpdateDraft: a draft is edited (optimistic version check), the
// holder's data follow, and a request waiting for recognition is checked
// completely.
func TestUpdateDraft(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	op := env.User(orgA, access.RoleOperator)
	partial := orderInput(1)
	partial.Applicant.Document = registra.Document{}
	partial.Applicant.Residence = registra.Address{}
	o, err := env.P.CreateDraft(ctx, op.Actor, partial)
	require.NoError(t, err)
	_, err = env.P.Submit(ctx, op.Actor, o.ID)
	assert.Equal(t, "applicant.document.type", fieldOf(t, err))

	full := orderInput(1)
	full.Nickname = "desk 4"
	_, err = env.P.UpdateDraft(ctx, op.Actor, o.ID, o.Version+100, full)
	require.ErrorIs(t, err, registra.ErrConflict)
	o2, err := env.P.UpdateDraft(ctx, op.Actor, o.ID, o.Version, full)
	require.NoError(t, err)
	assert.Equal(t, "desk 4", o2.Input.Nickname)
	assert.Greater(t, o2.Version, o.Version)
	o3, err := env.P.Submit(ctx, op.Actor, o.ID)
	require.NoError(t, err)
	assert.Len(t, o3.History, 1)

	bad := full
	bad.Applicant.PrivacyConsent = false
	_, err = env.P.UpdateDraft(ctx, op.Actor, o.ID, 0, bad)
	assert.Equal(t, "applicant.privacy_consent", fieldOf(t, err), "to_identify is checked completely")
	page, err := env.P.Search(ctx, op.Actor, registra.SearchQuery{Nickname: "DESK 4"})
	require.NoError(t, err)
	require.Len(t, page.Hits, 1)
	assert.Equal(t, o.ID, page.Hits[0].OrderID)
}
