package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// alertShot is one POST /api/v1/emergency/alert and its outcome.
type alertShot struct {
	family   int
	instance int       // index of the server it was POSTed to
	sent     time.Time // just before the request was written
	postDur  time.Duration
	id       string
	err      error
}

// fireAlerts raises n alerts open-loop: the i-th is sent at start+i/rate
// whether or not earlier ones have been answered, each by the ADMIN of a
// family picked at random, to the servers in turn.
func fireAlerts(ctx context.Context, bases []string, fams []family, n int, rate float64, rng *rand.Rand) []*alertShot {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	shots := make([]*alertShot, n)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var wg sync.WaitGroup
	for i := range n {
		timer.Reset(time.Until(start.Add(time.Duration(i) * interval)))
		select {
		case <-ctx.Done():
			wg.Wait()
			return shots[:i]
		case <-timer.C:
		}
		shot := &alertShot{family: rng.IntN(len(fams)), instance: i % len(bases)}
		shots[i] = shot
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := fams[shot.family]
			shot.id, shot.err = postAlert(ctx, client, bases[shot.instance], f, i, &shot.sent, &shot.postDur)
		}()
	}
	wg.Wait()
	return shots
}

// postAlert raises one FALL alert for the family's care recipient as its
// ADMIN and returns the new alert's id.
func postAlert(ctx context.Context, client *http.Client, base string, f family, i int, sent *time.Time, took *time.Duration) (string, error) {
	body, _ := json.Marshal(map[string]string{
		"careRecipientId": f.recipientID, "type": "FALL",
		"description": fmt.Sprintf("fanoutbench alert %d", i),
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/emergency/alert", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.members[0].token)
	*sent = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("post alert: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	*took = time.Since(*sent)
	if err != nil {
		return "", fmt.Errorf("read alert response: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("post alert: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("post alert: response has no id: %s", b)
	}
	return out.ID, nil
}

// outcome is the run's delivery accounting.
type outcome struct {
	alertsOK, alertsFailed int
	firstPostErr           error
	expected               int             // members of the families of the alerts raised
	latencies              []time.Duration // POST sent → socket received, one per (alert, member)
	crossLatencies         []time.Duration // the subset whose socket is on another server than the POST
	postLatencies          []time.Duration
	spreads                []time.Duration // per alert: first member's delivery → last member's
	missing                int             // (alert, member) pairs never delivered
	misdelivered           int             // deliveries to a socket outside the alert's family
	wrongFamilyData        int             // deliveries whose data.familyId is not the socket's family
	unknown                int             // alert ids no POST of this run returned
	duplicates             int             // repeated (alert, member) deliveries
}

// tally matches every socket's receipts against the alerts raised.
func tally(fams []family, shots []*alertShot, fl *fleet) outcome {
	var o outcome
	type pair struct{ alert, member int }
	byID := map[string]int{}
	for i, s := range shots {
		if s.err != nil {
			o.alertsFailed++
			if o.firstPostErr == nil {
				o.firstPostErr = s.err
			}
			continue
		}
		o.alertsOK++
		byID[s.id] = i
		o.expected += len(fams[s.family].members)
		o.postLatencies = append(o.postLatencies, s.postDur)
	}
	seen := map[pair]bool{}
	first, last := map[int]time.Time{}, map[int]time.Time{}
	for _, sock := range fl.sockets {
		for _, r := range sock.receipts {
			i, ok := byID[r.alertID]
			switch {
			case !ok:
				o.unknown++
				continue
			case shots[i].family != sock.family:
				o.misdelivered++
				continue
			case r.familyID != fams[sock.family].id:
				o.wrongFamilyData++
			}
			p := pair{i, sock.member}
			if seen[p] {
				o.duplicates++
				continue
			}
			seen[p] = true
			o.latencies = append(o.latencies, r.at.Sub(shots[i].sent))
			if sock.instance != shots[i].instance {
				o.crossLatencies = append(o.crossLatencies, r.at.Sub(shots[i].sent))
			}
			if f, ok := first[i]; !ok || r.at.Before(f) {
				first[i] = r.at
			}
			if l, ok := last[i]; !ok || r.at.After(l) {
				last[i] = r.at
			}
		}
	}
	for i, f := range first {
		o.spreads = append(o.spreads, last[i].Sub(f))
	}
	o.missing = o.expected - len(seen)
	slices.Sort(o.spreads)
	slices.Sort(o.latencies)
	slices.Sort(o.crossLatencies)
	slices.Sort(o.postLatencies)
	return o
}

// failed reports whether any alert went wrong: not raised, not delivered to
// every member of its family, or delivered outside it.
func (o outcome) failed() bool {
	return o.alertsFailed > 0 || o.missing > 0 || o.misdelivered > 0 || o.wrongFamilyData > 0 || o.unknown > 0
}

// percentile returns the q-quantile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*q)) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
