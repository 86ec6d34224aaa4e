// Package metrics holds backchannel's Prometheus collectors. Components take
// the collectors they update as constructor arguments; nothing registers
// itself globally, so tests can build as many apps as they like.
package metrics

import (
	"runtime"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the collectors the pipeline updates.
type Metrics struct {
	// FeedPolls counts feed polls by result: ok, not_modified, error, skipped.
	FeedPolls *prometheus.CounterVec
	// FeedItems counts new items stored.
	FeedItems prometheus.Counter
	// AlertsMatched counts alerts created (one per guild and article).
	AlertsMatched prometheus.Counter
	// AlertsPosted counts deliveries Discord (or the dry-run printer) accepted.
	AlertsPosted prometheus.Counter
	// DeliveryFailures counts failed delivery attempts by kind: retry, permanent.
	DeliveryFailures *prometheus.CounterVec
	// Interactions counts slash commands (and the rule-edit form) by
	// command and result: ok, refused (no permission, an invalid option,
	// nothing of that name; nothing changed) or error.
	Interactions *prometheus.CounterVec
	// InteractionsRejected counts POST /interactions requests refused
	// before any command ran, by reason: see RejectReasons.
	InteractionsRejected *prometheus.CounterVec
	// Pruned counts what retention deleted, by what: texts (of articles,
	// whose keys stay) or keys (an article has up to three).
	Pruned *prometheus.CounterVec
}

// Options are New's optional settings; the zero value works.
type Options struct {
	// QueueDepth is called at scrape time to report the number of
	// deliveries waiting in the outbox [always 0].
	QueueDepth func() float64
	// DBWriteErrors is called at scrape time for the number of write
	// transactions the database could not make, by reason (full,
	// readonly, ioerr) [none].
	DBWriteErrors func() map[string]uint64
	// DBSize is called at scrape time for the database file's size in
	// bytes [not exported].
	DBSize func() float64
}

// New creates the collectors and registers them, with the Go and process
// collectors, on reg. opts holds the optional rest and may be zero.
func New(reg prometheus.Registerer, opts Options) *Metrics {
	m := &Metrics{
		FeedPolls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backchannel_feed_polls_total",
			Help: "Feed polls by result (ok, not_modified, error, skipped).",
		}, []string{"result"}),
		FeedItems: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backchannel_feed_items_new_total",
			Help: "New feed items stored.",
		}),
		AlertsMatched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backchannel_alerts_matched_total",
			Help: "Alerts created by the rules (one per guild and article).",
		}),
		AlertsPosted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backchannel_alerts_posted_total",
			Help: "Alert deliveries accepted by Discord (or printed in a dry run).",
		}),
		DeliveryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backchannel_delivery_failures_total",
			Help: "Failed delivery attempts by kind (retry, permanent).",
		}, []string{"kind"}),
		Interactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backchannel_interactions_total",
			Help: "Slash command interactions handled, by command and result (ok, refused, error).",
		}, []string{"command", "result"}),
		InteractionsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backchannel_interactions_rejected_total",
			Help: "POST /interactions requests refused before any command ran, by reason (" + strings.Join(RejectReasons(), ", ") + ").",
		}, []string{"reason"}),
		Pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backchannel_db_pruned_total",
			Help: "Rows deleted by retention, by what (texts: of articles that did not alert; keys: their de-duplication keys, up to three an article).",
		}, []string{"what"}),
	}
	for _, w := range []string{"texts", "keys"} {
		m.Pruned.WithLabelValues(w)
	}
	for _, r := range []string{"ok", "not_modified", "error", "skipped"} {
		m.FeedPolls.WithLabelValues(r)
	}
	for _, k := range []string{"retry", "permanent"} {
		m.DeliveryFailures.WithLabelValues(k)
	}
	for _, r := range RejectReasons() {
		m.InteractionsRejected.WithLabelValues(r)
	}
	queueDepth := opts.QueueDepth
	if queueDepth == nil {
		queueDepth = func() float64 { return 0 }
	}
	reg.MustRegister(
		m.FeedPolls, m.FeedItems, m.AlertsMatched, m.AlertsPosted, m.DeliveryFailures, m.Interactions, m.InteractionsRejected,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "backchannel_delivery_queue_depth",
			Help: "Deliveries waiting in the outbox.",
		}, queueDepth),
		m.Pruned,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if opts.DBWriteErrors != nil {
		reg.MustRegister(writeErrors{
			desc: prometheus.NewDesc("backchannel_db_write_errors_total",
				"Database write transactions that failed because SQLite could not write, by reason (full: disk or max_page_count full; readonly; ioerr).",
				[]string{"reason"}, nil),
			counts: opts.DBWriteErrors,
		})
	}
	if opts.DBSize != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "backchannel_db_size_bytes",
			Help: "Size of the database file (without its WAL).",
		}, opts.DBSize))
	}
	return m
}

// writeErrors exports the store's own counts of failed writes, read at
// scrape time, so that the store needs no metrics of its own.
type writeErrors struct {
	desc   *prometheus.Desc
	counts func() map[string]uint64
}

func (w writeErrors) Describe(ch chan<- *prometheus.Desc) { ch <- w.desc }

func (w writeErrors) Collect(ch chan<- prometheus.Metric) {
	counts := w.counts()
	reasons := make([]string, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		ch <- prometheus.MustNewConstMetric(w.desc, prometheus.CounterValue, float64(counts[r]), r)
	}
}

// RejectReasons returns the reason label values of InteractionsRejected:
// no valid Ed25519 signature, a timestamp outside the accepted window, an
// interaction id already answered, a body that is no interaction, a body
// over the size limit.
func RejectReasons() []string {
	return []string{"bad_signature", "stale_timestamp", "replay", "malformed", "too_large"}
}

// BuildInfo returns the backchannel_build_info gauge: always 1, labelled
// with the build's version and the Go version it was built with, so a
// dashboard can tell which build runs.
func BuildInfo(version string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "backchannel_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}

// NewUnregistered returns collectors registered on a private registry, for
// tests and tools that do not serve /metrics.
func NewUnregistered() *Metrics {
	return New(prometheus.NewRegistry(), Options{})
}
