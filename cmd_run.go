package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/backchannel/backchannel/config"
)

// cmdRun parses `run`'s flags, loads the configuration and runs the bot
// until ctx ends.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, env config.LookupEnv) error {
	fs, path := newFlags("run", stderr)
	dryRun := fs.Bool("dry-run", false, "print alerts to stdout instead of posting them; no Discord token needed")
	logFormat := fs.String("log-format", "", "log format, text or json (overrides log.format)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, env)
	if err != nil {
		return err
	}
	if *logFormat != "" {
		cfg.Log.Format = *logFormat
	}
	if !*dryRun && cfg.Discord.Token == "" {
		return errors.New("discord.token is not set: set DISCORD_TOKEN (or BACKCHANNEL_DISCORD_TOKEN, or discord.token in the file), or use -dry-run")
	}
	logger, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	return runApp(ctx, cfg, appOptions{DryRun: *dryRun, Stdout: stdout, Logger: logger})
}

func newLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.Format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q: use text or json", c.Format)
	}
}
