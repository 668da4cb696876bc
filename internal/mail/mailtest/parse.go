package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Received is one delivered message: the SMTP envelope plus the decoded
// subject and bodies. Text and HTML have their transfer encoding removed and
// line endings normalised to "\n".
type Received struct {
	From     string   // envelope sender (MAIL FROM)
	To       []string // envelope recipients (RCPT TO)
	Username string   // the AUTH PLAIN user, "" when the client did not authenticate
	TLS      bool     // whether the message came over TLS (STARTTLS or implicit)
	Header   mail.Header
	Subject  string
	Text     string // the first text/plain part
	HTML     string // the first text/html part
	Raw      []byte // the message exactly as received
}

// parse decodes a raw RFC 5322 message, walking nested multiparts.
func parse(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("read message: %w", err)
	}
	r := Received{Header: msg.Header, Raw: raw}
	var dec mime.WordDecoder
	if r.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Received{}, fmt.Errorf("decode subject: %w", err)
	}
	err = r.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), "", msg.Body)
	if err != nil {
		return Received{}, err
	}
	if r.Text == "" && r.HTML == "" {
		return Received{}, errors.New("no text/plain or text/html part")
	}
	return r, nil
}

func (r *Received) walk(contentType, encoding, disposition string, body io.Reader) error {
	mediaType, params := "text/plain", map[string]string{}
	if contentType != "" {
		var err error
		if mediaType, params, err = mime.ParseMediaType(contentType); err != nil {
			return fmt.Errorf("content type %q: %w", contentType, err)
		}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			err = r.walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"),
				part.Header.Get("Content-Disposition"), part)
			if err != nil {
				return err
			}
		}
	}
	if strings.HasPrefix(strings.ToLower(disposition), "attachment") {
		return nil
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	content, err := decode(encoding, body)
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(content), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && r.Text == "":
		r.Text = text
	case mediaType == "text/html" && r.HTML == "":
		r.HTML = text
	}
	return nil
}

func decode(encoding string, body io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "7bit", "8bit", "binary":
		return io.ReadAll(body)
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(body))
	case "base64":
		// Encoders wrap base64 at 76 columns; the decoder must skip the breaks.
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, newlineStripper{body}))
	default:
		return nil, fmt.Errorf("unknown transfer encoding %q", encoding)
	}
}

// newlineStripper drops CR and LF bytes from a base64 stream.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, b := range p[:k] {
			if b != '\r' && b != '\n' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
