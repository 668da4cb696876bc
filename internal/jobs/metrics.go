package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carecircle/carecircle/internal/storage"
)

// Metrics are the runner's Prometheus series:
//   - carecircle_job_runs_total{kind,outcome}: outcome done, retry,
//     rescheduled or dead (the dead letters);
//   - carecircle_job_start_lateness_seconds{kind}: how long after its
//     run time a job started;
//   - carecircle_jobs{state}: available, running and dead jobs in the
//     table, read at scrape time, so dead jobs stay visible across restarts.
//
// A nil *Metrics records nothing.
type Metrics struct {
	runs     *prometheus.CounterVec
	lateness *prometheus.HistogramVec
}

// NewMetrics registers the runner's series on reg.
func NewMetrics(reg prometheus.Registerer, db *storage.DB) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "carecircle_job_runs_total",
			Help: "Job runs by kind and outcome (done, retry, rescheduled, dead)."}, []string{"kind", "outcome"}),
		lateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "carecircle_job_start_lateness_seconds",
			Help:    "Seconds between a job's scheduled time and its start.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}}, []string{"kind"}),
	}
	reg.MustRegister(m.runs, m.lateness, &stateCollector{db: db,
		desc: prometheus.NewDesc("carecircle_jobs", "Jobs in the jobs table by state (dead = gave up after retries).", []string{"state"}, nil)})
	return m
}

func (m *Metrics) started(kind string, late time.Duration) {
	if m == nil {
		return
	}
	m.lateness.WithLabelValues(kind).Observe(max(late, 0).Seconds())
}

func (m *Metrics) finished(kind, outcome string) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(kind, outcome).Inc()
}

// stateCollector counts jobs per state when /metrics is scraped.
type stateCollector struct {
	db   *storage.DB
	desc *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.db.JobCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}
