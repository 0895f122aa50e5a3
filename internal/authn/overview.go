package authn

import (
	"context"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// The overview's ranges: the last 24 hours by hour and the last 30 days
// by UTC day, each ending with the current (partial) bucket.
const (
	overviewHours = 24
	overviewDays  = 30
	overviewDay   = 24 * time.Hour
)

// UsagePoint is one bucket of the overview: what was counted from Start
// for one hour or one UTC day.
type UsagePoint struct {
	Start       time.Time
	SignIns     int64
	Failures    int64
	RateLimited int64
	// ActiveKeys is how many API keys were usable at some moment of the
	// bucket: created before its end, neither revoked nor expired by its
	// start.
	ActiveKeys int64
}

// Overview is a workspace's recent usage, oldest bucket first.
type Overview struct {
	Now    time.Time
	Hourly []UsagePoint // the last 24 hours
	Daily  []UsagePoint // the last 30 days
}

// Empty reports whether the 30 days hold nothing: no count and no key.
func (o Overview) Empty() bool {
	for _, p := range o.Daily {
		if p.SignIns+p.Failures+p.RateLimited+p.ActiveKeys > 0 {
			return false
		}
	}
	return true
}

// Overview is a workspace's sign-ins, sign-in failures, 429s and active
// API keys over the last 24 hours and 30 days, for its owners and admins
// (and the instance admin). It writes this replica's pending counts
// first, so what just happened here shows; other replicas' counts show
// within usageEvery.
func (s *Service) Overview(ctx context.Context, p Principal, workspaceID string) (Overview, error) {
	if err := s.canManage(ctx, p, workspaceID); err != nil {
		return Overview{}, err
	}
	s.usage.flush(ctx)
	now := s.now().UTC()
	o := Overview{Now: now, Hourly: usagePoints(now, time.Hour, overviewHours), Daily: usagePoints(now, overviewDay, overviewDays)}
	since := o.Daily[0].Start
	counts, err := s.store.ListUsage(ctx, workspaceID, since)
	if err != nil {
		return Overview{}, err
	}
	keys, err := s.store.ListAPIKeySpans(ctx, workspaceID, since)
	if err != nil {
		return Overview{}, err
	}
	for _, series := range []struct {
		pts  []UsagePoint
		step time.Duration
	}{{o.Hourly, time.Hour}, {o.Daily, overviewDay}} {
		addCounts(series.pts, series.step, counts)
		countKeys(series.pts, series.step, keys)
	}
	return o, nil
}

// usagePoints are the n empty buckets of width step (aligned to UTC) whose
// last one holds now, oldest first.
func usagePoints(now time.Time, step time.Duration, n int) []UsagePoint {
	last := now.UTC().Truncate(step) // Truncate counts from the zero time: UTC midnight
	out := make([]UsagePoint, n)
	for i := range out {
		out[i].Start = last.Add(-time.Duration(n-1-i) * step)
	}
	return out
}

// bucketOf is the index of the bucket of pts (width step) holding t, or -1.
func bucketOf(pts []UsagePoint, step time.Duration, t time.Time) int {
	if len(pts) == 0 || t.Before(pts[0].Start) {
		return -1
	}
	i := int(t.Sub(pts[0].Start) / step)
	if i >= len(pts) {
		return -1
	}
	return i
}

// addCounts adds hourly counters to the buckets holding their hours.
func addCounts(pts []UsagePoint, step time.Duration, counts []store.UsageCount) {
	for _, c := range counts {
		i := bucketOf(pts, step, c.Hour)
		if i < 0 {
			continue
		}
		switch c.Kind {
		case UsageSignIn:
			pts[i].SignIns += c.Count
		case UsageSignInFail:
			pts[i].Failures += c.Count
		case UsageRateLimited:
			pts[i].RateLimited += c.Count
		}
	}
}

// countKeys sets each bucket's ActiveKeys: the keys created before its
// end and neither revoked nor expired at or before its start.
func countKeys(pts []UsagePoint, step time.Duration, keys []store.APIKeySpan) {
	for i := range pts {
		start, end := pts[i].Start, pts[i].Start.Add(step)
		var n int64
		for _, k := range keys {
			if k.CreatedAt.Before(end) && unsetOrAfter(k.RevokedAt, start) && unsetOrAfter(k.ExpiresAt, start) {
				n++
			}
		}
		pts[i].ActiveKeys = n
	}
}

// unsetOrAfter reports whether an optional instant is unset or after t.
func unsetOrAfter(p *time.Time, t time.Time) bool { return p == nil || p.After(t) }
