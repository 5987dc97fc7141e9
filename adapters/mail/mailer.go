package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/internal/logattr"
)

// TLSPolicy says how the connection to the SMTP server is protected.
type TLSPolicy int

// TLS policies.
const (
	// STARTTLS requires the STARTTLS upgrade (RFC 3207) and sends nothing
	// to a server that does not offer it. The zero value.
	STARTTLS TLSPolicy = iota
	// ImplicitTLS connects with TLS from the first byte (SMTPS, RFC 8314).
	ImplicitTLS
	// OpportunisticSTARTTLS upgrades when the server offers STARTTLS and
	// sends in clear otherwise.
	OpportunisticSTARTTLS
	// NoTLS never encrypts; for loopback test servers only.
	NoTLS
)

// String returns the policy's name.
func (p TLSPolicy) String() string {
	switch p {
	case STARTTLS:
		return "starttls"
	case ImplicitTLS:
		return "implicit-tls"
	case OpportunisticSTARTTLS:
		return "opportunistic-starttls"
	case NoTLS:
		return "no-tls"
	}
	return "TLSPolicy(" + strconv.Itoa(int(p)) + ")"
}

// Defaults of [Config].
const (
	DefaultMaxAttempts    = 12
	DefaultInitialBackoff = time.Minute
	DefaultMaxBackoff     = 2 * time.Hour
	DefaultTimeout        = 30 * time.Second
)

// Config configures [New].
type Config struct {
	// Host is the SMTP server's host name. Required.
	Host string
	// Port is the server's port; zero means 587, or 465 with ImplicitTLS.
	Port int
	// TLS is the TLS policy; the zero value requires STARTTLS.
	TLS TLSPolicy
	// TLSConfig verifies the server; nil means the system roots with Host
	// as the server name.
	TLSConfig *tls.Config
	// Username enables SMTP AUTH (PLAIN) when set.
	Username string
	// Password is the SMTP AUTH password.
	Password Secret
	// From is the sender's address. Required.
	From string
	// FromName is the sender's display name; it may be empty.
	FromName string
	// QueueDir holds one file per delivery; created with mode 0700 when
	// missing. Required.
	QueueDir string
	// MaxAttempts is how many attempts a delivery gets before it fails;
	// zero means [DefaultMaxAttempts].
	MaxAttempts int
	// InitialBackoff is the wait after the first failed attempt, doubled
	// after each further one; zero means [DefaultInitialBackoff].
	InitialBackoff time.Duration
	// MaxBackoff caps the wait; zero means [DefaultMaxBackoff].
	MaxBackoff time.Duration
	// Timeout bounds one SMTP conversation; zero means [DefaultTimeout].
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per attempt; nil discards them.
	Logger *slog.Logger
}

// Validate checks the config's fields together and names the first bad one.
func (c *Config) Validate() error {
	switch {
	case c.Host == "":
		return &FieldError{Field: "host", Rule: "is required"}
	case c.Port < 0 || c.Port > 65535:
		return &FieldError{Field: "port", Rule: "must be between 1 and 65535"}
	case c.TLS < STARTTLS || c.TLS > NoTLS:
		return &FieldError{Field: "tls", Rule: "unknown policy"}
	case c.Password != "" && c.Username == "":
		return &FieldError{Field: "username", Rule: "is required with a password"}
	case c.QueueDir == "":
		return &FieldError{Field: "queue_dir", Rule: "is required"}
	case c.MaxAttempts < 0:
		return &FieldError{Field: "max_attempts", Rule: "must not be negative"}
	case c.InitialBackoff < 0 || c.MaxBackoff < 0 || c.Timeout < 0:
		return &FieldError{Field: "backoff", Rule: "durations must not be negative"}
	case c.InitialBackoff > 0 && c.MaxBackoff > 0 && c.MaxBackoff < c.InitialBackoff:
		return &FieldError{Field: "max_backoff", Rule: "must be at least initial_backoff"}
	}
	if _, err := mail.ParseAddress(c.From); err != nil || strings.ContainsAny(c.From, "<>") {
		return &FieldError{Field: "from", Rule: "must be a bare e-mail address"}
	}
	return nil
}

// Mailer queues deliveries durably and sends them by SMTP. Its methods are
// safe for concurrent use by one process; two processes must not share a
// queue directory.
type Mailer struct {
	cfg    Config
	dir    string
	domain string
	now    func() time.Time
	log    *slog.Logger
	// send delivers one message; tests replace it.
	send func(ctx context.Context, m *gomail.Msg) error

	mu       sync.Mutex
	inflight map[string]bool
	wake     chan struct{}
}

