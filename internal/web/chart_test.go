package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/authn"
)

func TestNiceCeil(t *testing.T) {
	tests := []struct{ in, want int64 }{
		{-3, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 5}, {5, 5}, {6, 10}, {10, 10}, {11, 20}, {20, 20},
		{21, 50}, {99, 100}, {101, 200}, {499, 500}, {501, 1000}, {1_000_001, 2_000_000},
	}
	for _, tt := range tests {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestBarChart(t *testing.T) {
	labels := []string{"a", "b", "c", "d"}
	tests := []struct {
		name   string
		values []int64
		top    int64
		bars   []chartBar
	}{
		{"all zero: flat, top 1", []int64{0, 0, 0, 0}, 1, []chartBar{
			{X: 1, Y: 100, W: 8, H: 0, Label: "a"}, {X: 11, Y: 100, W: 8, H: 0, Label: "b"},
			{X: 21, Y: 100, W: 8, H: 0, Label: "c"}, {X: 31, Y: 100, W: 8, H: 0, Label: "d"},
		}},
		{"scaled to a round top", []int64{0, 4, 2, 3}, 5, []chartBar{
			{X: 1, Y: 100, W: 8, H: 0, Label: "a"}, {X: 11, Y: 20, W: 8, H: 80, Label: "b", Value: 4},
			{X: 21, Y: 60, W: 8, H: 40, Label: "c", Value: 2}, {X: 31, Y: 40, W: 8, H: 60, Label: "d", Value: 3},
		}},
		{"the peak fills the top", []int64{10, 1, 0, 3}, 10, []chartBar{
			{X: 1, Y: 0, W: 8, H: 100, Label: "a", Value: 10}, {X: 11, Y: 90, W: 8, H: 10, Label: "b", Value: 1},
			{X: 21, Y: 100, W: 8, H: 0, Label: "c"}, {X: 31, Y: 70, W: 8, H: 30, Label: "d", Value: 3},
		}},
		{"a tiny value stays visible", []int64{1, 1000, 0, 3}, 1000, []chartBar{
			{X: 1, Y: 98, W: 8, H: 2, Label: "a", Value: 1}, {X: 11, Y: 0, W: 8, H: 100, Label: "b", Value: 1000},
			{X: 21, Y: 100, W: 8, H: 0, Label: "c"}, {X: 31, Y: 98, W: 8, H: 2, Label: "d", Value: 3},
		}},
		{"thirds round to hundredths", []int64{1, 2, 3, 0}, 5, []chartBar{
			{X: 1, Y: 80, W: 8, H: 20, Label: "a", Value: 1}, {X: 11, Y: 60, W: 8, H: 40, Label: "b", Value: 2},
			{X: 21, Y: 40, W: 8, H: 60, Label: "c", Value: 3}, {X: 31, Y: 100, W: 8, H: 0, Label: "d"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bars, top, width := barChart(tt.values, labels)
			if top != tt.top || width != 40 {
				t.Errorf("top %d width %d, want %d and 40", top, width, tt.top)
			}
			if d := cmp.Diff(tt.bars, bars); d != "" {
				t.Errorf("bars (-want +got):\n%s", d)
			}
			for _, b := range bars {
				if b.Y < 0 || b.Y+b.H > chartHeight+1e-9 || b.X+b.W > float64(width) {
					t.Errorf("bar %+v leaves the viewBox 0 0 %d %d", b, width, chartHeight)
				}
			}
		})
	}
	bars, _, _ := barChart([]int64{1, 2, 3}, []string{"x", "y", "z"})
	if got := (chart{Title: "Sign-ins", Bars: bars}).summary("hour", "the last 3 hours", "6 in total"); got !=
		"Sign-ins per hour over the last 3 hours: 6 in total, highest 3 (z)." {
		t.Errorf("summary: %q", got)
	}
}

// TestOverviewView: the range picks the series and its labels; counts
// total their sum, the keys their current bucket.
func TestOverviewView(t *testing.T) {
	now := time.Date(2026, 11, 3, 14, 25, 0, 0, time.UTC)
	o := authn.Overview{Now: now}
	for i := range 24 {
		o.Hourly = append(o.Hourly, authn.UsagePoint{Start: now.Truncate(time.Hour).Add(time.Duration(i-23) * time.Hour),
			SignIns: int64(i % 3), ActiveKeys: int64(i / 10)})
	}
	for i := range 30 {
		o.Daily = append(o.Daily, authn.UsagePoint{Start: now.Truncate(24*time.Hour).AddDate(0, 0, i-29), Failures: 1})
	}
	tests := []struct {
		rng, per, from, to string
		totals             []int64
	}{
		{"", "Hour", "Nov 2, 15:00", "Nov 3, 14:00", []int64{24, 0, 0, 2}},
		{"junk", "Hour", "Nov 2, 15:00", "Nov 3, 14:00", []int64{24, 0, 0, 2}},
		{"30d", "Day", "Oct 5", "Nov 3", []int64{0, 30, 0, 0}},
	}
	for _, tt := range tests {
		d := overviewView(o, tt.rng)
		var totals []int64
		for _, c := range d.Charts {
			totals = append(totals, c.Total)
			if c.From != tt.from || c.To != tt.to {
				t.Errorf("range %q, %s: axis %q to %q, want %q to %q", tt.rng, c.ID, c.From, c.To, tt.from, tt.to)
			}
		}
		if d.Per != tt.per || d.Empty || !cmp.Equal(totals, tt.totals) {
			t.Errorf("range %q: per %q empty %v totals %v, want %q false %v", tt.rng, d.Per, d.Empty, totals, tt.per, tt.totals)
		}
	}
}

// TestOverviewTemplate: the page renders charts with a name and a table
// equivalent, an empty state when there is nothing, and never an inline
// style (the CSP forbids them).
func TestOverviewTemplate(t *testing.T) {
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 3, 14, 25, 0, 0, time.UTC)
	empty := authn.Overview{Now: now, Hourly: make([]authn.UsagePoint, 24), Daily: make([]authn.UsagePoint, 30)}
	busy := authn.Overview{Now: now, Hourly: make([]authn.UsagePoint, 24), Daily: make([]authn.UsagePoint, 30)}
	busy.Hourly[23].SignIns, busy.Daily[29].SignIns = 7, 7
	for _, tt := range []struct {
		name string
		o    authn.Overview
		want []string
	}{
		{"empty", empty, []string{"Nothing to show yet", `href="/dashboard/api-keys/new"`}},
		{"busy", busy, []string{`role="img" aria-labelledby="signins-title"`, `<title id="signins-title">Sign-ins per hour over the last 24 hours: 7 in total, highest 7`,
			`id="signins-total">7<`, `class="chart-bar"`, `<caption>Per hour over the last 24 hours (UTC)</caption>`, `aria-current="true">Last 24 hours`}},
	} {
		var buf bytes.Buffer
		p := page{Title: "Overview", Nav: "overview", Signed: &authn.BrowserSession{}, Brand: defaultBrand, Data: overviewView(tt.o, "")}
		if err := pages.byName["dash_overview"].ExecuteTemplate(&buf, "layout", p); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		html := buf.String()
		for _, w := range tt.want {
			if !strings.Contains(html, w) {
				t.Errorf("%s: the page lacks %s", tt.name, w)
			}
		}
		if strings.Contains(html, "style=") || strings.Contains(html, "<style") {
			t.Errorf("%s: an inline style, which the CSP refuses", tt.name)
		}
	}
}
