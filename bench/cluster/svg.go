package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// A tiny SVG writer for the report's plots: grouped bars and timelines.
// Hand-written so the report needs nothing but the standard library.

const svgW, svgH, padL, padR, padT, padB = 720.0, 300.0, 60.0, 150.0, 30.0, 40.0

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// series is one named row of values, one per group or per second.
type series struct {
	name   string
	values []float64
}

// svgFrame opens a plot with a title, a y axis from 0 to top (with a
// unit) and the legend of ss.
func svgFrame(b *strings.Builder, title, unit string, top float64, ss []series) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", svgW, svgH)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/><text x="%.0f" y="18" font-size="13">%s</text>`+"\n", padL, html.EscapeString(title))
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := yPos(v, top)
		fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			padL, svgW-padR, y, y, padL-4, y+4, short(v))
	}
	fmt.Fprintf(b, `<text x="12" y="%.0f" transform="rotate(-90 12 %.0f)" text-anchor="middle">%s</text>`+"\n",
		svgH/2, svgH/2, html.EscapeString(unit))
	for i, s := range ss {
		y := padT + 10 + float64(i)*16
		fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="10" height="10" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n",
			svgW-padR+10, y-9, palette[i%len(palette)], svgW-padR+24, y, html.EscapeString(s.name))
	}
}

func yPos(v, top float64) float64 { return svgH - padB - v/top*(svgH-padT-padB) }

// niceTop rounds m up to 1, 2 or 5 × a power of ten.
func niceTop(m float64) float64 {
	if m <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= m {
			return f * p
		}
	}
	return 10 * p
}

func short(v float64) string {
	if v >= 1000 && math.Mod(v, 1000) == 0 {
		return fmt.Sprintf("%.0fk", v/1000)
	}
	if v >= 1000 {
		return fmt.Sprintf("%.1fk", v/1000)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// barChart draws one bar per series in each group.
func barChart(title, unit string, groups []string, ss []series) string {
	var b strings.Builder
	top := 0.0
	for _, s := range ss {
		for _, v := range s.values {
			top = max(top, v)
		}
	}
	top = niceTop(top)
	svgFrame(&b, title, unit, top, ss)
	gw := (svgW - padL - padR) / float64(len(groups))
	bw := gw * 0.8 / float64(len(ss))
	for g, name := range groups {
		x0 := padL + float64(g)*gw + gw*0.1
		for i, s := range ss {
			if g >= len(s.values) {
				continue
			}
			v := s.values[g]
			y := yPos(v, top)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.4g</title></rect>`+"\n",
				x0+float64(i)*bw, y, bw-2, svgH-padB-y, palette[i%len(palette)], html.EscapeString(s.name), html.EscapeString(name), v)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", x0+gw*0.4, svgH-padB+16, html.EscapeString(name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// timeline draws per-second series as lines, with each mark's window
// shaded and named.
func timeline(title string, ss []series, marks []mark) string {
	var b strings.Builder
	top, n := 0.0, 0
	for _, s := range ss {
		n = max(n, len(s.values))
		for _, v := range s.values {
			top = max(top, v)
		}
	}
	top = niceTop(top)
	svgFrame(&b, title, "per second", top, ss)
	x := func(sec float64) float64 { return padL + sec/float64(max(n, 1))*(svgW-padL-padR) }
	for i, m := range marks {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" fill="#fd0" opacity="0.3"><title>%s</title></rect>`+"\n",
			x(m.Start.Seconds()), padT, max(1, x(m.End.Seconds())-x(m.Start.Seconds())), svgH-padT-padB, html.EscapeString(m.Name))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="9">%d</text>`+"\n", x(m.Start.Seconds())+1, padT+10+float64(i%4)*10, i+1)
	}
	for i, s := range ss {
		var pts []string
		for sec, v := range s.values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(sec)+0.5), yPos(v, top)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", palette[i%len(palette)], strings.Join(pts, " "))
	}
	for t := 0; t <= n; t += 10 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%d s</text>`+"\n", x(float64(t)), svgH-padB+16, t)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