var _ envelope.Mailer = (*Mailer)(nil)

// New returns a mailer over cfg.QueueDir, removing temporary files a crash
// left there. It copies cfg.
func New(cfg Config) (*Mailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == ImplicitTLS {
			cfg.Port = 465
		}
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff = DefaultInitialBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.InitialBackoff)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	} else {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
	}
	m := &Mailer{
		cfg:      cfg,
		dir:      cfg.QueueDir,
		domain:   cfg.From[strings.LastIndexByte(cfg.From, '@')+1:],
		now:      cfg.Now,
		log:      cfg.Logger,
		inflight: map[string]bool{},
		wake:     make(chan struct{}, 1),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.send = m.sendSMTP
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: creating the directory: %w", ErrQueue, err)
	}
	if err := m.removeTemps(); err != nil {
		return nil, err
	}
	return m, nil
}

// Enqueue stores d in the queue, due now, and returns once it is durable.
// It fails with [ErrExists] if the queue already holds d.ID: a resend with
// a new passphrase is a new delivery with a new ID.
func (m *Mailer) Enqueue(ctx context.Context, d *envelope.Delivery) error {
	if d == nil {
		return &FieldError{Field: "delivery", Rule: "is required"}
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if a, err := mail.ParseAddress(d.To); err != nil || a.Address != d.To {
		return &FieldError{Field: "to", Rule: "must be a bare e-mail address"}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := os.Stat(m.path(d.ID)); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, d.ID)
	}
	now := m.now()
	cp := *d
	cp.Envelopes = slices.Clone(d.Envelopes)
	e := &entry{
		Status:   Status{ID: d.ID, ProductID: d.ProductID, To: d.To, State: Queued, EnqueuedAt: now, NextAttemptAt: now},
		Delivery: &cp,
	}
	if err := m.write(e); err != nil {
		return err
	}
	m.log.InfoContext(ctx, "envelope queued", slog.String(logattr.EnvelopeID, d.ID),
		slog.String(logattr.ProductID, d.ProductID), slog.String(logattr.Recipient, d.To))
	m.poke()
	return nil
}

// Status returns the state of a delivery.
func (m *Mailer) Status(ctx context.Context, id string) (Status, error) {
	if !envelope.ValidDeliveryID(id) {
		return Status{}, &FieldError{Field: "id", Rule: "is not a delivery ID"}
	}
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.read(id)
	if err != nil {
		return Status{}, err
	}
	return e.Status, nil
}

