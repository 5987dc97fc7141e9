package mail

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gomail "github.com/wneessen/go-mail"
)

// fakeSend fails the first n attempts of each delivery with a temporary
// error and records when each attempt happened.
type fakeSend struct {
	mu       sync.Mutex
	failures map[string]int
	attempts map[string][]time.Time
}

func (f *fakeSend) send(_ context.Context, m *gomail.Msg) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := m.GetMessageID()
	f.attempts[id] = append(f.attempts[id], time.Now())
	if f.failures[id] > 0 {
		f.failures[id]--
		return errors.New("dial tcp: connection refused")
	}
	return nil
}

func (f *fakeSend) times(id string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.attempts[id]...)
}

// TestRunBackoff runs the delivery loop under synctest: retries follow the
// exponential backoff to the second, a delivery that runs out of attempts
// fails, an Enqueue wakes the loop at once, and cancelling stops it.
func TestRunBackoff(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "queue")
	synctest.Test(t, func(t *testing.T) {
		m, err := New(Config{Host: "127.0.0.1", From: "noreply@registra.example", QueueDir: dir,
			MaxAttempts: 3, InitialBackoff: time.Minute, MaxBackoff: 90 * time.Second})
		require.NoError(t, err)
		f := &fakeSend{
			failures: map[string]int{"<slow@registra.example>": 2, "<doomed@registra.example>": 99},
			attempts: map[string][]time.Time{},
		}
		m.send = f.send
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()

		t0 := time.Now()
		require.NoError(t, m.Enqueue(ctx, newSealed(t, "slow").d))
		require.NoError(t, m.Enqueue(ctx, newSealed(t, "doomed").d))
		synctest.Wait()

		time.Sleep(10 * time.Minute)
		synctest.Wait()

		// Backoff: 1 min, then 2 min capped at 90 s.
		want := []time.Time{t0, t0.Add(time.Minute), t0.Add(time.Minute + 90*time.Second)}
		assert.Equal(t, want, f.times("<slow@registra.example>"))
		assert.Equal(t, want, f.times("<doomed@registra.example>"))
		st, err := m.Status(ctx, "slow")
		require.NoError(t, err)
		assert.Equal(t, Sent, st.State)
		st, err = m.Status(ctx, "doomed")
		require.NoError(t, err)
		assert.Equal(t, Failed, st.State)
		assert.Equal(t, 3, st.Attempts)
		assert.Contains(t, st.LastError, "connection refused")

		// An idle loop wakes at once for a new delivery.
		t1 := time.Now()
		require.NoError(t, m.Enqueue(ctx, newSealed(t, "late").d))
		synctest.Wait()
		assert.Equal(t, []time.Time{t1}, f.times("<late@registra.example>"))

		// And for a resend.
		require.NoError(t, m.Resend(ctx, "doomed"))
		synctest.Wait()
		assert.Len(t, f.times("<doomed@registra.example>"), 4)

		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	m := &Mailer{cfg: Config{InitialBackoff: time.Minute, MaxBackoff: time.Hour}}
	for n, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 6: 32 * time.Minute, 7: time.Hour, 50: time.Hour} {
		assert.Equal(t, want, m.backoff(n), "attempt %d", n)
	}
}

// TestCancelDuringSendKeepsDeliveryDue: an attempt cut short by the
// caller's context is not counted and leaves the delivery due.
func TestCancelDuringSendKeepsDeliveryDue(t *testing.T) {
	t.Parallel()
	m, err := New(Config{Host: "127.0.0.1", From: "noreply@registra.example", QueueDir: t.TempDir()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	m.send = func(ctx context.Context, _ *gomail.Msg) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	require.NoError(t, m.Enqueue(context.Background(), newSealed(t, "cut").d))
	_, err = m.RunOnce(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	st, err := m.Status(context.Background(), "cut")
	require.NoError(t, err)
	assert.Equal(t, Queued, st.State)
	assert.Zero(t, st.Attempts)
	assert.Equal(t, "starttls", STARTTLS.String())
	assert.Equal(t, "TLSPolicy(9)", TLSPolicy(9).String())
}
