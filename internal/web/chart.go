package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// Vitals trends are drawn on the server as inline SVG: no chart library,
// no script, and they print.

// chart is one vital sign over time.
type chart struct {
	Title   string
	Unit    string
	Latest  string
	Lines   []chartLine
	YTicks  []chartTick
	XTicks  []chartTick
	Summary string // for screen readers
}

type chartLine struct {
	Class  string // line or line2
	Label  string
	Points string
	Dots   []chartPoint
}

type chartPoint struct{ X, Y float64 }

type chartTick struct {
	Pos   float64
	Label string
}

// Chart drawing area in SVG units (viewBox 0 0 chartW chartH).
const (
	chartW, chartH         = 320.0, 140.0
	padL, padR, padT, padB = 34.0, 8.0, 8.0, 20.0
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	minChartPoints         = 2
	chartWindow            = 90 * 24 * time.Hour
)

type vitalSeries struct {
	title, unit string
	labels      []string
	get         []func(*carecircle.Vitals) *float64
}

var vitalCharts = []vitalSeries{
	{"Blood pressure", "mmHg", []string{"Systolic", "Diastolic"},
		[]func(*carecircle.Vitals) *float64{func(v *carecircle.Vitals) *float64 { return v.Systolic }, func(v *carecircle.Vitals) *float64 { return v.Diastolic }}},
	{"Heart rate", "bpm", []string{"Heart rate"}, []func(*carecircle.Vitals) *float64{func(v *carecircle.Vitals) *float64 { return v.HeartRate }}},
	{"Temperature", "°C", []string{"Temperature"}, []func(*carecircle.Vitals) *float64{func(v *carecircle.Vitals) *float64 { return v.TemperatureC }}},
	{"Oxygen saturation", "%", []string{"SpO₂"}, []func(*carecircle.Vitals) *float64{func(v *carecircle.Vitals) *float64 { return v.OxygenSaturation }}},
	{"Blood sugar", "mg/dL", []string{"Blood sugar"}, []func(*carecircle.Vitals) *float64{func(v *carecircle.Vitals) *float64 { return v.BloodSugar }}},
	{"Weight", "kg", []string{"Weight"}, []func(*carecircle.Vitals) *float64{func(v *carecircle.Vitals) *float64 { return v.WeightKg }}},
}

type sample struct {
	at time.Time
	v  float64
}

// vitalsCharts builds a chart for each vital sign with at least two
// measurements among entries (any order), in the viewer's zone.
func vitalsCharts(entries []carecircle.TimelineEntry, loc *time.Location) []chart {
	var out []chart
	for _, vs := range vitalCharts {
		series := make([][]sample, len(vs.get))
		for _, e := range entries {
			if e.Vitals == nil {
				continue
			}
			for i, get := range vs.get {
				if x := get(e.Vitals); x != nil {
					series[i] = append(series[i], sample{e.OccurredAt, *x})
				}
			}
		}
		if len(series[0]) < minChartPoints {
			continue
		}
		out = append(out, drawChart(vs, series, loc))
	}
	return out
}

func drawChart(vs vitalSeries, series [][]sample, loc *time.Location) chart {
	for _, s := range series {
		sortSamples(s)
	}
	t0, t1 := series[0][0].at, series[0][len(series[0])-1].at
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s {
			lo, hi = math.Min(lo, p.v), math.Max(hi, p.v)
			if p.at.Before(t0) {
				t0 = p.at
			}
			if p.at.After(t1) {
				t1 = p.at
			}
		}
	}
	lo, hi, step := niceRange(lo, hi)
	span := t1.Sub(t0)
	if span <= 0 {
		span = time.Hour
	}
	x := func(t time.Time) float64 { return padL + plotW*float64(t.Sub(t0))/float64(span) }
	y := func(v float64) float64 { return padT + plotH*(1-(v-lo)/(hi-lo)) }
	c := chart{Title: vs.title, Unit: vs.unit}
	for i, s := range series {
		if len(s) == 0 {
			continue
		}
		l := chartLine{Class: "line", Label: vs.labels[i]}
		if i == 1 {
			l.Class = "line2"
		}
		var pts []string
		for _, p := range s {
			px, py := round1(x(p.at)), round1(y(p.v))
			pts = append(pts, fmt.Sprintf("%g,%g", px, py))
			l.Dots = append(l.Dots, chartPoint{px, py})
		}
		l.Points = strings.Join(pts, " ")
		c.Lines = append(c.Lines, l)
	}
	for v := lo; v <= hi+step/2; v += step {
		c.YTicks = append(c.YTicks, chartTick{Pos: round1(y(v)), Label: formatNum(v)})
	}
	c.XTicks = []chartTick{{Pos: padL, Label: t0.In(loc).Format("2 Jan")}, {Pos: chartW - padR, Label: t1.In(loc).Format("2 Jan")}}
	last := series[0][len(series[0])-1]
	c.Latest = formatNum(last.v)
	if len(series) > 1 && len(series[1]) > 0 {
		c.Latest += "/" + formatNum(series[1][len(series[1])-1].v)
	}
	c.Summary = fmt.Sprintf("%s from %s to %s: %d measurements between %s and %s %s; latest %s %s.", vs.title,
		t0.In(loc).Format("2 Jan"), t1.In(loc).Format("2 Jan"), len(series[0]), formatNum(minOf(series)), formatNum(maxOf(series)),
		vs.unit, c.Latest, vs.unit)
	return c
}

// niceRange widens [lo, hi] to round bounds with 3–5 ticks.
func niceRange(lo, hi float64) (float64, float64, float64) {
	if hi-lo < 1e-9 {
		lo, hi = lo-1, hi+1
	}
	raw := (hi - lo) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step, step
}

func sortSamples(s []sample) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].at.Before(s[j-1].at); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func minOf(ss [][]sample) float64 {
	m := math.Inf(1)
	for _, s := range ss {
		for _, p := range s {
			m = math.Min(m, p.v)
		}
	}
	return m
}

func maxOf(ss [][]sample) float64 {
	m := math.Inf(-1)
	for _, s := range ss {
		for _, p := range s {
			m = math.Max(m, p.v)
		}
	}
	return m
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func formatNum(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }
