package web

import (
	"math"
	"strconv"
)

// A bar chart as the overview draws it: an inline SVG of viewBox
// "0 0 Width chartHeight" that CSS stretches to the card's width
// (preserveAspectRatio="none"), so the geometry is in viewBox units and
// needs no knowledge of the screen. Every text (axis labels, totals) is
// HTML around the SVG, so nothing scales with the stretch, and colours
// come from classes in sigil.css (the CSP forbids inline style).

const (
	chartHeight = 100 // viewBox units
	barPitch    = 10  // viewBox units per bar, gap included
	barGap      = 2
	// minBar keeps a bar of a small non-zero value visible next to a tall
	// one (1 against 900 would round to nothing).
	minBar = 2
)

// chart is what templates/dash_overview.html draws: one metric's bars.
type chart struct {
	ID      string // unique on the page: ids of the title and heading
	Title   string // "Sign-ins"
	Total   int64  // the number shown above the chart
	Note    string // what Total is: "in the last 24 hours", "now"
	Summary string // the chart in one sentence, for screen readers
	Top     int64  // the value of the top gridline
	Width   int    // viewBox width
	Height  int    // viewBox height
	Bars    []chartBar
	From    string // the first bar's label (x axis, left)
	To      string // the last bar's label (x axis, right)
}

// chartBar is one bar: its rectangle in viewBox units and what it shows.
type chartBar struct {
	X, Y, W, H float64
	Label      string
	Value      int64
}

// barChart lays out values (with their labels, oldest first) against a
// top gridline at a round number at least the largest value.
func barChart(values []int64, labels []string) (bars []chartBar, top int64, width int) {
	var peak int64
	for _, v := range values {
		peak = max(peak, v)
	}
	top = niceCeil(peak)
	bars = make([]chartBar, len(values))
	for i, v := range values {
		h := 0.0
		if v > 0 {
			h = max(minBar, round2(float64(v)/float64(top)*chartHeight))
		}
		bars[i] = chartBar{X: float64(i*barPitch + barGap/2), Y: round2(chartHeight - h), W: barPitch - barGap, H: h,
			Label: labels[i], Value: v}
	}
	return bars, top, len(values) * barPitch
}

// niceCeil is the smallest of 1, 2 and 5 times a power of ten that is at
// least v (1 for v <= 1): an axis maximum people read at a glance.
func niceCeil(v int64) int64 {
	if v <= 1 {
		return 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
		if p > math.MaxInt64/100 {
			return v
		}
	}
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// peakOf is the largest value and the label of its first bar.
func peakOf(bars []chartBar) (int64, string) {
	var v int64
	var label string
	for _, b := range bars {
		if b.Value > v {
			v, label = b.Value, b.Label
		}
	}
	return v, label
}

// summary says a chart in one sentence: what, per what, over which
// range, its total in words (such as "12 in total") and its peak.
func (c chart) summary(per, over, total string) string {
	s := c.Title + " per " + per + " over " + over + ": " + total
	if v, label := peakOf(c.Bars); v > 0 {
		s += ", highest " + strconv.FormatInt(v, 10) + " (" + label + ")"
	}
	return s + "."
}
