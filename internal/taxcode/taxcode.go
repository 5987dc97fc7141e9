package taxcode

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Length is the number of characters of a personal tax code.
const Length = 16

// ErrInvalid is the sentinel every validation error of this package unwraps
// to.
var ErrInvalid = errors.New("taxcode: invalid tax code")

// Error reports which rule a tax code breaks. It unwraps to [ErrInvalid].
type Error struct {
	// Field names what was checked: "format", "position 9", "check
	// character", "surname", "given name", "birth date", "sex".
	Field string
	// Rule states the rule in a few words.
	Rule string
}

// Error implements error, as "taxcode: <field>: <rule>".
func (e *Error) Error() string {
	return "taxcode: " + e.Field + ": " + e.Rule
}

// Unwrap returns [ErrInvalid].
func (e *Error) Unwrap() error { return ErrInvalid }

func invalid(field, rule string) error { return &Error{Field: field, Rule: rule} }

// Sex is the sex encoded in a tax code (in the birth day).
type Sex int

// The two values of [Sex].
const (
	Male Sex = iota + 1
	Female
)

// String returns "M" or "F" ("?" for an unknown value).
func (s Sex) String() string {
	switch s {
	case Male:
		return "M"
	case Female:
		return "F"
	default:
		return "?"
	}
}

// monthLetters maps the month letter to the month (index + 1).
const monthLetters = "ABCDEHLMPRST"

// omocodiaLetters replaces the digits 0-9 in omocodia variants.
const omocodiaLetters = "LMNPQRSTUV"

// omocodiaPositions are the 0-based positions whose digits may be replaced,
// from the right, in omocodia variants.
var omocodiaPositions = [...]int{6, 7, 9, 10, 12, 13, 14}

// oddValues gives the value of a character in an odd (1st, 3rd, ...)
// position for the check character, indexed by 0-9 then A-Z.
var oddValues = [36]int{
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // A-J
	2, 4, 18, 20, 11, 3, 6, 8, 12, 14, // K-T
	16, 10, 22, 25, 24, 23, // U-Z
}

// Code is a syntactically valid personal tax code, upper case. The zero
// value is not a valid code.
type Code struct {
	s string
}

// String returns the code as 16 upper-case characters.
func (c Code) String() string { return c.s }

// IsZero reports whether c is the zero Code.
func (c Code) IsZero() bool { return c.s == "" }

// Parse checks s and returns it as a [Code]. Leading and trailing spaces are
// trimmed and lower-case letters accepted. The checks, in order: length,
// letters and digits in their places (omocodia letters allowed where
// digits go), the month letter, the day (1-31 or 41-71), and the check
// character. The first rule broken is returned as a [*Error].
func Parse(s string) (Code, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if n := utf8.RuneCountInString(s); n != Length {
		return Code{}, invalid("format", fmt.Sprintf("must have %d characters, has %d", Length, n))
	}
	if len(s) != Length {
		return Code{}, invalid("format", "must contain only letters A-Z and digits")
	}
	for i := 0; i < Length; i++ {
		c := s[i]
		switch {
		case isLetterPos(i):
			if !isUpper(c) {
				return Code{}, invalid(fmt.Sprintf("position %d", i+1), "must be a letter")
			}
		case isOmocodiaPos(i):
			if !isDigit(c) && strings.IndexByte(omocodiaLetters, c) < 0 {
				return Code{}, invalid(fmt.Sprintf("position %d", i+1), "must be a digit or one of the omocodia letters "+omocodiaLetters)
			}
		}
	}
	base := toBase(s)
	if strings.IndexByte(monthLetters, base[8]) < 0 {
		return Code{}, invalid("position 9", "month letter must be one of "+monthLetters)
	}
	day := int(base[9]-'0')*10 + int(base[10]-'0')
	if (day < 1 || day > 31) && (day < 41 || day > 71) {
		return Code{}, invalid("positions 10-11", "day must be 01-31 (men) or 41-71 (women)")
	}
	if want := CheckChar(s[:15]); s[15] != want {
		return Code{}, invalid("check character", fmt.Sprintf("is %c, the first 15 characters give %c", s[15], want))
	}
	return Code{s: s}, nil
}

