package recognition

import (
	"context"
	"sync"
	"time"
)

// ReplayGuard remembers message identifiers (callback sessions, SAML
// assertion IDs) for as long as the message could still be accepted, so
// that each is accepted once. A deployment with several nodes satisfies it
// with the shared store.
type ReplayGuard interface {
	// Claim records key until the given time and reports whether it was
	// new: false means the key was already claimed and has not expired.
	// now is used to forget expired keys.
	Claim(ctx context.Context, key string, now, until time.Time) (bool, error)
}

// MemoryReplayGuard is a [ReplayGuard] in memory, for one process. The zero
// value is ready to use; it is safe for concurrent use.
type MemoryReplayGuard struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

var _ ReplayGuard = (*MemoryReplayGuard)(nil)

// Claim records key until the given time; see [ReplayGuard].
func (g *MemoryReplayGuard) Claim(ctx context.Context, key string, now, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	for k, exp := range g.seen {
		if now.After(exp) {
			delete(g.seen, k)
		}
	}
	if exp, ok := g.seen[key]; ok && !now.After(exp) {
		return false, nil
	}
	g.seen[key] = until
	return true, nil
}
