// Package taxcode parses and validates the Italian tax code (codice
// fiscale) of a natural person, as defined by Decreto del Ministro delle
// Finanze 23 dicembre 1976 and D.P.R. 605/1973.
//
// # Format
//
// A personal tax code has 16 characters:
//
//	RSS MRA 85 T 10 A562 S
//	│   │   │  │ │  │    └ check character (odd/even tables, modulo 26)
//	│   │   │  │ │  └ municipality or foreign-country code (letter + 3 digits)
//	│   │   │  │ └ birth day, plus 40 for women
//	│   │   │  └ birth month letter (A B C D E H L M P R S T)
//	│   │   └ last two digits of the birth year
//	│   └ three letters from the given name
//	└ three letters from the surname
//
// When two people would get the same code, the Agenzia delle Entrate
// replaces digits, from the right, with the letters L M N P Q R S T U V
// (0 to 9): the omocodia variants. [Parse] accepts them and
// [Code.Base] recovers the digits.
//
// # What the package checks
//
// [Parse] checks the format, the month letter, the day range and the check
// character, and names the rule that failed in a [*Error] that unwraps to
// [ErrInvalid]. [Code.Check] checks a parsed code against a person's
// surname, given name, birth date and sex. [Compute] builds the base code of a
// person (the platform uses it to suggest a code; tests use it to build valid
// fixtures without anybody's real data).
//
// The package does not check that the municipality code exists (the cadastral
// table changes over time) nor that a code was actually assigned by the
// Agenzia delle Entrate: only the registry can say that.
//
// Temporary codes of eleven digits (given to people while their personal
// code is being assigned) and the codes of legal persons are not personal
// tax codes and are refused.
package taxcode
