package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// fsyncRate measures the raw rate of write(4 KiB) + fsync on the disk
// holding dir, for about d: the primitive a Raft commit waits on.
func fsyncRate(b *testing.B, dir string, d time.Duration) float64 {
	b.Helper()
	f, err := os.Create(filepath.Join(dir, "fsync-probe"))
	require.NoError(b, err)
	defer f.Close()
	buf := make([]byte, 4096)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		_, err := f.Write(buf)
		require.NoError(b, err)
		require.NoError(b, f.Sync())
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkCommit measures committed writes per second (one order creation:
// holder, order with its status, audit event) with 1 and 64 concurrent
// writers, against the raw fsync rate of the same disk measured in the same
// run (issue #4, "Performance"). Raft batches concurrent applies into one
// log append and one fsync.
func BenchmarkCommit(b *testing.B) {
	for _, bc := range []struct {
		writers int
		light   bool
	}{{1, false}, {64, false}, {64, true}} {
		writers := bc.writers
		name := fmt.Sprintf("writers=%d", writers)
		if bc.light {
			name += "/audit-only"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			fs := fsyncRate(b, dir, time.Second)
			ctx := context.Background()
			n, err := store.Open(ctx, store.Config{Dir: filepath.Join(dir, "store")})
			require.NoError(b, err)
			defer n.Close()
			_, err = n.Apply(ctx, &store.Batch{Commands: []store.Command{
				store.PutOrganisation{Organisation: store.Organisation{ID: "org", Name: "Org"}},
				store.PutOperator{Operator: store.Operator{ID: "op", OrgID: "org", Username: "op", Role: "rao"}},
			}})
			require.NoError(b, err)
			var seq atomic.Int64
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			write := func() error {
				i := seq.Add(1)
				id := fmt.Sprintf("%d", i)
				if bc.light {
					// One small command: shows Raft's group commit when the
					// FSM is cheap.
					_, err := n.Apply(ctx, &store.Batch{Commands: []store.Command{
						store.AppendAudit{Event: store.AuditEvent{OrgID: "org", At: at, Action: "login", Subject: id}}}})
					return err
				}
				_, err := n.Apply(ctx, &store.Batch{Commands: []store.Command{
					store.PutHolder{Holder: store.HolderIdentity{ID: "h" + id, TaxCode: "TAX" + id, FirstName: "Mario", Surname: "Rossi",
						Email: id + "@example.it", Mobile: "+39" + id}},
					store.PutOrder{Order: store.Order{ID: "o" + id, OrgID: "org", OperatorID: "op", HolderID: "h" + id,
						ProductType: "firma-remota", CreatedAt: at.Add(time.Duration(i) * time.Second)}, InitialStatus: store.StatusToIdentify},
					store.AppendAudit{Event: store.AuditEvent{OrgID: "org", At: at, Action: "order.create", Subject: "o" + id}},
				}})
				return err
			}
			b.ResetTimer()
			start := time.Now()
			if writers == 1 {
				for b.Loop() {
					if err := write(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism((writers + 1) / 2) // GOMAXPROCS=2 here: 64 goroutines
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := write(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rate, "commits/s")
			b.ReportMetric(fs, "fsync/s")
			b.ReportMetric(rate/fs, "commits/fsync")
		})
	}
}
