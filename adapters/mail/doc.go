// Package mail delivers envelopes of activation codes by SMTP (issue #7).
//
// A [Mailer] receives an [envelope.Delivery]: sealed envelopes (a .p7m and
// a PDF) and an address. It never sees a passphrase or a code in clear
// (STYLE §2.13). Enqueue writes the delivery to a queue directory (temporary
// file, fsync, rename, directory fsync) and returns; [Mailer.Run] (or
// [Mailer.RunOnce], one pass) sends what is due with
// github.com/wneessen/go-mail, as a message with a plain-text and an HTML
// body in Italian and English and the envelopes attached.
//
// # Delivery state
//
// Each delivery is queued, sent, or failed ([State]). A temporary failure
// (no connection, a 4xx reply, a TLS error) keeps it queued and schedules
// another attempt after an exponential backoff; a permanent 5xx reply, or
// running out of attempts, marks it failed with the server's reply. A
// failed delivery keeps its envelopes and [Mailer.Resend] queues it again:
// nothing is ever lost because a mail server was down.
//
// Delivery is at least once: a crash between the server's acceptance and
// the write of the sent state sends the message again after a restart. Every
// attempt of a delivery carries the same Message-ID, derived from its ID,
// so that the receiving side can tell.
//
// # TLS
//
// The zero [TLSPolicy] requires STARTTLS: a server that does not offer it
// is not sent anything (no downgrade). [ImplicitTLS] is SMTPS;
// [NoTLS] exists for loopback test servers.
package mail
