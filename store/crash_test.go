package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// The crash test (issue #4, "Reliability"): a child process (this test
// binary, re-executed) applies batches in a loop from several goroutines
// and prints each acknowledged write; the parent kills it with SIGKILL at a
// random moment, reopens the directory and checks that every acknowledged
// write is there with the blob it carried, that no batch is half-applied
// and that every index agrees with a full scan.
const (
	crashDirEnv  = "REGISTRA_STORE_CRASH_DIR"
	crashIterEnv = "REGISTRA_STORE_CRASH_ITER"
	crashKills   = 22
	crashOrg     = "org-crash"
	crashOp      = "op-crash"
)

func crashConfig(dir string) store.Config {
	// A low threshold makes snapshots and log compaction happen while the
	// child is being killed.
	return store.Config{Dir: dir, SnapshotThreshold: 40, TrailingLogs: 20, SnapshotInterval: 20 * time.Millisecond}
}

// TestCrashChild is the child's body; it does nothing unless the parent set
// the environment.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrashRecovery")
	}
	iter, err := strconv.Atoi(os.Getenv(crashIterEnv))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := store.Open(ctx, crashConfig(dir))
	require.NoError(t, err)
	_, err = n.Apply(ctx, &store.Batch{Commands: []store.Command{
		store.PutOrganisation{Organisation: store.Organisation{ID: crashOrg, Name: "Crash"}},
		store.PutOperator{Operator: store.Operator{ID: crashOp, OrgID: crashOrg, Username: "crash", Role: "rao"}},
	}})
	if err != nil {
		require.ErrorIs(t, err, store.ErrConflict) // created by an earlier run
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("%d-%d-%d", iter, w, i)
				at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(iter*100000+w*10000+i) * time.Second)
				cmds := []store.Command{
					store.PutHolder{Holder: store.HolderIdentity{ID: "h-" + id, TaxCode: "TAX" + id, FirstName: "Nome", Surname: "Cognome",
						Email: id + "@example.it"}},
					store.PutOrder{Order: store.Order{ID: "o-" + id, OrgID: crashOrg, OperatorID: crashOp, HolderID: "h-" + id,
						ExternalCode: "E" + id, ProductType: "firma-remota", CreatedAt: at}, InitialStatus: store.StatusToIdentify},
					store.ChangeStatus{Change: store.StatusChange{ID: "c-" + id, OrderID: "o-" + id, From: store.StatusToIdentify,
						To: store.StatusToIssue, At: at, ReasonCode: -1}},
					store.AppendAudit{Event: store.AuditEvent{OrgID: crashOrg, At: at, Action: "order.create", Subject: "o-" + id}},
				}
				if i%5 == 0 {
					cmds = append(cmds, store.ReserveCRLNumber{Scope: store.CRLScope{Issuer: "ca-crash"}})
				}
				if i%7 == 0 {
					cmds = append(cmds, store.SealAudit{Max: 50})
				}
				// The batch's blob is written after it commits: a kill
				// in between leaves it to the log's replay.
				cmds = append(cmds, store.PutBlobs{Blobs: [][]byte{crashBlob("o-" + id)}})
				r, err := n.Apply(ctx, &store.Batch{Commands: cmds})
				if err != nil {
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack o-%s %d\n", id, r.Index)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("child process")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 4))
	acked := map[string]bool{}
	totalAcks := 0
	for iter := range crashKills {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashIterEnv+"="+strconv.Itoa(iter))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		record := func(line string) {
			if id, ok := strings.CutPrefix(line, "ack "); ok {
				acked[strings.Fields(id)[0]] = true
				totalAcks++
			}
		}
		// Kill during startup now and then (after the first run, which
		// must bootstrap), otherwise a random moment after the first ack.
		if iter > 0 && rng.IntN(5) == 0 {
			<-time.After(time.Duration(rng.IntN(150)) * time.Millisecond)
		} else {
			first := time.After(time.Minute)
		wait:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						break wait
					}
					record(l)
					if strings.HasPrefix(l, "ack ") {
						break wait
					}
				case <-first:
					t.Fatal("the child acknowledged nothing within a minute")
				}
			}
			<-time.After(time.Duration(rng.IntN(300)) * time.Millisecond)
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		for l := range lines {
			record(l)
		}
		_ = cmd.Wait() // killed: the exit status is the signal

		checkAfterCrash(t, dir, acked)
	}
	t.Logf("%d kills, %d acknowledged writes, all present", crashKills, totalAcks)
	assert.Greater(t, totalAcks, crashKills)
}

// crashBlob is the blob the crash child stores with order id.
func crashBlob(id string) []byte { return []byte("certificate of " + id) }

func checkAfterCrash(t *testing.T, dir string, acked map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := store.Open(ctx, crashConfig(dir))
	require.NoError(t, err, "reopening after SIGKILL")
	defer func() { require.NoError(t, n.Close()) }()
	s, err := n.Snapshot(ctx)
	require.NoError(t, err)
	defer s.Close()
	for id := range acked {
		st, err := s.Status(id)
		require.NoError(t, err, "acknowledged order %s is missing", id)
		require.Equal(t, store.StatusToIssue, st.Status, "order %s is half-applied", id)
		blob, err := n.Blobs().Get(ctx, store.BlobHash(crashBlob(id)))
		require.NoError(t, err, "the blob of acknowledged order %s is missing", id)
		require.Equal(t, crashBlob(id), blob)
	}
	// Every order present is whole: its holder, status change and audit
	// event came in the same batch.
	audited := map[string]bool{}
	require.NoError(t, s.AuditEvents(0, func(e store.AuditEvent) error { audited[e.Subject] = true; return nil }))
	q := store.SearchQuery{Org: crashOrg, Limit: store.MaxSearchLimit}
	for {
		p, err := s.Search(q)
		require.NoError(t, err)
		for _, h := range p.Hits {
			require.True(t, audited[h.Order.ID], "order %s without its audit event", h.Order.ID)
			hist, err := s.StatusChanges(h.Order.ID)
			require.NoError(t, err)
			require.Len(t, hist, 1, "order %s without its status change", h.Order.ID)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	require.NoError(t, s.CheckInvariants(), "indexes agree with a full scan")
	require.NoError(t, s.VerifyAudit())
}
