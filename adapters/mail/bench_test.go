package mail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkPairedEnqueueVsFsync interleaves Enqueue (encode, temporary
// file, fsync, rename, directory fsync) with the raw durable write of the
// same number of bytes (write, fsync, rename, directory fsync), and reports
// both times and their ratio.
func BenchmarkPairedEnqueueVsFsync(b *testing.B) {
	dir := b.TempDir()
	m, err := New(Config{Host: "127.0.0.1", From: "noreply@registra.example", QueueDir: filepath.Join(dir, "q")})
	if err != nil {
		b.Fatal(err)
	}
	base := newSealedForBench(b)
	size := 0
	for _, e := range base.Envelopes {
		size += len(e.Data)
	}
	payload := make([]byte, size*4/3+600) // base64 plus the status
	raw := filepath.Join(dir, "raw")
	if err := os.Mkdir(raw, 0o700); err != nil {
		b.Fatal(err)
	}
	var opT, rawT time.Duration
	i := 0
	for b.Loop() {
		i++
		d := *base
		d.ID = fmt.Sprintf("bench-%d", i)
		t0 := time.Now()
		if err := m.Enqueue(context.Background(), &d); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := rawDurableWrite(raw, d.ID, payload); err != nil {
			b.Fatal(err)
		}
		rawT += time.Since(t1)
		opT += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(opT.Nanoseconds())/n, "op-ns")
	b.ReportMetric(float64(rawT.Nanoseconds())/n, "raw-ns")
	b.ReportMetric(float64(opT)/float64(rawT), "op/raw")
}

func rawDurableWrite(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}
