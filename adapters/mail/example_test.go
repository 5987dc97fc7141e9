package mail_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/registra-pki/registra/adapters/mail"
	"github.com/registra-pki/registra/envelope"
)

// ExampleMailer shows the wiring: a mailer over a queue directory, a
// delivery of sealed envelopes, and the loop that sends it.
func ExampleMailer() {
	m, err := mail.New(mail.Config{
		Host:     "smtp.example.it", // STARTTLS on 587 by default
		Username: "registra",
		Password: "from a secret store",
		From:     "noreply@example.it",
		QueueDir: "/var/lib/registra/mail",
	})
	if err != nil {
		log.Fatal(err)
	}
	var p7m, pdf *envelope.Envelope // from envelope.CMS.Seal and envelope.PDF.Seal
	err = m.Enqueue(context.Background(), &envelope.Delivery{
		ID: "prod-42-1", ProductID: "prod-42", To: "mario.rossi@example.it",
		Envelopes: []*envelope.Envelope{p7m, pdf},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fmt.Println(m.Run(ctx))
}
