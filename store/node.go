package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// Config configures [Open].
type Config struct {
	// Dir is the data directory (required). It is created when missing; a
	// directory of another program or format version is refused unchanged.
	Dir string
	// NodeID names this node in the Raft configuration. Zero means "node1";
	// required with Peers.
	NodeID string
	// Peers lists every voter of a cluster, this node included. Empty means a
	// single node. A node with no Raft state bootstraps with this list; every
	// node must be given the same list.
	Peers []Peer
	// Listener accepts Raft traffic of a cluster. Nil means listen on
	// BindAddr. Ignored for a single node. Open takes ownership.
	Listener net.Listener
	// BindAddr is the TCP address to listen on when Listener is nil. It must
	// equal this node's address in Peers.
	BindAddr string
	// HeartbeatTimeout is Raft's heartbeat and election timeout. Zero means
	// 1s in a cluster and 50ms for a single node (which has no one to wait
	// for).
	HeartbeatTimeout time.Duration
	// SnapshotThreshold is how many log entries trigger a snapshot and log
	// compaction. Zero means 8192.
	SnapshotThreshold uint64
	// SnapshotInterval is how often the threshold is checked. Zero means 30s.
	SnapshotInterval time.Duration
	// TrailingLogs is how many entries stay in the log after a snapshot, for
	// slow followers. Zero means 10240.
	TrailingLogs uint64
	// ApplyTimeout bounds how long Apply waits to enqueue a write when ctx
	// has no deadline. Zero means 30s.
	ApplyTimeout time.Duration
	// Now is the clock stamped on every batch (leases, default times). Nil
	// means time.Now.
	Now func() time.Time
	// Logger receives the store's and Raft's logs. Nil discards them.
	Logger *slog.Logger
}

// Peer is one voter of a cluster.
type Peer struct {
	ID      string
	Address string
}

// Validate names the first bad field of c.
func (c *Config) Validate() error {
	ck := &checker{path: "config."}
	ck.text("dir", c.Dir, 4096, true)
	ck.id("node_id", c.NodeID, len(c.Peers) > 0)
	if len(c.Peers) > 0 {
		self := false
		seen := map[string]bool{}
		for i, p := range c.Peers {
			ck.id(fmt.Sprintf("peers[%d].id", i), p.ID, true)
			ck.text(fmt.Sprintf("peers[%d].address", i), p.Address, 256, true)
			if seen[p.ID] {
				ck.fail(fmt.Sprintf("peers[%d].id", i), "is repeated")
			}
			seen[p.ID] = true
			if p.ID == c.NodeID {
				self = true
				if c.Listener == nil && c.BindAddr != p.Address {
					ck.fail("bind_addr", "must equal this node's peer address")
				}
			}
		}
		if !self {
			ck.fail("peers", "must include node_id")
		}
	}
	if c.HeartbeatTimeout < 0 || c.SnapshotInterval < 0 || c.ApplyTimeout < 0 {
		ck.fail("timeouts", "must not be negative")
	}
	return ck.err
}

// Node is the embedded backend: one Raft node (alone, or one of a cluster)
// whose FSM keeps the state in indexed in-memory tables (db.go). Writes go
// through the leader's Raft log; reads are read transactions on this node.
type Node struct {
	cfg    Config
	raft   *raft.Raft
	fsm    *fsm
	wal    *wal.WAL
	meta   *metadb.BoltMetaDB
	trans  raft.Transport
	blobs  *blobStore
	unlock func()
	log    *slog.Logger
	closed atomic.Bool
	mu     sync.Mutex
	sealMu sync.Mutex // held while a batch with a SealAudit is planned and applied
}

var _ Store = (*Node)(nil)

