package realtime

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/carecircle/carecircle"
)

// client is one open socket. Two goroutines serve it: the upgrade
// handler's own goroutine writes (queued messages, pings, the close
// handshake) and a second one reads, which the protocol needs for pongs and
// close frames.
type client struct {
	userID    string
	sessionID string
	conn      *websocket.Conn
	families  map[string]struct{} // guarded by Hub.mu

	mu          sync.Mutex
	queue       [][]byte
	closing     bool
	closeCode   websocket.StatusCode
	closeReason string
	wake        chan struct{} // capacity 1: "queue or closing changed"
}

// enqueue adds msg unless limit messages already wait; it reports false
// when the buffer is full.
func (c *client) enqueue(msg []byte, limit int) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return true
	}
	if len(c.queue) >= limit {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, msg)
	c.mu.Unlock()
	c.signal()
	return true
}

// closeWith asks the writer to close the socket; the first reason wins and
// nothing queued is sent after it.
func (c *client) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if !c.closing {
		c.closing, c.closeCode, c.closeReason = true, code, reason
		c.queue = nil
	}
	c.mu.Unlock()
	c.signal()
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take returns the queued messages, or closing=true.
func (c *client) take() (msgs [][]byte, closing bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil, true
	}
	msgs, c.queue = c.queue, nil
	return msgs, false
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
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.opts.AllowedOrigins})
		if err != nil {
			h.log.Debug("realtime: upgrade failed", "err", err) // Accept has answered the request
			return
		}
		conn.SetReadLimit(readLimit)
		c := &client{userID: userID, sessionID: sessionID, conn: conn, wake: make(chan struct{}, 1)}
		if !h.register(c, familyIDs, seq) {
			conn.Close(websocket.StatusGoingAway, "server shutting down")
			return
		}
		defer h.wg.Done()
		h.serve(c)
	})
}

// serve runs c's writer until the socket ends, then unregisters it.
func (h *Hub) serve(c *client) {
	defer h.unregister(c)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		discardReads(c.conn)
	}()
	defer func() {
		c.conn.CloseNow()
		<-readDone
	}()

	ping := time.NewTicker(h.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.wake:
			msgs, closing := c.take()
			if closing {
				c.mu.Lock()
				code, reason := c.closeCode, c.closeReason
				c.mu.Unlock()
				c.conn.Close(code, reason)
				return
			}
			for _, m := range msgs {
				if err := h.write(c, m); err != nil {
					return
				}
			}
		case <-ping.C:
			ctx, cancel := context.WithTimeout(context.Background(), h.opts.WriteTimeout)
			err := c.conn.Ping(ctx)
			cancel()
			if err != nil {
				h.log.Debug("realtime: ping failed, closing socket", "user_id", c.userID, "err", err)
				return
			}
		case <-readDone:
			return // the client closed or broke the connection
		}
	}
}

func (h *Hub) write(c *client, msg []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.WriteTimeout)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageText, msg)
}

// discardReads reads client messages, which carry nothing for the server,
// until the connection ends. Reading is what answers pings and close
// frames and delivers pongs.
func discardReads(conn *websocket.Conn) {
	for {
		_, r, err := conn.Reader(context.Background())
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
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
