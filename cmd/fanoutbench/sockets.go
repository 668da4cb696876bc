package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// receipt is one emergency.alert.created a socket received.
type receipt struct {
	alertID  string
	familyID string // data.familyId of the event
	at       time.Time
}

// socket is one member's open WebSocket. Only its own goroutine appends to
// receipts until the run ends.
type socket struct {
	family   int
	member   int
	instance int // index of the server it is connected to
	conn     *websocket.Conn
	receipts []receipt
	other    int   // messages of any other type
	bad      int   // messages that were not readable CloudEvents
	endErr   error // why the socket ended before the run did, if it did
}

// fleet is every open socket and the counters the run watches.
type fleet struct {
	sockets  []*socket
	received atomic.Int64 // alert deliveries so far, over all sockets
	dropped  atomic.Int64 // sockets that ended before the run did
	retries  atomic.Int64 // dials retried after a connection error
	wg       sync.WaitGroup
}

// dialAll opens one socket per member, at most concurrency at a time, and
// starts each socket's reader. With several servers, a family's members
// alternate between them (member i on server i mod n), so every family has
// members on each.
func dialAll(ctx context.Context, wsURLs []string, fams []family, concurrency int) (*fleet, error) {
	fl := &fleet{}
	for fi, f := range fams {
		for mi := range f.members {
			fl.sockets = append(fl.sockets, &socket{family: fi, member: mi, instance: mi % len(wsURLs)})
		}
	}
	// A transport of its own: every upgrade needs a fresh connection, and
	// the default's idle pool and keep-alive probes are of no use here.
	client := &http.Client{Transport: &http.Transport{
		DialContext:       (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		DisableKeepAlives: true,
	}}
	sem := make(chan struct{}, concurrency)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for _, s := range fl.sockets {
		sem <- struct{}{}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			tok := fams[s.family].members[s.member].token
			var err error
			for attempt := 1; ; attempt++ {
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				var resp *http.Response
				s.conn, resp, err = websocket.Dial(dctx, wsURLs[s.instance], &websocket.DialOptions{
					HTTPClient: client,
					HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}},
				})
				cancel()
				// A connection lost under the dial storm (listen backlog
				// overflow) is retried and counted; an answer from the
				// server (401, 503) is not.
				if err == nil || attempt == 3 || resp != nil || ctx.Err() != nil {
					break
				}
				fl.retries.Add(1)
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("dial socket of family %d member %d: %w", s.family, s.member, err)
				}
				mu.Unlock()
				return
			}
			s.conn.SetReadLimit(1 << 20)
			fl.wg.Add(1)
			go fl.read(s)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		fl.closeAll()
		return nil, firstErr
	}
	return fl, nil
}

// envelope is the part of a CloudEvents message the benchmark checks.
type envelope struct {
	Type string `json:"type"`
	Data struct {
		FamilyID string `json:"familyId"`
		AlertID  string `json:"alertId"`
	} `json:"data"`
}

// read records every emergency.alert.created with the time it arrived,
// taken before anything else is done with the message.
func (fl *fleet) read(s *socket) {
	defer fl.wg.Done()
	for {
		_, msg, err := s.conn.Read(context.Background())
		at := time.Now()
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				s.endErr = err
				fl.dropped.Add(1)
			}
			return
		}
		var e envelope
		if err := json.Unmarshal(msg, &e); err != nil {
			s.bad++
			continue
		}
		if e.Type != "emergency.alert.created" {
			s.other++
			continue
		}
		s.receipts = append(s.receipts, receipt{alertID: e.Data.AlertID, familyID: e.Data.FamilyID, at: at})
		fl.received.Add(1)
	}
}

// closeAll closes every socket normally and waits for the readers.
func (fl *fleet) closeAll() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, s := range fl.sockets {
		if s.conn == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_ = s.conn.Close(websocket.StatusNormalClosure, "benchmark done")
		}()
	}
	wg.Wait()
	fl.wg.Wait()
}
