package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus collectors of one server. Each server has
// its own registry, so tests can run several in one process.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	auth     *prometheus.CounterVec
}

// NewMetrics registers Sigil's collectors and the Go/process ones.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigil_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sigil_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"route"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigil_auth_attempts_total", Help: "Authentication attempts by method and outcome.",
		}, []string{"method", "outcome"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.auth,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveAuth counts one authentication outcome (authn.Options.OnAuth).
func (m *Metrics) ObserveAuth(method, outcome string) { m.auth.WithLabelValues(method, outcome).Inc() }

// Handler serves GET /metrics (Prometheus text format) and nothing else.
// It belongs on the admin listener (SIGIL_METRICS_ADDR), never on the
// public one: the metrics tell an outsider which routes and login
// methods are used and how often logins fail.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return mux
}
