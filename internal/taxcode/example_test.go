package taxcode_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/registra-pki/registra/internal/taxcode"
)

func ExampleParse() {
	c, err := taxcode.Parse("rssmra85t10a562s")
	if err != nil {
		fmt.Println(err)
		return
	}
	yy, month, day := c.BirthDay()
	fmt.Println(c, c.Surname(), c.GivenName(), yy, month, day, c.Sex(), c.Place())

	_, err = taxcode.Parse("RSSMRA85T10A562T")
	fmt.Println(errors.Is(err, taxcode.ErrInvalid), err)
	// Output:
	// RSSMRA85T10A562S RSS MRA 85 December 10 M A562
	// true taxcode: check character: is T, the first 15 characters give S
}

func ExampleCode_Check() {
	c := taxcode.MustParse("RSSMRA85T10A562S")
	err := c.Check(taxcode.Person{Surname: "Rossi", GivenName: "Maria", BirthDate: time.Date(1985, time.December, 10, 0, 0, 0, 0, time.UTC), Sex: taxcode.Female})
	fmt.Println(err)
	// Output: taxcode: sex: code encodes M, the person is F
}

func ExampleCode_Omocodia() {
	c := taxcode.MustParse("RSSMRA85T10A562S")
	v, _ := c.Omocodia(1)
	fmt.Println(v, v.IsOmocodia(), v.Base())
	// Output: RSSMRA85T10A56NH true RSSMRA85T10A562S
}

func ExampleCompute() {
	c, _ := taxcode.Compute(taxcode.Person{Surname: "Rossi", GivenName: "Mario", BirthDate: time.Date(1985, time.December, 10, 0, 0, 0, 0, time.UTC), Sex: taxcode.Male, Place: "A562"})
	fmt.Println(c)
	// Output: RSSMRA85T10A562S
}
