package store

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkDueSelection compares two ways for the scheduler to find the
// orders whose time-driven transition may be due, at
// REGISTRA_STORE_BENCH_PRODUCTS products (default 20,000; the BenchmarkScale
// data set, about 3% of them past notAfter at the chosen instant):
// "search-scan" pages through every organisation's active and suspended
// orders with Search (what the scheduler did before the schedule table),
// "schedule-index" reads HoldsEnding and Expiring up to now. Run:
//
//	go test ./store -run '^$' -bench BenchmarkDueSelection -benchtime 20x
func BenchmarkDueSelection(b *testing.B) {
	n := 20_000
	if v := os.Getenv("REGISTRA_STORE_BENCH_PRODUCTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := newState()
	if err != nil {
		b.Fatal(err)
	}
	buildScale(b, st, n, base)
	now := base.AddDate(3, 1, 0)
	v := &view{txn: st.db.Txn(false)}
	b.Run("search-scan", func(b *testing.B) {
		for b.Loop() {
			seen := 0
			for o := range scaleOrgs {
				for _, status := range []Status{StatusSuspended, StatusActive} {
					cursor := ""
					for {
						page, err := v.Search(SearchQuery{Org: fmt.Sprintf("org%d", o), Status: status, Limit: MaxSearchLimit, Cursor: cursor})
						if err != nil {
							b.Fatal(err)
						}
						seen += len(page.Hits)
						if page.Next == "" {
							break
						}
						cursor = page.Next
					}
				}
			}
			b.ReportMetric(float64(seen), "orders-read")
		}
	})
	b.Run("schedule-index", func(b *testing.B) {
		for b.Loop() {
			seen := 0
			for _, q := range []func(from, to time.Time, limit int) ([]Schedule, error){v.HoldsEnding, v.Expiring} {
				var from time.Time
				for {
					due, err := q(from, now, 500)
					if err != nil {
						b.Fatal(err)
					}
					seen += len(due)
					if len(due) < 500 {
						break
					}
					from = due[len(due)-1].NotAfter.Add(time.Microsecond)
				}
			}
			b.ReportMetric(float64(seen), "orders-read")
		}
	})
}
