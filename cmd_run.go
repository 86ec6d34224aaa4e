package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/backchannel/backchannel/config"
)

// cmdRun parses `run`'s flags, loads the configuration and runs the bot
// until ctx ends.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, env config.Env) error {
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
	if err := requireToken(cfg.Config, *dryRun); err != nil {
		return err
	}
	handler, err := cfg.Log.Handler(stderr)
	if err != nil {
		return fmt.Errorf("-log-format %q: use text or json", *logFormat)
	}
	logger := slog.New(handler)
	for _, w := range cfg.Warnings {
		logger.Warn("configuration warning", "warning", w.String())
	}
	return runApp(ctx, cfg, appOptions{DryRun: *dryRun, Stdout: stdout, Logger: logger})
}

// requireToken is what `run` needs beyond a valid configuration: a token,
// unless it runs dry. `check` reports it as a warning.
func requireToken(cfg config.Config, dryRun bool) error {
	if dryRun || cfg.Discord.Token != "" {
		return nil
	}
	return errors.New("discord.token is not set: set DISCORD_TOKEN (or BACKCHANNEL_DISCORD_TOKEN, or discord.token in the file), or use -dry-run")
}
