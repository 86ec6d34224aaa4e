package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/backchannel/backchannel/config"
)

// healthTimeout bounds the whole check; a container health check that
// hangs is worse than one that fails.
const healthTimeout = 5 * time.Second

// cmdHealth asks a running bot's HTTP server whether it is alive (/livez:
// the database answers) or, with -ready, ready (/readyz: Discord too). It
// exits 0 only on a 200, so a distroless image can health-check itself.
func cmdHealth(ctx context.Context, args []string, stdout io.Writer, env config.Env) error {
	fs, path := newFlags("health", stdout)
	ready := fs.Bool("ready", false, "ask /readyz (database and Discord gateway) instead of /livez (database only)")
	rawURL := fs.String("url", "", "URL to ask (default: /livez or /readyz on http.listen of the configuration)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	target := *rawURL
	if target == "" {
		cfg, err := config.Load(*path, env)
		if err != nil {
			return err
		}
		endpoint := "/livez"
		if *ready {
			endpoint = "/readyz"
		}
		if target, err = healthURL(cfg.HTTP.Listen, endpoint); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s: %s", target, resp.Status, answer)
	}
	fmt.Fprintln(stdout, answer)
	return nil
}

// healthURL turns http.listen into a URL this host can reach: a listener
// on every address (":8080", "0.0.0.0:8080") is asked on loopback.
func healthURL(listen, endpoint string) (string, error) {
	if listen == "" {
		return "", errors.New("http.listen is not set: the health check asks the bot's HTTP server (set http.listen, or pass -url)")
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q: %w", listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + endpoint, nil
}
