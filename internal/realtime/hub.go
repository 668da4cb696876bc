// Package realtime is the WebSocket hub behind GET /api/v1/ws. A socket
// receives, as CloudEvents JSON, every event of every family its user
// belongs to; membership changes and session revocations apply to open
// sockets at once. The hub is fed by the real-time consumer of the event
// bus (a Broadcast group), so a write on any instance reaches sockets on
// every instance.
package realtime

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/carecircle/carecircle"
)

// StatusSessionRevoked is the close status of a socket whose session was
// revoked (logout, password reset, removal): the client must sign in again.
const StatusSessionRevoked websocket.StatusCode = 4001

// StatusTooSlow is the close status of a socket whose send buffer filled
// up: the client should reconnect (and refetch) later.
const StatusTooSlow = websocket.StatusTryAgainLater

// Authenticator identifies the user behind an upgrade request (cookie or
// bearer token) and lists the families they belong to. An error refuses the
// socket with 401 before anything is upgraded.
type Authenticator func(r *http.Request) (userID, sessionID string, familyIDs []string, err error)

// Options configures a Hub. Zero values take the defaults in brackets.
type Options struct {
	// Logger [slog.Default()].
	Logger *slog.Logger
	// SendBuffer is how many messages may wait for one socket; a socket
	// that falls further behind is disconnected [64].
	SendBuffer int
	// PingInterval is the keep-alive period [25s].
	PingInterval time.Duration
	// WriteTimeout bounds one write, and the wait for a pong [10s].
	WriteTimeout time.Duration
	// AllowedOrigins lists the browser origins allowed besides the request's
	// own host, as path.Match patterns on the origin host ("app.example.com")
	// or, with a scheme, on "scheme://host".
	AllowedOrigins []string
}

// readLimit bounds a client message: clients have nothing to say on this
// socket, so anything they send is read and discarded.
const readLimit = 1024

// Hub tracks the open sockets and delivers events to them. Sockets are
// indexed by family, user and session, so delivering an event costs
// O(members of its family), and its JSON is encoded once.
type Hub struct {
	opts Options
	log  *slog.Logger

	mu       sync.RWMutex
	families map[string]map[*client]struct{}
	users    map[string]map[*client]struct{}
	sessions map[string]map[*client]struct{}
	all      map[*client]struct{}
	closed   bool
	// changes remembers recent membership changes so that a socket that
	// authenticated just before a change, but registers after it, still
	// gets it applied (see register).
	changes []change
	seq     uint64

	wg sync.WaitGroup // socket goroutines
}

// change is a membership or session change, numbered in the order the hub
// applied it.
type change struct {
	seq       uint64
	at        time.Time
	kind      changeKind
	userID    string
	familyID  string
	sessionID string
}

type changeKind int

const (
	changeJoin changeKind = iota
	changeLeave
	changeRevoke
)

// changeMemory is how long changes are remembered for sockets still
// authenticating; far longer than an authentication takes.
const changeMemory = 2 * time.Minute

// NewHub returns an empty hub.
func NewHub(opts Options) *Hub {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SendBuffer <= 0 {
		opts.SendBuffer = 64
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 25 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	return &Hub{
		opts:     opts,
		log:      opts.Logger,
		families: map[string]map[*client]struct{}{},
		users:    map[string]map[*client]struct{}{},
		sessions: map[string]map[*client]struct{}{},
		all:      map[*client]struct{}{},
	}
}

// Deliver sends e to every socket of every member of e.FamilyID, except
// internal events, which never reach clients. It also applies the
// membership and session changes the event describes, so a change made on
// another instance takes effect here when its event arrives: a joined
// member gets the join event and everything after it; a removed member
// gets the removal event and nothing after it; a revoked session's sockets
// are closed.
func (h *Hub) Deliver(e carecircle.Event) {
	var d struct {
		UserID     string   `json:"userId"`
		SessionID  string   `json:"sessionId"`
		SessionIDs []string `json:"sessionIds"`
	}
	switch e.Type {
	case carecircle.EventMemberJoined, carecircle.EventMemberRemoved, carecircle.EventSessionRevoked:
		if err := json.Unmarshal(e.Data, &d); err != nil {
			h.log.Error("realtime: membership event data not readable", "event_id", e.ID, "event_type", e.Type, "err", err)
		}
	}
	if e.Type == carecircle.EventMemberJoined && d.UserID != "" && e.FamilyID != "" {
		h.JoinFamily(d.UserID, e.FamilyID)
	}
	if !e.IsInternal() && e.FamilyID != "" {
		h.send(e.FamilyID, e.MarshalEnvelope())
	}
	switch e.Type {
	case carecircle.EventMemberRemoved:
		if d.UserID != "" && e.FamilyID != "" {
			h.LeaveFamily(d.UserID, e.FamilyID)
		}
	case carecircle.EventSessionRevoked:
		for _, s := range append(d.SessionIDs, d.SessionID) {
			if s != "" {
				h.CloseSession(s)
			}
		}
	}
}

// send queues msg on every socket of familyID, disconnecting those whose
// buffer is full.
func (h *Hub) send(familyID string, msg []byte) {
	var slow []*client
	h.mu.RLock()
	for c := range h.families[familyID] {
		if !c.enqueue(msg, h.opts.SendBuffer) {
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range slow {
		h.log.Warn("realtime: socket too slow, disconnecting", "user_id", c.userID, "buffered", h.opts.SendBuffer)
		h.drop(c, StatusTooSlow, "too slow")
	}
}

// JoinFamily adds familyID to the open sockets of userID.
func (h *Hub) JoinFamily(userID, familyID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.record(change{kind: changeJoin, userID: userID, familyID: familyID})
	for c := range h.users[userID] {
		h.join(c, familyID)
	}
}

// LeaveFamily removes familyID from the open sockets of userID: they get
// nothing more of that family, from the moment LeaveFamily returns.
func (h *Hub) LeaveFamily(userID, familyID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.record(change{kind: changeLeave, userID: userID, familyID: familyID})
	for c := range h.users[userID] {
		h.leave(c, familyID)
	}
}

// CloseSession closes the sockets of a revoked session with status 4001.
// They receive nothing more from the moment CloseSession returns.
func (h *Hub) CloseSession(sessionID string) {
	h.mu.Lock()
	h.record(change{kind: changeRevoke, sessionID: sessionID})
	var cs []*client
	for c := range h.sessions[sessionID] {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		h.drop(c, StatusSessionRevoked, "session revoked")
	}
}

// Count returns the number of open sockets.
func (h *Hub) Count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.all)
}

// Close refuses new sockets, closes the open ones with status 1001 (going
// away) and waits for their goroutines.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	cs := make([]*client, 0, len(h.all))
	for c := range h.all {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		h.drop(c, websocket.StatusGoingAway, "server shutting down")
	}
	h.wg.Wait()
}

