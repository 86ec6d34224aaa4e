package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// health answers the HTTP health checks. Liveness (/livez) asks only
// whether the process can do its own work — the database answers — so an
// orchestrator never restarts the bot for Discord's outage; readiness
// (/readyz, and /healthz as docs/CONTRACT.md defines it) also needs the gateway
// session, and says which of the two is missing.
type health struct {
	ping func(context.Context) error
	// writable reports whether the database can write (nil: it can, or
	// unknown). A full disk fails readiness, not liveness: a restart
	// frees no space.
	writable  func(context.Context) error
	connected func() bool // nil: no gateway
}

// check returns "" when ready, else the first reason it is not; with live
// set, only the database counts.
func (h health) check(ctx context.Context, live bool) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.ping(ctx); err != nil {
		return "database: unavailable"
	}
	if !live && h.writable != nil {
		if err := h.writable(ctx); err != nil {
			return "database: " + err.Error()
		}
	}
	if !live && h.connected != nil && !h.connected() {
		return "discord: unreachable (gateway not connected)"
	}
	return ""
}

func (h health) handler(live bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if why := h.check(r.Context(), live); why != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, why)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// newMux routes the HTTP endpoints; interactions is nil when Discord's
// HTTP interactions are not configured.
func newMux(h health, reg prometheus.Gatherer, interactions http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", h.handler(false))
	mux.Handle("GET /readyz", h.handler(false))
	mux.Handle("GET /livez", h.handler(true))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if interactions != nil {
		mux.Handle("POST /interactions", interactions)
	}
	return mux
}

// httpServer serves mux on addr until ctx ends; the listener is opened
// before it returns, so the address is known (and a bad one fails start-up).
type httpServer struct {
	srv *http.Server
	ln  net.Listener
}

func listenHTTP(ctx context.Context, addr string, mux http.Handler, logger *slog.Logger) (*httpServer, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	logger.Info("http listening", "addr", ln.Addr().String())
	return &httpServer{srv: srv, ln: ln}, nil
}

func (s *httpServer) Addr() string { return s.ln.Addr().String() }

func (s *httpServer) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
