package realtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/carecircle/carecircle"
)

// client is one open socket. Memory per idle socket is what bounds how
// many a server holds, so an idle socket keeps a single goroutine, the
// reader (the protocol needs one for pongs and close frames), and small
// I/O buffers. A writer goroutine exists only while messages or a close
// are pending, and a keep-alive timer runs pings.
type client struct {
	hub       *Hub
	userID    string
	sessionID string
	conn      *websocket.Conn
	ping      *time.Timer
	families  map[string]struct{} // guarded by Hub.mu

	mu          sync.Mutex
	queue       [][]byte
	writing     bool // a writer goroutine is running
	closing     bool // a close was requested; nothing more is sent
	ended       bool // the reader saw the socket end; nothing more starts
	closeCode   websocket.StatusCode
	closeReason string
}

// enqueue adds msg unless limit messages already wait; it reports false
// when the buffer is full.
func (c *client) enqueue(msg []byte, limit int) bool {
	c.mu.Lock()
	if c.closing || c.ended {
		c.mu.Unlock()
		return true
	}
	if len(c.queue) >= limit {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, msg)
	start := c.claimWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	return true
}

// closeWith has the socket closed with code; the first request wins and
// nothing queued is sent after it.
func (c *client) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if !c.closing {
		c.closing, c.closeCode, c.closeReason = true, code, reason
		c.queue = nil
	}
	start := c.claimWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// claimWriterLocked reports whether the caller must start the writer.
// The hub's WaitGroup is raised here, under c.mu and before the reader can
// mark the socket ended, so Hub.Close never waits on a zero count that
// grows again.
func (c *client) claimWriterLocked() bool {
	if c.writing || c.ended {
		return false
	}
	c.writing = true
	c.hub.wg.Add(1)
	return true
}

// writeLoop sends what is queued, or the close frame, then exits.
func (c *client) writeLoop() {
	defer c.hub.wg.Done()
	for {
		c.mu.Lock()
		if c.closing {
			code, reason := c.closeCode, c.closeReason
			c.mu.Unlock() // writing stays set: this socket needs no other writer
			c.conn.Close(code, reason)
			return
		}
		msgs := c.queue
		c.queue = nil
		if len(msgs) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		for _, m := range msgs {
			ctx, cancel := context.WithTimeout(context.Background(), c.hub.opts.WriteTimeout)
			err := c.conn.Write(ctx, websocket.MessageText, m)
			cancel()
			if err != nil {
				// The reader sees the socket end and unregisters it.
				c.conn.CloseNow()
				return
			}
		}
	}
}

// keepAlive pings the client; a client that does not answer within
// WriteTimeout is disconnected. It runs on the ping timer's goroutine,
// concurrently with writes.
func (c *client) keepAlive() {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.hub.wg.Add(1)
	c.mu.Unlock()
	defer c.hub.wg.Done()

	ctx, cancel := context.WithTimeout(context.Background(), c.hub.opts.WriteTimeout)
	err := c.conn.Ping(ctx)
	cancel()
	if err != nil {
		c.hub.log.Debug("realtime: ping failed, closing socket", "user_id", c.userID, "err", err)
		c.conn.CloseNow()
		return
	}
	c.ping.Reset(c.hub.opts.PingInterval)
}

// readLoop reads and discards client messages until the socket ends, then
// unregisters it. Reading is also what answers pings and close frames and
// delivers pongs.
func (c *client) readLoop() {
	defer c.hub.wg.Done()
	for {
		_, r, err := c.conn.Reader(context.Background())
		if err != nil {
			break
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			break
		}
	}
	c.mu.Lock()
	c.ended = true
	c.queue = nil
	c.mu.Unlock()
	c.ping.Stop()
	c.hub.unregister(c)
	c.conn.CloseNow()
}

// Handler returns the GET /api/v1/ws handler. Browsers (requests with an
// Origin header) must come from the request's own host or an allowed
// origin; clients without Origin are not browsers and need only
// authenticate.
func (h *Hub) Handler(auth Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, http.StatusMethodNotAllowed, "use GET to open the event socket")
			return
		}
		if !originAllowed(r, h.opts.AllowedOrigins) {
			writeError(w, http.StatusForbidden, "origin not allowed")
			return
		}
		seq := h.currentSeq()
		userID, sessionID, familyIDs, err := auth(r)
		if err != nil || userID == "" {
			if carecircle.ErrorCode(err) == carecircle.EUNAVAILABLE {
				writeError(w, http.StatusServiceUnavailable, "try again later")
				return
			}
			writeError(w, http.StatusUnauthorized, "not signed in")
			return
		}
		conn, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{OriginPatterns: h.opts.AllowedOrigins})
		if err != nil {
			h.log.Debug("realtime: upgrade failed", "err", err) // Accept has answered the request
			return
		}
		conn.SetReadLimit(readLimit)
		c := &client{hub: h, userID: userID, sessionID: sessionID, conn: conn}
		c.ping = time.AfterFunc(h.opts.PingInterval, c.keepAlive)
		if !h.register(c, familyIDs, seq) {
			c.ping.Stop()
			conn.Close(websocket.StatusGoingAway, "server shutting down")
			return
		}
		// The handler returns, so the request and its goroutine are freed;
		// the socket lives on in its reader.
		go c.readLoop()
	})
}

// smallBuffers hands coder/websocket smaller I/O buffers than the 4 KB
// pair net/http hijacks with: the server writes event-sized messages
// (flushed one by one) and reads only control frames, and 10,000 sockets
// times 8 KB is memory better spent elsewhere.
type smallBuffers struct{ http.ResponseWriter }

const (
	readBufferSize  = 512
	writeBufferSize = 1024
)

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil { // the 101 response, if still buffered
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(conn, readBufferSize)
	if n := brw.Reader.Buffered(); n > 0 {
		// Bytes the client sent right behind its request; keep them.
		if n > readBufferSize {
			conn.Close()
			return nil, nil, errors.New("realtime: client sent data before the upgrade")
		}
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), readBufferSize)
		if _, err := br.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, writeBufferSize)), nil
}

// originAllowed applies the same-origin rule to browser requests.
func originAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser; it still has to authenticate
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range allowed {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}

// writeError answers in the API's error format.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"statusCode": status,
		"message":    msg,
		"error":      http.StatusText(status),
	})
}
