package taxcode_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/taxcode"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// The people below are invented; their codes are computed, not copied from
// anyone. RSSMRA85T10A562S is the textbook example (Mario Rossi).
var people = []struct {
	name   string
	person taxcode.Person
	want   string
}{
	{"textbook Mario Rossi", taxcode.Person{Surname: "Rossi", GivenName: "Mario", BirthDate: date(1985, time.December, 10), Sex: taxcode.Male, Place: "A562"}, "RSSMRA85T10A562S"},
	{"woman, day plus 40", taxcode.Person{Surname: "Bianchi", GivenName: "Laura", BirthDate: date(1990, time.March, 5), Sex: taxcode.Female, Place: "H501"}, "BNCLRA90C45H501W"},
	{"four consonants in given name", taxcode.Person{Surname: "Verdi", GivenName: "Gianfranco", BirthDate: date(1972, time.July, 31), Sex: taxcode.Male, Place: "F205"}, "VRDGFR72L31F205P"},
	{"short surname padded with X", taxcode.Person{Surname: "Fo", GivenName: "Ida", BirthDate: date(2001, time.January, 1), Sex: taxcode.Female, Place: "Z404"}, "FOXDIA01A41Z404U"},
	{"accents and apostrophes", taxcode.Person{Surname: "D'Angelò", GivenName: "Niccolò", BirthDate: date(1968, time.October, 22), Sex: taxcode.Male, Place: "L219"}, "DNGNCL68R22L219K"},
}

func TestComputeAndParse(t *testing.T) {
	t.Parallel()
	for _, tc := range people {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := taxcode.Compute(tc.person)
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.String())

			parsed, err := taxcode.Parse(tc.want)
			require.NoError(t, err)
			assert.Equal(t, c, parsed)
			assert.NoError(t, parsed.Check(tc.person))
			assert.Equal(t, tc.person.Sex, parsed.Sex())
			assert.False(t, parsed.IsOmocodia())
			yy, m, d := parsed.BirthDay()
			assert.Equal(t, tc.person.BirthDate.Year()%100, yy)
			assert.Equal(t, tc.person.BirthDate.Month(), m)
			assert.Equal(t, tc.person.BirthDate.Day(), d)
			assert.Equal(t, tc.person.Place, parsed.Place())
		})
	}
}

func TestTextbookExample(t *testing.T) {
	t.Parallel()
	c, err := taxcode.Parse(" rssmra85t10a562s ")
	require.NoError(t, err)
	assert.Equal(t, "RSSMRA85T10A562S", c.String())
	assert.Equal(t, "RSS", c.Surname())
	assert.Equal(t, "MRA", c.GivenName())
	assert.Equal(t, byte('S'), taxcode.CheckChar("RSSMRA85T10A562"))
}

func TestOmocodia(t *testing.T) {
	t.Parallel()
	base := taxcode.MustParse("RSSMRA85T10A562S")
	seen := map[string]bool{}
	for n := 1; n <= 7; n++ {
		v, err := base.Omocodia(n)
		require.NoError(t, err)
		assert.True(t, v.IsOmocodia(), v.String())
		assert.False(t, seen[v.String()])
		seen[v.String()] = true
		parsed, err := taxcode.Parse(v.String())
		require.NoError(t, err, "variant %d %s", n, v)
		assert.Equal(t, base, parsed.Base())
		assert.NoError(t, parsed.Check(taxcode.Person{Surname: "Rossi", GivenName: "Mario", BirthDate: date(1985, time.December, 10), Sex: taxcode.Male, Place: "A562"}))
	}
	// One substitution: the rightmost digit 2 of A562 becomes N.
	v1, err := base.Omocodia(1)
	require.NoError(t, err)
	assert.Equal(t, "RSSMRA85T10A56N", v1.String()[:15])
	v7, err := base.Omocodia(7)
	require.NoError(t, err)
	assert.Equal(t, "RSSMRAURTMLARSN", v7.String()[:15])

	_, err = base.Omocodia(8)
	assert.ErrorIs(t, err, taxcode.ErrInvalid)
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantField string
	}{
		{"empty", "", "format"},
		{"too short", "RSSMRA85T10A562", "format"},
		{"too long", "RSSMRA85T10A562SS", "format"},
		{"non-ASCII", "RSSMRÀ85T10A562S", "format"},
		{"digit in surname", "R5SMRA85T10A562S", "position 2"},
		{"letter W in year", "RSSMRA8WT10A562S", "position 8"},
		{"digit as month", "RSSMRA85110A562S", "position 9"},
		{"bad month letter", "RSSMRA85F10A562S", "position 9"},
		{"day zero", "RSSMRA85T00A562S", "positions 10-11"},
		{"day 32", "RSSMRA85T32A562S", "positions 10-11"},
		{"day 72", "RSSMRA85T72A562S", "positions 10-11"},
		{"place letter is digit", "RSSMRA85T105562S", "position 12"},
		{"wrong check character", "RSSMRA85T10A562T", "check character"},
		{"check character digit", "RSSMRA85T10A5621", "position 16"},
		{"eleven-digit temporary code", "12345678901", "format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := taxcode.Parse(tc.in)
			require.ErrorIs(t, err, taxcode.ErrInvalid)
			assert.True(t, c.IsZero())
			e, ok := errors.AsType[*taxcode.Error](err)
			require.True(t, ok)
			assert.Equal(t, tc.wantField, e.Field)
		})
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := taxcode.Parse("RSSMRA85T10A562T")
	require.Error(t, err)
	assert.Equal(t, "taxcode: check character: is T, the first 15 characters give S", err.Error())
}

