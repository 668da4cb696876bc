package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes for SMTPConfig.TLS.
const (
	// TLSAuto uses implicit TLS on port 465 and otherwise upgrades with
	// STARTTLS when the server offers it. Credentials are still never sent
	// over a clear connection to a remote host.
	TLSAuto = "auto"
	// TLSStartTLS requires STARTTLS: the send fails rather than continue in
	// clear text.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "tls"
	// TLSNone never encrypts; for a relay on the same host or a private network.
	TLSNone = "none"
)

// Defaults for SMTPConfig.
const (
	DefaultSMTPPort    = 587 // submission, with STARTTLS
	DefaultSMTPSPort   = 465 // submission over implicit TLS
	DefaultSMTPTimeout = 30 * time.Second
)

const minTLSVersion = tls.VersionTLS12

// SMTPConfig configures an SMTP sender; the fields mirror the SMTP_* settings.
type SMTPConfig struct {
	Host string
	// Port defaults to 587, or to 465 when TLS is "tls".
	Port int
	// User and Pass enable AUTH PLAIN; without User no authentication is tried.
	User, Pass string
	// From is the sender address, "CareCircle <care@example.org>" or a bare address.
	From string
	// TLS is one of "auto" (the default when empty), "starttls", "tls", "none".
	TLS string
	// Timeout bounds each connection (dial, TLS and the whole conversation);
	// it defaults to 30s.
	Timeout time.Duration
}

// SMTP sends mail through an SMTP server with go-mail. It opens one
// connection per message, which is plenty for account and notification mail
// and keeps no idle connection for a server to drop. It is safe for
// concurrent use.
type SMTP struct {
	host        string
	port        int
	implicitTLS bool
	policy      gomail.TLSPolicy
	user, pass  string
	from        *netmail.Address
	timeout     time.Duration
	// tlsConfig is used for implicit TLS and STARTTLS; tests replace RootCAs.
	tlsConfig *tls.Config
}

// NewSMTP validates cfg and returns a sender. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: host is required")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from address %q: %w", cfg.From, err)
	}
	s := &SMTP{
		host:    cfg.Host,
		port:    cfg.Port,
		user:    cfg.User,
		pass:    cfg.Pass,
		from:    from,
		timeout: cfg.Timeout,
		tlsConfig: &tls.Config{
			ServerName: cfg.Host,
			MinVersion: minTLSVersion,
		},
	}
	if s.timeout <= 0 {
		s.timeout = DefaultSMTPTimeout
	}
	if s.port < 0 || s.port > 65535 {
		return nil, fmt.Errorf("smtp: port %d out of range", s.port)
	}
	mode := strings.ToLower(strings.TrimSpace(cfg.TLS))
	switch mode {
	case "", TLSAuto:
		if s.port == 0 {
			s.port = DefaultSMTPPort
		}
		s.implicitTLS = s.port == DefaultSMTPSPort
		s.policy = gomail.TLSOpportunistic
	case TLSStartTLS:
		if s.port == 0 {
			s.port = DefaultSMTPPort
		}
		s.policy = gomail.TLSMandatory
	case TLSImplicit:
		if s.port == 0 {
			s.port = DefaultSMTPSPort
		}
		s.implicitTLS = true
	case TLSNone:
		if s.port == 0 {
			s.port = DefaultSMTPPort
		}
		s.policy = gomail.NoTLS
		// go-mail refuses PLAIN over a clear connection to anything but
		// localhost; say so at startup instead of failing every send.
		if s.user != "" && !isLoopback(s.host) {
			return nil, fmt.Errorf("smtp: TLS %q with a user would send the password in clear text to %s; use starttls or tls", TLSNone, s.host)
		}
	default:
		return nil, fmt.Errorf("smtp: unknown TLS mode %q (want auto, starttls, tls or none)", cfg.TLS)
	}
	return s, nil
}

// Send delivers m. Cancelling ctx aborts the conversation; a deadline on ctx
// shortens the connection timeout. Errors the server reports as permanent
// (5xx, such as an unknown recipient) and malformed messages are wrapped with
// Permanent.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	msg, err := s.build(m)
	if err != nil {
		return Permanent(fmt.Errorf("smtp build message: %w", err))
	}

	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}

	// go-mail bounds the conversation by its timeout but only watches ctx
	// while dialing, so dial ourselves and close the socket when ctx ends.
	var stopWatch func() bool
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		stopWatch = context.AfterFunc(ctx, func() { _ = raw.Close() })
		if !s.implicitTLS {
			return raw, nil
		}
		conn := tls.Client(raw, s.tlsConfig.Clone())
		if err := conn.HandshakeContext(dctx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return conn, nil
	}
	defer func() {
		if stopWatch != nil {
			stopWatch()
		}
	}()

	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(s.tlsConfig.Clone()),
		gomail.WithDialContextFunc(dial),
	}
	if s.implicitTLS {
		// Our dialer already wraps the socket in TLS; this only stops go-mail
		// from attempting STARTTLS on top of it.
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.policy))
	}
	if s.user != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(s.user),
			gomail.WithPassword(s.pass))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("smtp send to %s: %w", s.addr(), ctx.Err())
		}
		err = fmt.Errorf("smtp send to %s: %w", s.addr(), err)
		var se *gomail.SendError
		if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
			return Permanent(err)
		}
		return err
	}
	return nil
}

func (s *SMTP) addr() string { return net.JoinHostPort(s.host, fmt.Sprint(s.port)) }

// build turns m into a go-mail message: text/plain, with text/html as its
// multipart/alternative companion when present.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	if strings.TrimSpace(m.Text) == "" {
		return nil, errors.New("empty text body")
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(oneLine(m.Subject))
	msg.SetDate()
	msg.SetMessageIDWithValue(rand.Text() + "@" + domainOf(s.from.Address))
	msg.SetUserAgent("CareCircle")
	// Transactional mail: ask servers not to send vacation auto-replies back.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// oneLine folds any line breaks in a header value into spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "carecircle.invalid"
}

// isLoopback matches the hosts go-mail lets PLAIN authenticate to without TLS.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
