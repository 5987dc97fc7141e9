package store

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// fsm is the Raft state machine: it decodes each committed entry and
// applies its batch to the in-memory state.
type fsm struct {
	mu      sync.RWMutex // held for writing while a commit and its index advance together
	st      *state
	applied atomic.Uint64
	changed chan struct{} // closed and replaced after every apply
	// pre is the newest snapshot, restored by Open before Raft starts:
	// Raft's restore of that same snapshot adopts it instead of building
	// the state a second time.
	pre *preloaded
	// blobs receives the blobs of applied entries (PutBlobs).
	blobs *blobStore
	log   *slog.Logger
}

// preloaded is a state restored from a snapshot, with what identifies the
// snapshot.
type preloaded struct {
	st      *state
	index   uint64
	trailer []byte
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(st *state, blobs *blobStore, log *slog.Logger) *fsm {
	return &fsm{st: st, changed: make(chan struct{}), blobs: blobs, log: log}
}

func (f *fsm) watch() <-chan struct{} {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.changed
}

// Apply implements raft.FSM. Its response is a *Result or an error, both
// deterministic functions of the state and the entry.
func (f *fsm) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.advance(l.Index)
	if l.Type != raft.LogCommand {
		return nil
	}
	en, err := decodeEntry(l.Data)
	if err != nil {
		// Every node refuses the same bytes the same way, so the state
		// stays identical; the write is reported as failed.
		return err
	}
	res, err := f.st.applyEntry(l.Index, en)
	if err != nil {
		return err
	}
	f.storeBlobs(l.Index, en.Commands)
	return res
}

// storeBlobs writes the blobs an applied entry carries. A failure leaves
// the batch committed (the log holds the blobs) and the blob store
// poisoned, so that no snapshot compacts the entry away before a reopen
// replays it.
func (f *fsm) storeBlobs(index uint64, cmds []Command) {
	var blobs [][]byte
	for _, c := range cmds {
		if pb, ok := c.(PutBlobs); ok {
			blobs = append(blobs, pb.Blobs...)
		}
	}
	if len(blobs) == 0 {
		return
	}
	if err := f.blobs.putLogged(blobs); err != nil {
		f.log.Error("store: blobs of a committed entry not written; reopen the store to write them from the log",
			"index", index, "err", err)
	}
}

func (f *fsm) advance(index uint64) {
	if index > f.applied.Load() {
		f.applied.Store(index)
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// dropPreloaded forgets a preloaded state Raft did not restore.
func (f *fsm) dropPreloaded() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pre = nil
}

func (f *fsm) view() *view {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return &view{txn: f.st.db.Txn(false), index: f.applied.Load()}
}

// Snapshot implements raft.FSM: a read transaction is a free,
// consistent point-in-time copy. The blobs of the entries it covers are
// made durable first, since the log that holds them may then be compacted.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if err := f.blobs.syncLogged(); err != nil {
		return nil, err
	}
	v := f.view()
	return &fsmSnapshot{v: v}, nil
}

// Restore implements raft.FSM: the new state is built and verified in full
// before it replaces the current one.
func (f *fsm) Restore(rc io.ReadCloser) error {
	f.mu.Lock()
	pre := f.pre
	f.pre = nil
	f.mu.Unlock()
	var (
		st    *state
		index uint64
		err   error
	)
	if pre != nil {
		st, index, err = adopt(rc, pre)
	} else {
		st, index, err = readSnapshot(rc)
	}
	cerr := rc.Close()
	if err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("store: reading snapshot: %w", cerr)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = st
	f.applied.Store(index)
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

// adopt returns the preloaded state when rc is the snapshot it was restored
// from (same commit index and SHA-256 trailer).
func adopt(rc io.Reader, pre *preloaded) (*state, uint64, error) {
	index, trailer, err := snapshotIdentity(rc)
	if err != nil {
		return nil, 0, err
	}
	if index != pre.index || !bytes.Equal(trailer, pre.trailer) {
		return nil, 0, fmt.Errorf("%w: snapshot changed while the store was opening", ErrCorrupt)
	}
	return pre.st, pre.index, nil
}

type fsmSnapshot struct{ v *view }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s.v.txn, s.v.index); err != nil {
		_ = sink.Cancel() // the write error is the one to report
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.v.Close() }