// Resend queues a failed (or sent) delivery again with its envelopes, due
// now, with a fresh count of attempts. A delivery still queued is left
// alone ([ErrState]).
func (m *Mailer) Resend(ctx context.Context, id string) error {
	if !envelope.ValidDeliveryID(id) {
		return &FieldError{Field: "id", Rule: "is not a delivery ID"}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.read(id)
	if err != nil {
		return err
	}
	if e.Status.State == Queued || m.inflight[id] {
		return fmt.Errorf("%w: %s is still queued", ErrState, id)
	}
	now := m.now()
	e.Status.State = Queued
	e.Status.Attempts = 0
	e.Status.EnqueuedAt = now
	e.Status.NextAttemptAt = now
	e.Status.SentAt = time.Time{}
	if err := m.write(e); err != nil {
		return err
	}
	m.log.InfoContext(ctx, "envelope queued again", slog.String(logattr.EnvelopeID, id))
	m.poke()
	return nil
}

func (m *Mailer) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Pass is the outcome of one [Mailer.RunOnce].
type Pass struct {
	// Sent, Retrying and Failed count the deliveries attempted in the pass
	// by outcome.
	Sent, Retrying, Failed int
	// NextAttemptAt is when the earliest queued delivery is due; zero when
	// nothing is queued.
	NextAttemptAt time.Time
}

// RunOnce attempts every queued delivery that is due, one after the other,
// and records each outcome before moving on. Errors reading or writing the
// queue stop the pass; SMTP failures do not, they become delivery state.
func (m *Mailer) RunOnce(ctx context.Context) (Pass, error) {
	var p Pass
	m.mu.Lock()
	ids, err := m.ids()
	m.mu.Unlock()
	if err != nil {
		return p, err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		e, due, err := m.claim(id)
		if err != nil {
			return p, err
		}
		if e == nil {
			continue
		}
		if !due {
			p.NextAttemptAt = earliest(p.NextAttemptAt, e.Status.NextAttemptAt)
			continue
		}
		st, err := m.attempt(ctx, e)
		if err != nil {
			return p, err
		}
		switch st.State {
		case Sent:
			p.Sent++
		case Failed:
			p.Failed++
		default:
			p.Retrying++
			p.NextAttemptAt = earliest(p.NextAttemptAt, st.NextAttemptAt)
		}
	}
	return p, nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// claim reads a queued delivery and, when it is due, marks it in flight.
func (m *Mailer) claim(id string) (*entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inflight[id] {
		return nil, false, nil
	}
	e, err := m.read(id)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if e.Status.State != Queued {
		return nil, false, nil
	}
	if e.Status.NextAttemptAt.After(m.now()) {
		return e, false, nil
	}
	m.inflight[id] = true
	return e, true, nil
}

// attempt sends one delivery and records the outcome.
func (m *Mailer) attempt(ctx context.Context, e *entry) (Status, error) {
	id := e.Status.ID
	defer func() {
		m.mu.Lock()
		delete(m.inflight, id)
		m.mu.Unlock()
	}()
	msg, err := buildMessage(e.Delivery, m.cfg.From, m.cfg.FromName, m.domain, m.now())
	var sendErr error
	if err != nil {
		sendErr = err
	} else {
		sctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
		sendErr = m.send(sctx, msg)
		cancel()
	}
	if sendErr != nil && ctx.Err() != nil {
		// Interrupted, not refused: the delivery stays as it was, due.
		return Status{}, ctx.Err()
	}
	now := m.now()
	st := &e.Status
	st.Attempts++
	st.LastAttemptAt = now
	log := m.log.With(slog.String(logattr.EnvelopeID, id), slog.String(logattr.Recipient, st.To), slog.Int(logattr.Attempt, st.Attempts))
	switch {
	case sendErr == nil:
		st.State, st.SentAt, st.NextAttemptAt = Sent, now, time.Time{}
		st.LastError, st.ReplyCode = "", 0
		log.InfoContext(ctx, "envelope sent")
	default:
		st.LastError, st.ReplyCode = describe(sendErr)
		permanent := st.ReplyCode >= 500 || errors.Is(sendErr, ErrInvalidInput)
		if permanent || st.Attempts >= m.cfg.MaxAttempts {
			st.State, st.NextAttemptAt = Failed, time.Time{}
			log.WarnContext(ctx, "envelope delivery failed", slog.String(logattr.Reply, st.LastError))
		} else {
			st.NextAttemptAt = now.Add(m.backoff(st.Attempts))
			log.InfoContext(ctx, "envelope delivery will be retried", slog.String(logattr.Reply, st.LastError),
				slog.Time(logattr.NextAttempt, st.NextAttemptAt))
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.write(e); err != nil {
		return Status{}, err
	}
	return *st, nil
}

// backoff is the wait after the n-th failed attempt: InitialBackoff ×
// 2^(n-1), capped at MaxBackoff.
func (m *Mailer) backoff(n int) time.Duration {
	d := m.cfg.InitialBackoff
	for i := 1; i < n && d < m.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, m.cfg.MaxBackoff)
}

// describe returns the text and SMTP code of a failure, the server's reply
// when there was one.
func describe(err error) (string, int) {
	msg := err.Error()
	if len(msg) > 512 {
		msg = msg[:512]
	}
	if se, ok := errors.AsType[*gomail.SendError](err); ok {
		return msg, se.ErrorCode()
	}
	return msg, 0
}

// Run sends due deliveries until ctx is done: a pass, then a wait until
// the next delivery is due or something is enqueued or resent. It returns
// ctx's error, or the first queue error.
func (m *Mailer) Run(ctx context.Context) error {
	for {
		p, err := m.RunOnce(ctx)
		if err != nil {
			return err
		}
		var timer *time.Timer
		var due <-chan time.Time
		if !p.NextAttemptAt.IsZero() {
			timer = time.NewTimer(max(0, p.NextAttemptAt.Sub(m.now())))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-m.wake:
		case <-due:
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return err
		}
	}
}

// sendSMTP delivers one message with go-mail.
func (m *Mailer) sendSMTP(ctx context.Context, msg *gomail.Msg) error {
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(m.cfg.Timeout),
		gomail.WithTLSConfig(m.cfg.TLSConfig),
	}
	switch m.cfg.TLS {
	case STARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case OpportunisticSTARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if m.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(string(m.cfg.Password)))
	}
	c, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	return c.DialAndSendWithContext(ctx, msg)
}
