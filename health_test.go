package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestHealthEndpoints: liveness needs only the database, readiness (and
// /healthz, as docs/CONTRACT.md defines it) the gateway too, and each failure
// names its cause.
func TestHealthEndpoints(t *testing.T) {
	var dbDown, gatewayUp atomic.Bool
	h := health{
		ping: func(context.Context) error {
			if dbDown.Load() {
				return errors.New("disk I/O error")
			}
			return nil
		},
		connected: gatewayUp.Load,
	}
	srv := httptest.NewServer(newMux(h, prometheus.NewRegistry(), nil))
	defer srv.Close()

	tests := []struct {
		name              string
		dbDown, gatewayUp bool
		path              string
		wantCode          int
		wantBody          string
	}{
		{"all well, live", false, true, "/livez", 200, "ok"},
		{"all well, ready", false, true, "/readyz", 200, "ok"},
		{"all well, healthz", false, true, "/healthz", 200, "ok"},
		{"discord down, still live", false, false, "/livez", 200, "ok"},
		{"discord down, not ready", false, false, "/readyz", 503, "discord: unreachable"},
		{"discord down, healthz", false, false, "/healthz", 503, "discord: unreachable"},
		{"database down, not live", true, true, "/livez", 503, "database: unavailable"},
		{"database down, not ready", true, false, "/healthz", 503, "database: unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbDown.Store(tt.dbDown)
			gatewayUp.Store(tt.gatewayUp)
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != tt.wantCode || !strings.HasPrefix(body, tt.wantBody) {
				t.Errorf("GET %s = %d %q; want %d %q", tt.path, resp.StatusCode, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestHealthCommand: `backchannel health` asks /livez (or /readyz with
// -ready) on the configured http.listen, on loopback when it listens on
// every address, and exits 0 only on a 200.
func TestHealthCommand(t *testing.T) {
	var ready atomic.Bool
	var asked atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.URL.Path)
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.URL.Path)
		if !ready.Load() {
			http.Error(w, "discord: unreachable (gateway not connected)", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[http]\nlisten = \":"+port+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "", "health", "-config", path); code != 0 || strings.TrimSpace(out) != "ok" || asked.Load() != "/livez" {
		t.Errorf("health: exit %d, stdout %q, stderr %q, asked %v", code, out, errOut, asked.Load())
	}
	code, _, errOut := runCLI(t, "", "health", "-config", path, "-ready")
	if code != 1 || !strings.Contains(errOut, "503") || !strings.Contains(errOut, "discord: unreachable") {
		t.Errorf("health -ready while Discord is down: exit %d, stderr %q", code, errOut)
	}
	ready.Store(true)
	if code, _, errOut := runCLI(t, "", "health", "-ready", "-url", srv.URL+"/readyz"); code != 0 {
		t.Errorf("health -url: exit %d, stderr %q", code, errOut)
	}

	noHTTP := filepath.Join(t.TempDir(), "nohttp.toml")
	if err := os.WriteFile(noHTTP, []byte("[http]\nlisten = \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "health", "-config", noHTTP); code != 1 || !strings.Contains(errOut, "http.listen is not set") {
		t.Errorf("health without http.listen: exit %d, stderr %q", code, errOut)
	}
	// Nothing listening: a clear error, not a hang.
	closed := httptest.NewServer(mux)
	closed.Close()
	if code, _, errOut := runCLI(t, "", "health", "-url", closed.URL+"/livez"); code != 1 || !strings.Contains(errOut, "health:") {
		t.Errorf("health against a closed port: exit %d, stderr %q", code, errOut)
	}
}
