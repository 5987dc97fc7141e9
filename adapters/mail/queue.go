package mail

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/registra-pki/registra/envelope"
)

// State is the delivery state of one envelope.
type State string

// Delivery states. They are stable storage names.
const (
	// Queued: waiting for its first or next attempt.
	Queued State = "queued"
	// Sent: the server accepted the message.
	Sent State = "sent"
	// Failed: the server refused it for good, or every attempt failed;
	// [Mailer.Resend] queues it again.
	Failed State = "failed"
)

// Status is what the queue knows about a delivery.
type Status struct {
	// ID is the delivery's ID.
	ID string `json:"id"`
	// ProductID is the product the envelope belongs to.
	ProductID string `json:"product_id"`
	// To is the recipient.
	To string `json:"to"`
	// State is queued, sent or failed.
	State State `json:"state"`
	// Attempts counts the attempts since the delivery was (re)queued.
	Attempts int `json:"attempts"`
	// EnqueuedAt is when it was queued, or queued again by Resend.
	EnqueuedAt time.Time `json:"enqueued_at"`
	// NextAttemptAt is when a queued delivery is due.
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// LastAttemptAt is when the last attempt ended.
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	// SentAt is when the server accepted the message.
	SentAt time.Time `json:"sent_at,omitzero"`
	// LastError is the last failure: the server's reply when there was
	// one, e.g. "550 5.1.1 mailbox unavailable".
	LastError string `json:"last_error,omitempty"`
	// ReplyCode is the SMTP reply code of the last failure, 0 when the
	// server gave none (no connection, TLS failure).
	ReplyCode int `json:"reply_code,omitempty"`
}

// entry is one queue file: the status and the delivery itself, whose
// envelopes are ciphertext.
type entry struct {
	Status   Status             `json:"status"`
	Delivery *envelope.Delivery `json:"delivery"`
}

const (
	entrySuffix = ".json"
	tmpPrefix   = ".tmp-"
)

func (m *Mailer) path(id string) string { return filepath.Join(m.dir, id+entrySuffix) }

// write stores e atomically: a temporary file in the same directory,
// fsync, rename over the entry, fsync of the directory. A crash leaves
// either the old entry or the new one, never a torn file.
func (m *Mailer) write(e *entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("%w: encoding %s: %w", ErrQueue, e.Status.ID, err)
	}
	tmp, err := os.CreateTemp(m.dir, tmpPrefix+e.Status.ID+"-*")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrQueue, err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("%w: writing %s: %w", ErrQueue, e.Status.ID, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("%w: syncing %s: %w", ErrQueue, e.Status.ID, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%w: closing %s: %w", ErrQueue, e.Status.ID, err)
	}
	if err := os.Rename(name, m.path(e.Status.ID)); err != nil {
		return fmt.Errorf("%w: renaming %s: %w", ErrQueue, e.Status.ID, err)
	}
	ok = true
	return syncDir(m.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrQueue, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("%w: syncing the directory: %w", ErrQueue, err)
	}
	return nil
}

func (m *Mailer) read(id string) (*entry, error) {
	b, err := os.ReadFile(m.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueue, err)
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil || e.Delivery == nil || e.Status.ID != id {
		return nil, fmt.Errorf("%w: entry %s is unreadable", ErrQueue, id)
	}
	return &e, nil
}

// ids lists the deliveries in the queue, in directory order.
func (m *Mailer) ids() ([]string, error) {
	des, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueue, err)
	}
	var out []string
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || strings.HasPrefix(name, tmpPrefix) || !strings.HasSuffix(name, entrySuffix) {
			continue
		}
		out = append(out, strings.TrimSuffix(name, entrySuffix))
	}
	return out, nil
}

// removeTemps deletes temporary files a crash left behind: their rename
// never happened, so the entry they were replacing is still in place.
func (m *Mailer) removeTemps() error {
	des, err := os.ReadDir(m.dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrQueue, err)
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			if err := os.Remove(filepath.Join(m.dir, de.Name())); err != nil {
				return fmt.Errorf("%w: %w", ErrQueue, err)
			}
		}
	}
	return nil
}
