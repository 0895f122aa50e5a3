package web

import (
	"net/http"
	"strconv"

	"github.com/sigil-auth/sigil/internal/authn"
)

// The overview (owners and admins): the workspace's sign-ins, failed
// sign-ins, 429s and active API keys as bar charts, for the last 24 hours
// by hour or the last 30 days by day (?range=30d). authn.Overview does
// the counting; this file only lays it out.

// overviewData is the overview page's content.
type overviewData struct {
	Range   string // "24h" or "30d"
	Empty   bool   // nothing counted and no key in 30 days
	Charts  []chart
	Per     string // the table's first column: "Hour" or "Day"
	Caption string // the table's caption
	Rows    []overviewRow
}

// overviewRow is one bucket in the table equivalent of the charts.
type overviewRow struct {
	Label                                      string
	SignIns, Failures, RateLimited, ActiveKeys int64
}

// overviewMetrics are the charts, in page order. A count's total is its
// sum; the keys' is the last (current) bucket's.
var overviewMetrics = []struct {
	id, title string
	value     func(authn.UsagePoint) int64
	current   bool
}{
	{"signins", "Sign-ins", func(p authn.UsagePoint) int64 { return p.SignIns }, false},
	{"failures", "Failed sign-ins", func(p authn.UsagePoint) int64 { return p.Failures }, false},
	{"limited", "Rate-limited requests (429)", func(p authn.UsagePoint) int64 { return p.RateLimited }, false},
	{"keys", "Active API keys", func(p authn.UsagePoint) int64 { return p.ActiveKeys }, true},
}

// overviewView lays out o's range rng ("30d", else the last 24 hours).
func overviewView(o authn.Overview, rng string) overviewData {
	pts, per, over, current, layout := o.Hourly, "hour", "the last 24 hours", "this hour", "Jan 2, 15:04"
	if rng == "30d" {
		pts, per, over, current, layout = o.Daily, "day", "the last 30 days", "today", "Jan 2"
	} else {
		rng = "24h"
	}
	labels := make([]string, len(pts))
	d := overviewData{Range: rng, Empty: o.Empty(), Per: "Hour", Caption: "Per hour over " + over + " (UTC)"}
	if per == "day" {
		d.Per, d.Caption = "Day", "Per day over "+over+" (UTC)"
	}
	for i, p := range pts {
		labels[i] = p.Start.UTC().Format(layout)
		d.Rows = append(d.Rows, overviewRow{labels[i], p.SignIns, p.Failures, p.RateLimited, p.ActiveKeys})
	}
	for _, m := range overviewMetrics {
		values := make([]int64, len(pts))
		c := chart{ID: m.id, Title: m.title, Note: "in " + over, Height: chartHeight}
		for i, p := range pts {
			values[i] = m.value(p)
			c.Total += values[i]
		}
		total := "in total"
		if m.current && len(values) > 0 {
			c.Total, c.Note, total = values[len(values)-1], current, current
		}
		c.Bars, c.Top, c.Width = barChart(values, labels)
		if len(labels) > 0 {
			c.From, c.To = labels[0], labels[len(labels)-1]
		}
		c.Summary = c.summary(per, over, strconv.FormatInt(c.Total, 10)+" "+total)
		d.Charts = append(d.Charts, c)
	}
	return d
}

// overview is GET /dashboard/overview; members get authn's refusal (403).
func (s *Server) overview(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	o, err := s.auth.Overview(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID)
	if err != nil {
		return err
	}
	p := page{Title: "Overview", Nav: "overview", Data: overviewView(o, r.URL.Query().Get("range")),
		Lead: "Sign-ins, failed sign-ins, rate-limited requests and API keys in this workspace. Times are UTC."}
	return s.dash(w, r, http.StatusOK, "dash_overview", b, p)
}

// dashboardHome is GET /dashboard: owners and admins start at the
// overview, members at their API keys.
func (s *Server) dashboardHome(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	to := "/dashboard/api-keys"
	if b.Manages() {
		to = "/dashboard/overview"
	}
	redirect(w, r, to)
	return nil
}
