package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// issuanceBlobs returns the blobs one remote-signature issuance stores
// (certificate, vault record, .p7m envelope, holder key record; typical
// sizes), made unique by n.
func issuanceBlobs(n uint64) [][]byte {
	out := make([][]byte, 4)
	for i, size := range []int{1200, 330, 1900, 260} {
		b := make([]byte, size)
		binary.BigEndian.PutUint64(b, n)
		b[8] = byte(i)
		out[i] = b
	}
	return out
}

// BenchmarkBlobs stores the four blobs of an issuance per op, from 1 and 16
// concurrent writers: "files" one file each (temporary file, fsync, rename,
// directory fsync: the layout before pack segments, still used for large
// blobs), "packs" with one PutAll (appended to a pack segment, fsync shared
// by concurrent writers). Reported: issuances' worth of blobs per second
// and process CPU per op.
func BenchmarkBlobs(b *testing.B) {
	for _, mode := range []string{"files", "packs"} {
		for _, writers := range []int{1, 16} {
			b.Run(fmt.Sprintf("mode=%s/writers=%d", mode, writers), func(b *testing.B) {
				bs, err := newBlobStore(b.TempDir())
				require.NoError(b, err)
				b.Cleanup(func() { require.NoError(b, bs.close()) })
				ctx := context.Background()
				put := func(data [][]byte) error {
					if mode == "packs" {
						_, err := bs.PutAll(ctx, data...)
						return err
					}
					for _, d := range data {
						sum := sha256.Sum256(d)
						if err := bs.putFile(hex.EncodeToString(sum[:]), sum, d); err != nil {
							return err
						}
					}
					return nil
				}
				wall, cpu := runWriters(b, writers, put)
				b.ReportMetric(float64(b.N)/wall.Seconds(), "issuances/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			})
		}
	}
}

// runWriters calls put with the blobs of issuances 1 to b.N from writers
// goroutines and returns the wall time and the process CPU they took.
func runWriters(b *testing.B, writers int, put func(data [][]byte) error) (time.Duration, time.Duration) {
	var next atomic.Uint64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	cpu0 := processCPU()
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > uint64(b.N) {
					return
				}
				if err := put(issuanceBlobs(n)); err != nil {
					failed.Store(&err)
					return
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return wall, processCPU() - cpu0
}

// BenchmarkBlobsWithCommit stores the four blobs of an issuance and
// commits a batch that refers to them, per op, from 1 and 16 concurrent
// writers: "putall" makes the blobs durable first (PutAll, its own fsync)
// and then commits; "batch" carries them in the batch (PutBlobs), durable
// with the Raft log's fsync alone. Reported: commits per second and
// process CPU per op.
func BenchmarkBlobsWithCommit(b *testing.B) {
	for _, mode := range []string{"putall", "batch"} {
		for _, writers := range []int{1, 16} {
			b.Run(fmt.Sprintf("mode=%s/writers=%d", mode, writers), func(b *testing.B) {
				ctx := context.Background()
				n, err := Open(ctx, Config{Dir: b.TempDir()})
				require.NoError(b, err)
				b.Cleanup(func() { require.NoError(b, n.Close()) })
				at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				put := func(data [][]byte) error {
					cmds := []Command{AppendAudit{Event: AuditEvent{OrgID: "org", At: at, Action: "product.issue",
						Subject: hex.EncodeToString(data[0][:8])}}}
					if mode == "putall" {
						if _, err := n.Blobs().PutAll(ctx, data...); err != nil {
							return err
						}
					} else {
						cmds = append(cmds, PutBlobs{Blobs: data})
					}
					_, err := n.Apply(ctx, &Batch{Commands: cmds})
					return err
				}
				wall, cpu := runWriters(b, writers, put)
				b.ReportMetric(float64(b.N)/wall.Seconds(), "commits/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			})
		}
	}
}