// register indexes c under the families its authentication listed, then
// replays the changes applied since authentication started (seq), which
// that listing may predate. It reports false when the hub is closed;
// otherwise the caller starts c's reader, which calls h.wg.Done.
func (h *Hub) register(c *client, familyIDs []string, seq uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1) // under h.mu, so Close's Wait cannot miss it
	h.all[c] = struct{}{}
	addTo(h.users, c.userID, c)
	if c.sessionID != "" {
		addTo(h.sessions, c.sessionID, c)
	}
	for _, f := range familyIDs {
		h.join(c, f)
	}
	for _, ch := range h.changes {
		if ch.seq <= seq {
			continue
		}
		switch {
		case ch.kind == changeJoin && ch.userID == c.userID:
			h.join(c, ch.familyID)
		case ch.kind == changeLeave && ch.userID == c.userID:
			h.leave(c, ch.familyID)
		case ch.kind == changeRevoke && ch.sessionID != "" && ch.sessionID == c.sessionID:
			h.unregisterLocked(c)
			c.closeWith(StatusSessionRevoked, "session revoked")
			return true
		}
	}
	return true
}

// currentSeq numbers the next change; a socket authenticating now must
// replay every change after it.
func (h *Hub) currentSeq() uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.seq
}

// record appends a change and forgets the old ones. Called with h.mu held.
func (h *Hub) record(ch change) {
	now := time.Now()
	h.seq++
	ch.seq, ch.at = h.seq, now
	i := 0
	for i < len(h.changes) && now.Sub(h.changes[i].at) > changeMemory {
		i++
	}
	h.changes = append(h.changes[i:], ch)
}

// drop unregisters c at once and has its goroutine close the socket.
func (h *Hub) drop(c *client, code websocket.StatusCode, reason string) {
	h.mu.Lock()
	h.unregisterLocked(c)
	h.mu.Unlock()
	c.closeWith(code, reason)
}

func (h *Hub) unregister(c *client) {
	h.mu.Lock()
	h.unregisterLocked(c)
	h.mu.Unlock()
}

func (h *Hub) unregisterLocked(c *client) {
	if _, ok := h.all[c]; !ok {
		return
	}
	delete(h.all, c)
	for f := range c.families {
		removeFrom(h.families, f, c)
	}
	c.families = nil
	removeFrom(h.users, c.userID, c)
	if c.sessionID != "" {
		removeFrom(h.sessions, c.sessionID, c)
	}
}

func (h *Hub) join(c *client, familyID string) {
	if c.families == nil {
		c.families = map[string]struct{}{}
	}
	c.families[familyID] = struct{}{}
	addTo(h.families, familyID, c)
}

func (h *Hub) leave(c *client, familyID string) {
	delete(c.families, familyID)
	removeFrom(h.families, familyID, c)
}

func addTo(index map[string]map[*client]struct{}, key string, c *client) {
	set := index[key]
	if set == nil {
		set = map[*client]struct{}{}
		index[key] = set
	}
	set[c] = struct{}{}
}

func removeFrom(index map[string]map[*client]struct{}, key string, c *client) {
	set := index[key]
	delete(set, c)
	if len(set) == 0 {
		delete(index, key)
	}
}