// MustParse is [Parse] for tests and constants: it panics on an invalid code.
func MustParse(s string) Code {
	c, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

func isLetterPos(i int) bool { return i < 6 || i == 8 || i == 11 || i == 15 }

func isOmocodiaPos(i int) bool {
	for _, p := range omocodiaPositions {
		if p == i {
			return true
		}
	}
	return false
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// toBase replaces omocodia letters with their digits; s must have 16
// characters.
func toBase(s string) string {
	b := []byte(s)
	for _, p := range omocodiaPositions {
		if i := strings.IndexByte(omocodiaLetters, b[p]); i >= 0 {
			b[p] = byte('0' + i)
		}
	}
	return string(b)
}

// CheckChar computes the check character of the first 15 characters of a
// code (upper-case letters and digits). Characters in odd positions (1st,
// 3rd, ...) are valued with the odd table, the others with their rank (0-9,
// A=0 ... Z=25); the sum modulo 26 is the letter. It panics if first15 is not
// 15 upper-case letters or digits: callers validate first.
func CheckChar(first15 string) byte {
	if len(first15) != 15 {
		panic("taxcode: CheckChar needs 15 characters")
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := first15[i]
		var idx int
		switch {
		case isDigit(c):
			idx = int(c - '0')
		case isUpper(c):
			idx = int(c-'A') + 10
		default:
			panic("taxcode: CheckChar: not a letter or digit")
		}
		if i%2 == 0 {
			sum += oddValues[idx]
		} else if idx < 10 {
			sum += idx
		} else {
			sum += idx - 10
		}
	}
	return byte('A' + sum%26)
}

// Base returns the code with omocodia letters replaced by digits and the
// check character recomputed: the code as first assigned.
func (c Code) Base() Code {
	if c.s == "" {
		return c
	}
	b := toBase(c.s)
	return Code{s: b[:15] + string(CheckChar(b[:15]))}
}

// IsOmocodia reports whether c is an omocodia variant (a digit replaced).
func (c Code) IsOmocodia() bool { return c.s != "" && toBase(c.s) != c.s }

// Surname returns the three letters encoding the surname.
func (c Code) Surname() string { return c.s[:3] }

// GivenName returns the three letters encoding the given name.
func (c Code) GivenName() string { return c.s[3:6] }

// Sex returns the sex encoded in the day field.
func (c Code) Sex() Sex {
	if c.day() > 40 {
		return Female
	}
	return Male
}

func (c Code) day() int {
	b := toBase(c.s)
	return int(b[9]-'0')*10 + int(b[10]-'0')
}

// BirthDay returns the two-digit year (0-99), the month and the day of
// birth. The century is not encoded.
func (c Code) BirthDay() (yy int, month time.Month, day int) {
	b := toBase(c.s)
	yy = int(b[6]-'0')*10 + int(b[7]-'0')
	month = time.Month(strings.IndexByte(monthLetters, b[8]) + 1)
	day = c.day()
	if day > 40 {
		day -= 40
	}
	return yy, month, day
}

// Place returns the four-character municipality (or foreign country) code,
// with digits restored.
func (c Code) Place() string { return toBase(c.s)[11:15] }

// Person is what a tax code is computed from.
type Person struct {
	// Surname is the family name as on the identity document.
	Surname string
	// GivenName is the given name(s) as on the identity document.
	GivenName string
	// BirthDate is the date of birth; only year, month and day are used.
	BirthDate time.Time
	// Sex is the sex recorded at birth, encoded in the day field.
	Sex Sex
	// Place is the cadastral code of the municipality of birth (e.g.
	// "H501" for Rome) or "Z" + 3 digits for a foreign country.
	Place string
}

// Check reports whether c is consistent with p: surname and given-name
// letters, birth year (last two digits), month and day, sex and, when
// p.Place is set, the place code. Each mismatch is a [*Error]; several are
// joined with [errors.Join].
func (c Code) Check(p Person) error {
	if c.s == "" {
		return invalid("format", "empty code")
	}
	var errs []error
	if p.Surname != "" {
		if want := SurnameCode(p.Surname); want != c.Surname() {
			errs = append(errs, invalid("surname", fmt.Sprintf("code has %s, the surname gives %s", c.Surname(), want)))
		}
	}
	if p.GivenName != "" {
		if want := GivenNameCode(p.GivenName); want != c.GivenName() {
			errs = append(errs, invalid("given name", fmt.Sprintf("code has %s, the given name gives %s", c.GivenName(), want)))
		}
	}
	if !p.BirthDate.IsZero() {
		yy, m, d := c.BirthDay()
		if yy != p.BirthDate.Year()%100 || m != p.BirthDate.Month() || d != p.BirthDate.Day() {
			errs = append(errs, invalid("birth date", fmt.Sprintf("code has %02d-%02d-%02d (yy-mm-dd), the person was born on %s", yy, m, d, p.BirthDate.Format(time.DateOnly))))
		}
	}
	if p.Sex != 0 && p.Sex != c.Sex() {
		errs = append(errs, invalid("sex", fmt.Sprintf("code encodes %s, the person is %s", c.Sex(), p.Sex)))
	}
	if p.Place != "" && !strings.EqualFold(p.Place, c.Place()) {
		errs = append(errs, invalid("place", fmt.Sprintf("code has %s, the person was born in %s", c.Place(), strings.ToUpper(p.Place))))
	}
	return errors.Join(errs...)
}

// Compute returns the base (non-omocodia) tax code of p. It fails when a
// name has no letters, the date is zero, the sex is unknown or the place is
// not a letter followed by three digits.
func Compute(p Person) (Code, error) {
	if len(letters(p.Surname)) == 0 {
		return Code{}, invalid("surname", "must contain a letter")
	}
	if len(letters(p.GivenName)) == 0 {
		return Code{}, invalid("given name", "must contain a letter")
	}
	if p.BirthDate.IsZero() {
		return Code{}, invalid("birth date", "is required")
	}
	if p.Sex != Male && p.Sex != Female {
		return Code{}, invalid("sex", "must be Male or Female")
	}
	place := strings.ToUpper(p.Place)
	if len(place) != 4 || !isUpper(place[0]) || !isDigit(place[1]) || !isDigit(place[2]) || !isDigit(place[3]) {
		return Code{}, invalid("place", "must be a letter followed by three digits")
	}
	day := p.BirthDate.Day()
	if p.Sex == Female {
		day += 40
	}
	s := fmt.Sprintf("%s%s%02d%c%02d%s", SurnameCode(p.Surname), GivenNameCode(p.GivenName),
		p.BirthDate.Year()%100, monthLetters[p.BirthDate.Month()-1], day, place)
	return Code{s: s + string(CheckChar(s))}, nil
}

// Omocodia returns the n-th omocodia variant of c (1 to 7): the n rightmost
// replaceable digits of the base code are replaced by letters, and the
// check character recomputed.
func (c Code) Omocodia(n int) (Code, error) {
	if c.s == "" {
		return Code{}, invalid("format", "empty code")
	}
	if n < 1 || n > len(omocodiaPositions) {
		return Code{}, invalid("omocodia", fmt.Sprintf("variant must be 1-%d", len(omocodiaPositions)))
	}
	b := []byte(toBase(c.s))
	for k := 0; k < n; k++ {
		p := omocodiaPositions[len(omocodiaPositions)-1-k]
		b[p] = omocodiaLetters[b[p]-'0']
	}
	return Code{s: string(b[:15]) + string(CheckChar(string(b[:15])))}, nil
}

// SurnameCode returns the three letters a surname contributes: its
// consonants, then its vowels, padded with X.
func SurnameCode(surname string) string {
	cons, vows := split(letters(surname))
	return pad(cons + vows)
}

// GivenNameCode returns the three letters a given name contributes: with
// four or more consonants the 1st, 3rd and 4th; otherwise its consonants,
// then its vowels, padded with X.
func GivenNameCode(given string) string {
	cons, vows := split(letters(given))
	if len(cons) >= 4 {
		return cons[0:1] + cons[2:4]
	}
	return pad(cons + vows)
}

func pad(s string) string {
	s += "XXX"
	return s[:3]
}

func split(s string) (cons, vows string) {
	var c, v strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("AEIOU", s[i]) >= 0 {
			v.WriteByte(s[i])
		} else {
			c.WriteByte(s[i])
		}
	}
	return c.String(), v.String()
}

// letters returns the ASCII letters of s in upper case, with accents
// removed (È becomes E) and everything else (spaces, apostrophes) dropped.
func letters(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToUpper(r)
		if r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