func TestCheckMismatch(t *testing.T) {
	t.Parallel()
	c := taxcode.MustParse("RSSMRA85T10A562S")
	ok := taxcode.Person{Surname: "Rossi", GivenName: "Mario", BirthDate: date(1985, time.December, 10), Sex: taxcode.Male, Place: "A562"}
	tests := []struct {
		name   string
		change func(*taxcode.Person)
		fields []string
	}{
		{"surname", func(p *taxcode.Person) { p.Surname = "Bruni" }, []string{"surname"}},
		{"given name", func(p *taxcode.Person) { p.GivenName = "Maria" }, nil},
		{"given name differs", func(p *taxcode.Person) { p.GivenName = "Marco" }, []string{"given name"}},
		{"birth day", func(p *taxcode.Person) { p.BirthDate = date(1985, time.December, 11) }, []string{"birth date"}},
		{"birth year", func(p *taxcode.Person) { p.BirthDate = date(1986, time.December, 10) }, []string{"birth date"}},
		{"century is not encoded", func(p *taxcode.Person) { p.BirthDate = date(1885, time.December, 10) }, nil},
		{"sex", func(p *taxcode.Person) { p.Sex = taxcode.Female }, []string{"sex"}},
		{"place", func(p *taxcode.Person) { p.Place = "H501" }, []string{"place"}},
		{"several", func(p *taxcode.Person) { p.Surname = "Bruni"; p.Sex = taxcode.Female }, []string{"surname", "sex"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := ok
			tc.change(&p)
			err := c.Check(p)
			if tc.fields == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, taxcode.ErrInvalid)
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				te, ok := errors.AsType[*taxcode.Error](e)
				require.True(t, ok)
				got = append(got, te.Field)
			}
			assert.Equal(t, tc.fields, got)
		})
	}
}

func TestComputeInvalid(t *testing.T) {
	t.Parallel()
	good := taxcode.Person{Surname: "Rossi", GivenName: "Mario", BirthDate: date(1985, time.December, 10), Sex: taxcode.Male, Place: "A562"}
	tests := []struct {
		name   string
		change func(*taxcode.Person)
		field  string
	}{
		{"no surname letters", func(p *taxcode.Person) { p.Surname = "'' " }, "surname"},
		{"no given name", func(p *taxcode.Person) { p.GivenName = "" }, "given name"},
		{"no date", func(p *taxcode.Person) { p.BirthDate = time.Time{} }, "birth date"},
		{"no sex", func(p *taxcode.Person) { p.Sex = 0 }, "sex"},
		{"bad place", func(p *taxcode.Person) { p.Place = "Rome" }, "place"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := good
			tc.change(&p)
			_, err := taxcode.Compute(p)
			e, ok := errors.AsType[*taxcode.Error](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tc.field, e.Field)
		})
	}
}

func TestNameCodes(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, surname, given string }{
		{"Rossi", "RSS", "RSS"},
		{"Gianfranco", "GNF", "GFR"},
		{"Ugo", "GUO", "GUO"},
		{"Li", "LIX", "LIX"},
		{"De Luca", "DLC", "DLC"},
		{"Maria Luisa", "MRL", "MLS"},
		{"Àèìòù", "AEI", "AEI"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.surname, taxcode.SurnameCode(tc.in), "surname %s", tc.in)
		assert.Equal(t, tc.given, taxcode.GivenNameCode(tc.in), "given %s", tc.in)
	}
}

// FuzzParse checks that Parse never panics, that what it accepts
// round-trips, has a valid check character and a base form that parses too.
// Seed corpus: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("RSSMRA85T10A562S")
	f.Add("RSSMRAURTMLARSNL")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := taxcode.Parse(s)
		if err != nil {
			if !errors.Is(err, taxcode.ErrInvalid) {
				t.Fatalf("error %v does not unwrap to ErrInvalid", err)
			}
			return
		}
		again, err := taxcode.Parse(c.String())
		if err != nil || again != c {
			t.Fatalf("round trip of %q: %v", c, err)
		}
		if _, err := taxcode.Parse(c.Base().String()); err != nil {
			t.Fatalf("base of %q does not parse: %v", c, err)
		}
		_, _, _ = c.BirthDay()
		_ = c.Sex()
	})
}
