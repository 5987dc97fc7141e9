package cli

import (
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/lifecycle"
)

// searchFilter is one search filter: its flag and query parameter.
type searchFilter struct {
	flag, param, usage string
	date               bool
}

// searchFilters are the filters of DESIGN.md ("Search"), one flag each.
var searchFilters = []searchFilter{
	{"order", "order_id", "order ID", false},
	{"user-id", "user_id", "holder's user ID", false},
	{"external-code", "external_code", "the partner's lookup code", false},
	{"status", "status", "status: " + statusNames(), false},
	{"nickname", "nickname", "nickname", false},
	{"activated-from", "activated_from", "first activation date, YYYY-MM-DD", true},
	{"activated-to", "activated_to", "last activation date, YYYY-MM-DD", true},
	{"input-from", "input_from", "first input date, YYYY-MM-DD", true},
	{"input-to", "input_to", "last input date, YYYY-MM-DD", true},
	{"product-type", "product_type", "catalogue product ID", false},
	{"tax-code", "tax_code", "holder's tax code", false},
	{"first-name", "first_name", "holder's first name", false},
	{"surname", "surname", "holder's surname", false},
	{"email", "email", "holder's e-mail", false},
	{"mobile", "mobile", "holder's mobile", false},
	{"operator", "operator", "operator who entered the request", false},
	{"iut", "iut", "holder's unique identifier (the certificate's dnQualifier)", false},
	{"device-serial", "device_serial", "device serial", false},
}

func statusNames() string {
	var names []string
	for _, s := range lifecycle.Statuses() {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// shortcutLists are the shortcut lists' names (the status each shows).
var shortcutLists = []string{lifecycle.StatusToIdentify.String(), lifecycle.StatusToIssue.String(),
	lifecycle.StatusActive.String(), lifecycle.StatusRevoked.String()}

func newSearch(e *env) *cobra.Command {
	values := make([]string, len(searchFilters))
	var personal, all bool
	var limit int
	var cursor, list string
	c := &cobra.Command{
		Use:   "search",
		Short: "Search orders and products with any filter",
		Long: `search finds the organisation's orders and products: every set filter must
match (text filters match whole values, case insensitively), newest first.
--personal-data is the search by personal data, which needs at least three
filters. --list runs a shortcut list (` + strings.Join(shortcutLists, ", ") + `),
narrowed by the filters.

One page (--limit, --cursor) is fetched unless --all follows every page, with
a progress bar on a terminal.`,
		Example: `  registra search --status active --product-type remote_signature
  registra search --personal-data --first-name Mario --surname Rossi --birth-place H501
  registra search --list to_identify --all --json | jq -r '.hits[].order_id'`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for i, f := range searchFilters {
				v := values[i]
				if v == "" {
					continue
				}
				if f.date {
					if _, err := time.Parse(time.DateOnly, v); err != nil {
						return usagef("--%s: %q is not a date (YYYY-MM-DD)", f.flag, v)
					}
				}
				if f.param == "status" {
					if _, err := lifecycle.ParseStatus(v); err != nil {
						return usagef("--status: %q: use %s", v, statusNames())
					}
				}
				q.Set(f.param, v)
			}
			if personal {
				q.Set("personal_data", "true")
			}
			if limit != 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			p := "/v1/search"
			if list != "" {
				ok := false
				for _, l := range shortcutLists {
					ok = ok || l == list
				}
				if !ok {
					return usagef("--list: %q: use %s", list, strings.Join(shortcutLists, ", "))
				}
				p = path("v1", "lists", list)
			}
			if !all {
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				var page wireSearchPage
				return e.call(cmd.Context(), request{method: "GET", path: p, query: q}, &page, func(w io.Writer) error {
					return printHits(w, page)
				})
			}
			return e.searchAll(cmd, p, q, cursor)
		},
	}
	for i, f := range searchFilters {
		c.Flags().StringVar(&values[i], f.flag, "", f.usage)
	}
	c.Flags().BoolVar(&personal, "personal-data", false, "search by personal data (at least three filters)")
	c.Flags().StringVar(&list, "list", "", "shortcut list: "+strings.Join(shortcutLists, ", "))
	c.Flags().IntVar(&limit, "limit", 0, "page size, 1-1000 (default 50)")
	c.Flags().StringVar(&cursor, "cursor", "", "continue from a previous page's next cursor")
	c.Flags().BoolVar(&all, "all", false, "fetch every page")
	return c
}

// searchAll follows the pages of a search and prints them as one.
func (e *env) searchAll(cmd *cobra.Command, p string, q url.Values, cursor string) error {
	c, err := e.apiClient()
	if err != nil {
		return err
	}
	bar := e.newProgress(-1, "searching")
	defer bar.done()
	all := wireSearchPage{Hits: []wireSearchHit{}}
	for {
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page wireSearchPage
		if _, err := c.do(cmd.Context(), request{method: "GET", path: p, query: q}, &page); err != nil {
			return err
		}
		all.Hits = append(all.Hits, page.Hits...)
		bar.add(len(page.Hits))
		if page.Next == "" || page.Next == cursor {
			break
		}
		cursor = page.Next
	}
	bar.done()
	return e.out.emit(all, func(w io.Writer) error { return printHits(w, all) })
}

func printHits(w io.Writer, page wireSearchPage) error {
	t := newTable(w, "ORDER", "PRODUCT", "STATUS", "TYPE", "HOLDER", "TAX CODE", "USER ID", "OPERATOR", "CREATED", "ACTIVATED")
	for _, h := range page.Hits {
		t.AppendRow([]any{h.OrderID, h.ProductID, h.Status, h.ProductType, joinNonEmpty(" ", h.FirstName, h.Surname), h.TaxCode,
			h.UserID, h.OperatorID, day(h.CreatedAt), day(h.ActivatedAt)})
	}
	render(w, t)
	fprintf(w, "%d result(s)", len(page.Hits))
	if page.Next != "" {
		fprintf(w, "; more with --cursor %s", page.Next)
	}
	fprintf(w, "\n")
	return nil
}
