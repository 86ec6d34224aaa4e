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

// health reports whether the bot can do its job: the database answers and,
// when the gateway is in use, the session is connected.
type health struct {
	ping      func(context.Context) error
	connected func() bool // nil: no gateway
}

func (h health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := h.ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database: unavailable")
		return
	}
	if h.connected != nil && !h.connected() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "gateway: not connected")
		return
	}
	fmt.Fprintln(w, "ok")
}

// newMux routes the HTTP endpoints; interactions is nil when Discord's
// HTTP interactions are not configured.
func newMux(h health, reg prometheus.Gatherer, interactions http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", h)
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
