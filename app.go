package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/backchannel/backchannel/bot"
	"github.com/backchannel/backchannel/commands"
	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/dispatch"
	"github.com/backchannel/backchannel/feeds"
	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/outbox"
	"github.com/backchannel/backchannel/rulebook"
	"github.com/backchannel/backchannel/rules"
)

// appOptions are what `run` adds to the configuration.
type appOptions struct {
	DryRun bool
	Stdout io.Writer
	Logger *slog.Logger
	// OnHTTP, when set, is told the HTTP server's address once it listens
	// (tests listen on port 0).
	OnHTTP func(addr string)
}

// dryRunChannel is the pseudo channel the dry run "posts" to.
const dryRunChannel = "stdout"

// After SIGINT/SIGTERM in-flight polls get pollGrace and in-flight posts
// postGrace to finish, side by side; INTERFACE.md allows 10 s in all.
const (
	pollGrace = 5 * time.Second
	postGrace = 3 * time.Second
)

// dispatchRetryInterval is how often articles whose dispatch failed are
// tried again.
const dispatchRetryInterval = 5 * time.Minute

// runApp runs the bot until ctx ends, then shuts down in order: stop
// scheduling, let in-flight polls and posts finish, close Discord, close
// the database. What was not delivered stays in the outbox.
func runApp(ctx context.Context, cfg config.Config, opts appOptions) (err error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	defaults, err := rules.Compile(cfg.Rules)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	store, err := db.Open(ctx, cfg.Database.Path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()

	reg := prometheus.NewRegistry()
	m := metrics.New(reg, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := store.QueueDepth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	book := rulebook.NewBook(defaults, store, logger)

	// Delivery: Discord, or stdout in a dry run.
	var (
		session *discordgo.Session
		poster  outbox.Poster
		obStore outbox.Store = store
		subs    []model.Subscription
	)
	if opts.DryRun {
		poster = &outbox.Printer{W: opts.Stdout}
		obStore = dryRunStore{store}
		subs = []model.Subscription{{ChannelID: dryRunChannel}}
		logger.Info("dry run: alerts are printed to stdout, nothing is posted to Discord")
	} else {
		session, err = bot.NewSession(bot.SessionConfig{
			Token:  cfg.Discord.Token.Reveal(),
			APIURL: cfg.Discord.APIURL,
			Logger: logger,
		})
		if err != nil {
			return err
		}
		poster = bot.NewPoster(session, logger)
	}
	ob := outbox.New(obStore, poster, m, logger, outbox.Options{ShutdownGrace: postGrace})

	disp := dispatch.New(store, book, m, dispatch.Options{
		MaxAge:        cfg.Poll.MaxAge.D,
		Subscriptions: subs,
		Notify:        ob.Notify,
		Logger:        logger,
	})
	fetcher := feeds.NewFetcher(feeds.Config{
		Timeout:              cfg.Poll.Timeout.D,
		MaxBytes:             cfg.Poll.MaxBytes,
		Concurrency:          cfg.Poll.Concurrency,
		PerHost:              2,
		UserAgent:            feeds.UserAgent(version),
		AllowPrivateNetworks: cfg.Poll.AllowPrivateNetworks,
	}, logger)
	poller := feeds.NewPoller(fetcher, store, batchHandler{disp}, m, logger, time.Now)
	sched, err := feeds.NewScheduler(poller, cfg.Poll.Schedule, cfg.Poll.Concurrency, logger)
	if err != nil {
		return err
	}
	all, err := store.SyncConfigFeeds(ctx, configFeeds(cfg.Feeds))
	if err != nil {
		return err
	}
	for _, f := range all {
		if err := sched.Add(f); err != nil {
			logger.Error("feed not scheduled", "feed", f.Name, "err", err)
		}
	}

	handler := commands.New(commands.Deps{
		Subscriptions: store,
		Alerts:        store,
		Rules:         store,
		Book:          book,
		Feeds:         store,
		Prober:        fetcher,
		Scheduler:     sched,
		OwnerIDs:      cfg.Discord.OwnerIDs,
		Logger:        logger,
		Metrics:       m,
	})

	// Work runs on contexts of its own, cancelled in order at shutdown
	// rather than all at once when ctx ends.
	postCtx, stopPosting := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPosting()
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPolling()
	stopWork := func() { stopPosting(); stopPolling() }
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := ob.Run(postCtx); err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("outbox stopped", "err", err)
		}
	})

	var connected func() bool
	if session != nil {
		if cfg.Discord.Gateway {
			bot.ServeGateway(session, handler, logger)
			if err := session.Open(); err != nil {
				if bot.IsUnauthorized(err) {
					stopWork()
					wg.Wait()
					return fmt.Errorf("discord gateway: the token was refused (check discord.token / DISCORD_TOKEN): %w", err)
				}
				// Discord (or the proxy in discord.api_url) may be down for a
				// while: keep polling and queueing, and connect when it is back.
				logger.Error("discord gateway unavailable; retrying in the background", "err", err)
				wg.Go(func() { reopenGateway(postCtx, session, logger) })
			}
			defer session.Close()
			connected = func() bool { return bot.GatewayConnected(session) }
		}
		if cfg.Discord.ApplicationID != "" {
			if err := bot.RegisterCommands(ctx, session, cfg.Discord.ApplicationID, cfg.Discord.GuildID, commands.Definitions()); err != nil {
				logger.Error("slash commands not registered", "err", err)
			}
		}
	}

	if cfg.HTTP.Listen != "" {
		var interactions = bot.InteractionsHandler(cfg.Discord.PublicKey, handler, session, logger)
		srv, err := listenHTTP(ctx, cfg.HTTP.Listen, newMux(health{ping: store.Ping, connected: connected}, reg, interactions), logger)
		if err != nil {
			stopWork()
			wg.Wait()
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		if opts.OnHTTP != nil {
			opts.OnHTTP(srv.Addr())
		}
	}

	// Articles the last run stored but did not match (it crashed, or the
	// dispatch failed) get their alerts now, before polling begins.
	if _, err := disp.Retry(pollCtx, time.Now()); err != nil {
		logger.Error("retrying undispatched articles", "err", err)
	}
	wg.Go(func() { disp.RunRetries(pollCtx, dispatchRetryInterval) })
	sched.Start()
	wg.Go(func() { sched.PollAll(pollCtx) })
	logger.Info("backchannel running", "feeds", len(all), "rules", len(defaults.Rules()), "dry_run", opts.DryRun)

	<-ctx.Done()
	logger.Info("shutting down")
	// The outbox finishes the posts it started (postGrace) and leaves the
	// rest queued, while the scheduler waits for polls in flight.
	stopPosting()
	sctx, cancel := context.WithTimeout(context.Background(), pollGrace)
	defer cancel()
	if err := sched.Stop(sctx); err != nil {
		logger.Warn("polls still running at shutdown", "err", err)
	}
	stopPolling()
	wg.Wait()
	logger.Info("stopped")
	return nil
}

