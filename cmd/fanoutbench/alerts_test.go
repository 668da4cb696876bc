package main

import (
	"errors"
	"testing"
	"time"
)

func TestTally_CountsEveryKindOfWrongDelivery(t *testing.T) {
	t0 := time.Now()
	fams := []family{
		{id: "fam_a", members: make([]member, 2)},
		{id: "fam_b", members: make([]member, 2)},
	}
	shots := []*alertShot{
		{family: 0, sent: t0, id: "alert_1"},
		{family: 1, sent: t0, id: "alert_2"},
		{family: 1, sent: t0, err: errors.New("post alert: 500")},
	}
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name     string
		receipts [4][]receipt // family a m0, a m1, b m0, b m1
		check    func(o outcome) bool
		want     string
	}{
		{
			name: "all delivered once",
			receipts: [4][]receipt{
				{{alertID: "alert_1", familyID: "fam_a", at: at(1)}},
				{{alertID: "alert_1", familyID: "fam_a", at: at(2)}},
				{{alertID: "alert_2", familyID: "fam_b", at: at(3)}},
				{{alertID: "alert_2", familyID: "fam_b", at: at(4)}},
			},
			check: func(o outcome) bool {
				return o.alertsOK == 2 && o.alertsFailed == 1 && o.expected == 4 && o.missing == 0 && o.misdelivered == 0 &&
					o.duplicates == 0 && len(o.latencies) == 4 && o.latencies[3] == 4*time.Millisecond &&
					len(o.spreads) == 2 && o.spreads[0] == time.Millisecond
			},
			want: "4 deliveries, none missing, only the failed POST counted",
		},
		{
			name: "one member never gets it",
			receipts: [4][]receipt{
				{{alertID: "alert_1", familyID: "fam_a", at: at(1)}},
				nil,
				{{alertID: "alert_2", familyID: "fam_b", at: at(3)}},
				{{alertID: "alert_2", familyID: "fam_b", at: at(4)}},
			},
			check: func(o outcome) bool { return o.missing == 1 && o.failed() },
			want:  "1 missing",
		},
		{
			name: "another family's member gets it",
			receipts: [4][]receipt{
				{{alertID: "alert_1", familyID: "fam_a", at: at(1)}},
				{{alertID: "alert_1", familyID: "fam_a", at: at(2)}, {alertID: "alert_2", familyID: "fam_b", at: at(2)}},
				{{alertID: "alert_2", familyID: "fam_b", at: at(3)}},
				{{alertID: "alert_2", familyID: "fam_b", at: at(4)}},
			},
			check: func(o outcome) bool { return o.misdelivered == 1 && o.missing == 0 && o.failed() },
			want:  "1 misdelivered, none missing",
		},
		{
			name: "duplicate, wrong familyId and unknown alert",
			receipts: [4][]receipt{
				{{alertID: "alert_1", familyID: "fam_a", at: at(1)}, {alertID: "alert_1", familyID: "fam_a", at: at(5)}},
				{{alertID: "alert_1", familyID: "fam_b", at: at(2)}},
				{{alertID: "alert_2", familyID: "fam_b", at: at(3)}, {alertID: "alert_9", familyID: "fam_b", at: at(3)}},
				{{alertID: "alert_2", familyID: "fam_b", at: at(4)}},
			},
			check: func(o outcome) bool {
				return o.duplicates == 1 && o.wrongFamilyData == 1 && o.unknown == 1 && o.missing == 0 && o.failed()
			},
			want: "1 duplicate, 1 wrong familyId, 1 unknown",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl := &fleet{}
			for i, rs := range tt.receipts {
				fl.sockets = append(fl.sockets, &socket{family: i / 2, member: i % 2, receipts: rs})
			}
			o := tally(fams, shots, fl)
			if !tt.check(o) {
				t.Errorf("want %s; got %+v", tt.want, o)
			}
		})
	}
}

func TestPercentile_NearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}, {0, 1}}
	for _, tt := range tests {
		if got := percentile(d, tt.q); got != tt.want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := percentile(nil, 0.99); got != 0 {
		t.Errorf("percentile(empty) = %v, want 0", got)
	}
}
