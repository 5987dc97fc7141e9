package mail

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/registra-pki/registra/envelope"
)

// Subject is the subject of an envelope message, in Italian and English.
const Subject = "Codici di attivazione del certificato di firma / Signature certificate activation codes"

// attachmentType is the content type of an attachment. A .p7m goes out as
// application/octet-stream: labelled application/pkcs7-mime, mail clients
// try to decrypt it as an S/MIME message with the reader's own keys and
// fail, instead of offering the file.
func attachmentType(e *envelope.Envelope) gomail.ContentType {
	if e.MediaType == envelope.MediaTypePDF {
		return gomail.ContentType(envelope.MediaTypePDF)
	}
	return gomail.TypeAppOctetStream
}

const textBody = `{{with .Name}}Gentile {{.}},{{else}}Gentile cliente,{{end}}

in allegato trova la busta cifrata con i codici di attivazione del suo
certificato di firma, in due formati con lo stesso contenuto:

  - {{.PDF}}: si apre con qualsiasi lettore PDF;
  - {{.P7M}}: si apre con un programma per file CMS/.p7m,
    ad esempio: openssl cms -decrypt -inform DER -in {{.P7M}} -pwri_password PASSPHRASE

Per aprirla usi la passphrase comunicata dall'operatore: il suo codice
fiscale (in maiuscolo) oppure quella scelta al momento dell'emissione.
Conservi i codici in un luogo sicuro e non li comunichi a nessuno.

--

{{with .Name}}Dear {{.}},{{else}}Dear customer,{{end}}

attached is the encrypted envelope with the activation codes of your
signature certificate, in two formats with the same content:

  - {{.PDF}}: opens with any PDF reader;
  - {{.P7M}}: opens with a CMS/.p7m tool,
    for example: openssl cms -decrypt -inform DER -in {{.P7M}} -pwri_password PASSPHRASE

Open it with the passphrase the operator gave you: your tax code (in
capitals) or the one chosen when the certificate was issued.
Keep the codes in a safe place and do not share them with anyone.
`

const htmlBody = `<!DOCTYPE html>
<html><body>
<div lang="it">
<p>{{with .Name}}Gentile {{.}},{{else}}Gentile cliente,{{end}}</p>
<p>in allegato trova la busta cifrata con i codici di attivazione del suo certificato di firma, in due formati con lo stesso contenuto:</p>
<ul>
<li><b>{{.PDF}}</b>: si apre con qualsiasi lettore PDF;</li>
<li><b>{{.P7M}}</b>: si apre con un programma per file CMS/.p7m, ad esempio <code>openssl cms -decrypt -inform DER -in {{.P7M}} -pwri_password PASSPHRASE</code>.</li>
</ul>
<p>Per aprirla usi la passphrase comunicata dall'operatore: il suo codice fiscale (in maiuscolo) oppure quella scelta al momento dell'emissione. Conservi i codici in un luogo sicuro e non li comunichi a nessuno.</p>
</div>
<hr>
<div lang="en">
<p>{{with .Name}}Dear {{.}},{{else}}Dear customer,{{end}}</p>
<p>attached is the encrypted envelope with the activation codes of your signature certificate, in two formats with the same content:</p>
<ul>
<li><b>{{.PDF}}</b>: opens with any PDF reader;</li>
<li><b>{{.P7M}}</b>: opens with a CMS/.p7m tool, for example <code>openssl cms -decrypt -inform DER -in {{.P7M}} -pwri_password PASSPHRASE</code>.</li>
</ul>
<p>Open it with the passphrase the operator gave you: your tax code (in capitals) or the one chosen when the certificate was issued. Keep the codes in a safe place and do not share them with anyone.</p>
</div>
</body></html>
`

var (
	textTmpl = texttemplate.Must(texttemplate.New("text").Parse(textBody))
	htmlTmpl = template.Must(template.New("html").Parse(htmlBody))
)

type bodyData struct {
	Name, PDF, P7M string
}

func render(d *envelope.Delivery) (text, html string, err error) {
	data := bodyData{Name: d.HolderName, PDF: envelope.FileNamePDF, P7M: envelope.FileNameCMS}
	for _, e := range d.Envelopes {
		switch {
		case strings.HasSuffix(e.FileName, ".pdf"):
			data.PDF = e.FileName
		case strings.HasSuffix(e.FileName, ".p7m"):
			data.P7M = e.FileName
		}
	}
	var t, h bytes.Buffer
	// html/template escapes the holder's name in the HTML part; the plain
	// text part shows it as is.
	if err := textTmpl.Execute(&t, data); err != nil {
		return "", "", fmt.Errorf("mail: rendering the text body: %w", err)
	}
	if err := htmlTmpl.Execute(&h, data); err != nil {
		return "", "", fmt.Errorf("mail: rendering the HTML body: %w", err)
	}
	return t.String(), h.String(), nil
}

// buildMessage makes the go-mail message of a delivery. The Message-ID is
// derived from the delivery ID, so every retry of a delivery carries the
// same one and a receiver can drop duplicates.
func buildMessage(d *envelope.Delivery, from, fromName, domain string, now time.Time) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	var err error
	if fromName != "" {
		err = m.FromFormat(fromName, from)
	} else {
		err = m.From(from)
	}
	if err != nil {
		return nil, &FieldError{Field: "from", Rule: "must be an e-mail address"}
	}
	if err := m.To(d.To); err != nil {
		return nil, &FieldError{Field: "to", Rule: "must be an e-mail address"}
	}
	m.Subject(Subject)
	m.SetMessageIDWithValue(d.ID + "@" + domain)
	m.SetDateWithValue(now)
	text, html, err := render(d)
	if err != nil {
		return nil, err
	}
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	for _, e := range d.Envelopes {
		if err := m.AttachReader(e.FileName, bytes.NewReader(e.Data), gomail.WithFileContentType(attachmentType(e))); err != nil {
			return nil, fmt.Errorf("mail: attaching %s: %w", e.FileName, err)
		}
	}
	return m, nil
}