// reopenGateway retries opening the gateway with capped exponential backoff
// until it succeeds or ctx ends.
func reopenGateway(ctx context.Context, s *discordgo.Session, logger *slog.Logger) {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		err := s.Open()
		if err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen) {
			logger.Info("discord gateway connected after retrying")
			return
		}
		wait = min(wait*2, time.Minute)
		logger.Warn("discord gateway still unavailable", "err", err, "retry_in", wait)
	}
}

// batchHandler adapts the dispatcher to the poller's Handler.
type batchHandler struct{ d *dispatch.Dispatcher }

func (h batchHandler) HandleNew(ctx context.Context, b feeds.Batch) error {
	return h.d.Dispatch(ctx, b.Feed, b.Articles)
}

func configFeeds(fs []config.Feed) []model.Feed {
	out := make([]model.Feed, 0, len(fs))
	for _, f := range fs {
		out = append(out, model.Feed{Name: f.Name, URL: f.URL, Schedule: f.Schedule, Source: model.SourceConfig})
	}
	return out
}

// dryRunStore shows the dry-run outbox only its own deliveries, so a dry
// run on a real database never "delivers" a real channel's alerts to stdout.
type dryRunStore struct{ *db.DB }

func (s dryRunStore) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]model.Delivery, error) {
	all, err := s.DB.DueDeliveries(ctx, now, limit*4)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, d := range all {
		if d.ChannelID == dryRunChannel && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}