// Open opens (or creates) the store in cfg.Dir. A single node waits until
// it leads and has applied its whole log, so every acknowledged write is
// readable when Open returns. A cluster node returns once Raft runs; use
// [Node.WaitLeader] to wait for an election.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "node1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ApplyTimeout == 0 {
		cfg.ApplyTimeout = 30 * time.Second
	}
	cfg.Peers = append([]Peer(nil), cfg.Peers...)
	unlock, err := prepareDir(cfg.Dir)
	if err != nil {
		if cfg.Listener != nil {
			_ = cfg.Listener.Close() // we own it; the directory error is the one to report
		}
		return nil, err
	}
	n := &Node{cfg: cfg, unlock: unlock, log: cfg.Logger}
	if err := n.start(ctx); err != nil {
		n.shutdown()
		return nil, err
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	cfg := n.cfg
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft", Output: slogWriter{n.log}, Level: hclog.Info})

	blobs, err := newBlobStore(filepath.Join(cfg.Dir, blobsDir))
	if err != nil {
		return err
	}
	n.blobs = blobs
	// One snapshot is kept: falling back to an older one after the log
	// behind the newest was compacted would silently lose writes, so a
	// corrupt snapshot fails the open instead. It is checked before the log
	// is opened, because opening raft-wal writes to its metadata.
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(cfg.Dir, snapsDir), 1, hlog.Named("snapshots"))
	if err != nil {
		return fmt.Errorf("store: opening snapshot store: %w", err)
	}
	pre, err := restoreLatestSnapshot(snaps)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, walDir), 0o700); err != nil {
		return fmt.Errorf("store: creating log directory: %w", err)
	}
	// raft-wal's Close leaves its bolt metadata database open (and
	// flock'ed), so the node owns it and closes it after the WAL.
	n.meta = &metadb.BoltMetaDB{}
	w, err := wal.Open(filepath.Join(cfg.Dir, walDir), wal.WithLogger(hlog.Named("wal")), wal.WithMetaStore(n.meta))
	if err != nil {
		return fmt.Errorf("%w: opening Raft log: %v", ErrCorrupt, err)
	}
	n.wal = w
	st, err := newState()
	if err != nil {
		return err
	}
	n.fsm = newFSM(st, blobs, n.log)
	n.fsm.pre = pre

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hlog
	rc.SnapshotThreshold = orDefault(cfg.SnapshotThreshold, 8192)
	rc.TrailingLogs = orDefault(cfg.TrailingLogs, 10240)
	rc.SnapshotInterval = orDefault(cfg.SnapshotInterval, 30*time.Second)
	hb := cfg.HeartbeatTimeout
	if hb == 0 {
		hb = time.Second
		if len(cfg.Peers) == 0 {
			hb = 50 * time.Millisecond
		}
	}
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = hb, hb, hb
	if rc.CommitTimeout > hb {
		rc.CommitTimeout = hb
	}
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256

	servers := []raft.Server{{ID: rc.LocalID, Address: raft.ServerAddress(cfg.NodeID), Suffrage: raft.Voter}}
	if len(cfg.Peers) == 0 {
		_, t := raft.NewInmemTransport(raft.ServerAddress(cfg.NodeID))
		n.trans = t
	} else {
		ln := cfg.Listener
		if ln == nil {
			if ln, err = net.Listen("tcp", cfg.BindAddr); err != nil {
				return fmt.Errorf("store: listening for Raft: %w", err)
			}
		}
		n.trans = raft.NewNetworkTransportWithLogger(&streamLayer{Listener: ln}, 4, 10*time.Second, hlog.Named("net"))
		servers = servers[:0]
		for _, p := range cfg.Peers {
			servers = append(servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Address), Suffrage: raft.Voter})
		}
	}
	has, err := raft.HasExistingState(w, w, snaps)
	if err != nil {
		return fmt.Errorf("%w: reading Raft state: %v", ErrCorrupt, err)
	}
	if !has {
		if err := raft.BootstrapCluster(rc, w, w, snaps, n.trans, raft.Configuration{Servers: servers}); err != nil {
			return fmt.Errorf("store: bootstrapping Raft: %w", err)
		}
	}
	r, err := raft.NewRaft(rc, n.fsm, w, w, snaps, n.trans)
	n.fsm.dropPreloaded() // adopted by now, or not wanted
	if err != nil {
		if errors.Is(err, ErrVersion) || strings.Contains(err.Error(), ErrVersion.Error()) {
			return fmt.Errorf("%w: %v", ErrVersion, err)
		}
		return fmt.Errorf("%w: starting Raft: %v", ErrCorrupt, err)
	}
	n.raft = r
	if len(cfg.Peers) == 0 {
		if err := n.WaitLeader(ctx); err != nil {
			return err
		}
		if err := n.raft.Barrier(cfg.ApplyTimeout).Error(); err != nil {
			return fmt.Errorf("store: replaying the Raft log: %w", err)
		}
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// WaitLeader waits until this node's cluster has a leader.
func (n *Node) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if addr, _ := n.raft.LeaderWithID(); addr != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: waiting for a Raft leader: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// IsLeader reports whether this node is the Raft leader (and so accepts
// writes).
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// AppliedIndex returns the last commit index applied to this node's state.
func (n *Node) AppliedIndex() uint64 { return n.fsm.applied.Load() }

// WaitApplied waits until this node has applied index: a follower's reads
// then include every write acknowledged up to index.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	for {
		ch := n.fsm.watch()
		if n.fsm.applied.Load() >= index {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: waiting for index %d: %w", index, ctx.Err())
		case <-ch:
		}
	}
}

// FirstLogIndex returns the oldest entry still in the Raft log: it moves
// up when snapshots compact the log.
func (n *Node) FirstLogIndex() (uint64, error) { return n.wal.FirstIndex() }

// LastSnapshotIndex returns the commit index of the newest snapshot, zero
// when none was taken.
func (n *Node) LastSnapshotIndex() uint64 {
	idx, _ := strconv.ParseUint(n.raft.Stats()["last_snapshot_index"], 10, 64)
	return idx
}

// Compact takes a snapshot of the state now and truncates the Raft log
// behind it (keeping TrailingLogs entries). Raft also does this on its own
// every SnapshotThreshold entries.
func (n *Node) Compact(ctx context.Context) error {
	if n.closed.Load() {
		return ErrClosed
	}
	if err := n.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	return ctx.Err()
}

// Apply implements [Store].
func (n *Node) Apply(ctx context.Context, b *Batch) (*Result, error) {
	if n.closed.Load() {
		return nil, ErrClosed
	}
	cmds, err := validateBatch(b)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(cmds, isPutBlobs) {
		// A poisoned blob store would leave the batch's blobs unwritten
		// until a reopen: refuse new ones rather than commit references
		// this node cannot serve.
		if err := n.blobs.writeErr(); err != nil {
			return nil, err
		}
	}
	if slices.ContainsFunc(cmds, isSeal) {
		// One seal at a time from this node, planned from the state its
		// predecessor left, so concurrent sealing passes do not conflict.
		n.sealMu.Lock()
		defer n.sealMu.Unlock()
		v := n.fsm.view()
		err := planSeals(v.txn, cmds)
		v.Close()
		if err != nil {
			return nil, err
		}
	}
	var fence *LeaseToken
	if b.Fence != nil {
		f := *b.Fence
		fence = &f
	}
	data := encodeEntry(&entry{Org: b.Org, IdempotencyKey: b.IdempotencyKey, At: NormalizeTime(n.cfg.Now()), Fence: fence, Commands: cmds})
	timeout := n.cfg.ApplyTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	f := n.raft.Apply(data, timeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case <-ctx.Done():
		// The write may still commit; an idempotency key makes a retry safe.
		return nil, fmt.Errorf("store: apply: %w", ctx.Err())
	case err := <-done:
		if err != nil {
			return nil, n.raftErr(err)
		}
	}
	switch r := f.Response().(type) {
	case *Result:
		return r, nil
	case error:
		return nil, r
	}
	return nil, fmt.Errorf("store: apply: unexpected FSM response %T", f.Response())
}

func (n *Node) raftErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		addr, _ := n.raft.LeaderWithID()
		return fmt.Errorf("%w (%v)", &NotLeaderError{Leader: string(addr)}, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	}
	return fmt.Errorf("store: raft: %w", err)
}

// Snapshot implements [Store].
func (n *Node) Snapshot(ctx context.Context) (Snapshot, error) {
	if n.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return n.fsm.view(), nil
}

// Leases implements [Store].
func (n *Node) Leases() Leases { return leases{s: n} }

// Blobs implements [Store].
func (n *Node) Blobs() BlobStore { return n.blobs }

// Health implements [Store].
func (n *Node) Health() error {
	if n.closed.Load() {
		return ErrClosed
	}
	return n.blobs.writeErr()
}

// Close implements [Store]. It stops Raft and closes the log; committed
// writes are already durable.
func (n *Node) Close() error {
	if n.closed.Swap(true) {
		return nil
	}
	return n.shutdown()
}

func (n *Node) shutdown() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var errs []error
	if n.raft != nil {
		if err := n.raft.Shutdown().Error(); err != nil {
			errs = append(errs, err)
		}
	}
	if c, ok := n.trans.(io.Closer); ok && c != nil {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	} else if n.trans == nil && n.cfg.Listener != nil {
		_ = n.cfg.Listener.Close() // never handed to a transport; nothing else uses it
	}
	if n.wal != nil {
		if err := n.wal.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if n.meta != nil {
		if err := n.meta.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if n.blobs != nil {
		if err := n.blobs.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if n.unlock != nil {
		n.unlock()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// streamLayer adapts a net.Listener to Raft's StreamLayer.
type streamLayer struct{ net.Listener }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

// slogWriter forwards hclog lines to slog at debug level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug(strings.TrimSpace(string(p)))
	return len(p), nil
}

// restoreLatestSnapshot restores the newest snapshot (checking Raft's CRC,
// then our header, SHA-256 trailer and indexes) before the log is opened,
// so that a corrupt one is refused with nothing changed; Raft's own restore
// of it then adopts the state (fsm.pre).
func restoreLatestSnapshot(snaps *raft.FileSnapshotStore) (*preloaded, error) {
	list, err := snaps.List()
	if err != nil {
		return nil, fmt.Errorf("%w: listing snapshots: %v", ErrCorrupt, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot %s: %v", ErrCorrupt, list[0].ID, err)
	}
	defer rc.Close()
	st, index, trailer, err := readSnapshotSum(rc)
	if err != nil {
		return nil, err
	}
	return &preloaded{st: st, index: index, trailer: trailer}, nil
}

func isSeal(c Command) bool { _, ok := c.(SealAudit); return ok }

func isPutBlobs(c Command) bool { _, ok := c.(PutBlobs); return ok }
