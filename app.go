package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
	"github.com/backchannel/backchannel/stories"
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
// postGrace to finish, side by side; docs/CONTRACT.md allows 10 s in all.
const (
	pollGrace = 5 * time.Second
	postGrace = 3 * time.Second
)

// outboxWorkers is how many deliveries go out at once, each to another
// channel: at 100 ms a request, six keep up with the 45 requests a second
// the session paces; the rest absorb slow answers and 429 waits of
// single channels.
const outboxWorkers = 32

// dispatchRetryInterval is how often articles whose dispatch failed are
// tried again.
const dispatchRetryInterval = 5 * time.Minute

// runApp runs the bot until ctx ends, then closes it. Tests drive the bot
// through it exactly as `run` does.
func runApp(ctx context.Context, cfg config.Loaded, opts appOptions) error {
	app := newApp(cfg, opts)
	if err := app.Run(ctx); err != nil {
		return errors.Join(err, app.Close())
	}
	<-ctx.Done()
	app.logger.Info("shutting down")
	return app.Close()
}

// App is the whole bot: store, matcher, pollers, delivery, Discord and the
// HTTP server. Run opens and starts the parts in order and returns once
// they run; Close stops them in the one order that loses nothing and may
// be called after a failed Run, closing only what was opened.
type App struct {
	cfg    config.Loaded // checked, with the compiled default rules
	opts   appOptions
	logger *slog.Logger

	store      *db.DB
	registry   *prometheus.Registry
	metrics    *metrics.Metrics
	book       *rulebook.Book
	session    *discordgo.Session // nil in a dry run
	outbox     *outbox.Outbox
	dispatcher *dispatch.Dispatcher
	fetcher    *feeds.Fetcher
	scheduler  *feeds.Scheduler
	commands   *commands.Handler
	http       *httpServer
	connected  func() bool // nil: no gateway

	// Work runs on contexts of its own, cancelled in order by Close rather
	// than all at once when Run's context ends.
	postCtx, pollCtx         context.Context
	stopPosting, stopPolling context.CancelFunc
	work                     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

func newApp(cfg config.Loaded, opts appOptions) *App {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &App{cfg: cfg, opts: opts, logger: logger}
}

// Run opens every part and starts the background work: outbox, dispatch
// retries, scheduler. It returns once the bot runs; ctx bounds start-up
// only (Close stops the work).
func (a *App) Run(ctx context.Context) error {
	a.postCtx, a.stopPosting = context.WithCancel(context.WithoutCancel(ctx))
	a.pollCtx, a.stopPolling = context.WithCancel(context.WithoutCancel(ctx))
	steps := []func(context.Context) error{
		a.openStore,
		a.openMatcher,
		a.openDelivery,
		a.openPolling,
		a.openCommands,
		a.openDiscord,
		a.openHTTP,
		a.startWork,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	a.logger.Info("backchannel running", "rules", len(a.book.Defaults().Rules()), "dry_run", a.opts.DryRun)
	return nil
}

func (a *App) openStore(ctx context.Context) error {
	path := a.cfg.Database.Path
	if a.opts.DryRun {
		path = dryRunPath(path)
		a.logger.Info("dry run: using its own database, never the bot's", "path", path)
	}
	store, err := db.Open(ctx, path)
	if err != nil {
		return err
	}
	a.store = store
	a.registry = prometheus.NewRegistry()
	a.metrics = metrics.New(a.registry, metrics.Options{QueueDepth: func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := store.QueueDepth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}, DBWriteErrors: store.WriteErrors, DBSize: func() float64 {
		fi, err := os.Stat(store.Path())
		if err != nil {
			return -1
		}
		return float64(fi.Size())
	}})
	a.registry.MustRegister(metrics.BuildInfo(version))
	return nil
}

func (a *App) openMatcher(context.Context) error {
	a.book = rulebook.NewBook(a.cfg.Defaults, a.store, rulebook.Options{Logger: a.logger})
	return nil
}

// openDelivery builds the outbox and the dispatcher that feeds it: Discord,
// or stdout in a dry run. The dispatcher groups reports into stories with
// the default rules' vocabulary, over the store's story index.
func (a *App) openDelivery(context.Context) error {
	lex, err := stories.NewLexicon(a.book.Defaults().Spec())
	if err != nil {
		return fmt.Errorf("stories: %w", err)
	}
	grouper := stories.NewGrouper(lex, a.store.StoryIndex())
	var (
		poster outbox.Poster
		subs   []model.Subscription
	)
	if a.opts.DryRun {
		poster = &outbox.Printer{W: a.opts.Stdout}
		subs = []model.Subscription{{ChannelID: dryRunChannel}}
		a.logger.Info("dry run: alerts are printed to stdout, nothing is posted to Discord")
	} else {
		session, err := bot.NewSession(bot.SessionConfig{
			Token:  a.cfg.Discord.Token.Reveal(),
			APIURL: a.cfg.Discord.APIURL,
			Logger: a.logger,
		})
		if err != nil {
			return err
		}
		a.session = session
		poster = bot.NewPoster(session, bot.PosterOptions{Logger: a.logger})
	}
	a.outbox = outbox.New(a.store, poster, outbox.Options{Metrics: a.metrics, Logger: a.logger, ShutdownGrace: postGrace, Workers: outboxWorkers})
	a.dispatcher = dispatch.New(a.store, a.book, dispatch.Options{
		MaxAge:        a.cfg.Poll.MaxAge.D,
		Subscriptions: subs,
		Notify:        a.outbox.Notify,
		Stories:       &dispatch.Stories{Placer: grouper, Store: a.store},
		Logger:        a.logger,
		Metrics:       a.metrics,
	})
	return nil
}

// openPolling builds the fetcher, poller and scheduler and schedules every
// feed, those of the file first synced into the store.
func (a *App) openPolling(ctx context.Context) error {
	a.fetcher = feeds.NewFetcher(feeds.Config{
		Timeout:              a.cfg.Poll.Timeout.D,
		MaxBytes:             a.cfg.Poll.MaxBytes,
		Concurrency:          a.cfg.Poll.Concurrency,
		PerHost:              2,
		UserAgent:            feeds.UserAgent(version),
		AllowPrivateNetworks: a.cfg.Poll.AllowPrivateNetworks,
		Logger:               a.logger,
	})
	poller := feeds.NewPoller(a.fetcher, a.store, batchHandler{a.dispatcher}, feeds.PollerOptions{Metrics: a.metrics, Logger: a.logger, Now: time.Now, MaxAge: a.cfg.Poll.MaxAge.D})
	sched, err := feeds.NewScheduler(poller, a.cfg.Poll.Schedule, feeds.SchedulerOptions{Concurrency: a.cfg.Poll.Concurrency, Logger: a.logger})
	if err != nil {
		return err
	}
	a.scheduler = sched
	all, err := a.store.SyncConfigFeeds(ctx, configFeeds(a.cfg.Feeds))
	if err != nil {
		return err
	}
	for _, f := range all {
		if err := sched.Add(f); err != nil {
			a.logger.Error("feed not scheduled", "feed", f.Name, "err", err)
		}
	}
	a.logger.Info("feeds scheduled", "feeds", len(all))
	return nil
}

func (a *App) openCommands(context.Context) error {
	a.commands = commands.New(commands.Options{
		Subscriptions: a.store,
		Alerts:        a.store,
		Rules:         a.store,
		Book:          a.book,
		Feeds:         a.store,
		Prober:        a.fetcher,
		Scheduler:     a.scheduler,
		OwnerIDs:      a.cfg.Discord.OwnerIDs,
		Logger:        a.logger,
		Metrics:       a.metrics,
	})
	return nil
}

// openDiscord connects the gateway and registers the slash commands. A
// refused token stops start-up; Discord being down does not: the bot keeps
// polling and queueing and connects when Discord is back.
func (a *App) openDiscord(ctx context.Context) error {
	if a.session == nil {
		return nil
	}
	if a.cfg.Discord.Gateway {
		bot.ServeGateway(a.session, a.commands, a.logger)
		if err := a.session.Open(); err != nil {
			if bot.IsUnauthorized(err) {
				return fmt.Errorf("discord gateway: the token was refused (check discord.token / DISCORD_TOKEN): %w", err)
			}
			a.logger.Error("discord gateway unavailable; retrying in the background", "err", err)
			a.work.Go(func() { reopenGateway(a.postCtx, a.session, a.logger) })
		}
		a.connected = func() bool { return bot.GatewayConnected(a.session) }
	}
	if a.cfg.Discord.ApplicationID != "" {
		if err := bot.RegisterCommands(ctx, a.session, a.cfg.Discord.ApplicationID, a.cfg.Discord.GuildID, commands.Definitions()); err != nil {
			a.logger.Error("slash commands not registered", "err", err)
		}
	}
	return nil
}

func (a *App) openHTTP(ctx context.Context) error {
	if a.cfg.HTTP.Listen == "" {
		return nil
	}
	interactions := bot.InteractionsHandler(a.cfg.Discord.PublicKey, a.commands, a.session, bot.InteractionsOptions{Logger: a.logger, Rejected: func(reason string) {
		a.metrics.InteractionsRejected.WithLabelValues(reason).Inc()
	}})
	srv, err := listenHTTP(ctx, a.cfg.HTTP.Listen, newMux(health{ping: a.store.Ping, writable: a.writable, connected: a.connected}, a.registry, interactions), a.logger)
	if err != nil {
		return err
	}
	a.http = srv
	if a.opts.OnHTTP != nil {
		a.opts.OnHTTP(srv.Addr())
	}
	return nil
}

// startWork starts the background work. Articles the last run stored but
// did not match (it crashed, or the dispatch failed) get their alerts
// first, before polling begins.
func (a *App) startWork(context.Context) error {
	a.work.Go(func() {
		if err := a.outbox.Run(a.postCtx); err != nil && !errors.Is(err, context.Canceled) {
			a.logger.Error("outbox stopped", "err", err)
		}
	})
	if _, err := a.dispatcher.Retry(a.pollCtx, time.Now()); err != nil {
		a.logger.Error("retrying undispatched articles", "err", err)
	}
	a.work.Go(func() { a.dispatcher.RunRetries(a.pollCtx, dispatchRetryInterval) })
	a.work.Go(func() { a.runRetention(a.pollCtx) })
	a.scheduler.Start()
	a.work.Go(func() { a.scheduler.PollAll(a.pollCtx) })
	return nil
}

// Close stops the bot in order: polls and posts in flight get their grace
// periods side by side (what was not posted stays queued), then the
// background work ends, then Discord, the HTTP server and last the
// database close. It is safe after a failed or partial Run and when called
// twice.
func (a *App) Close() error {
	a.closeOnce.Do(func() { a.closeErr = a.close() })
	return a.closeErr
}

func (a *App) close() error {
	var errs []error
	if a.stopPosting != nil {
		a.stopPosting()
	}
	if a.scheduler != nil {
		ctx, cancel := context.WithTimeout(context.Background(), pollGrace)
		if err := a.scheduler.Stop(ctx); err != nil {
			a.logger.Warn("polls still running at shutdown", "err", err)
		}
		cancel()
	}
	if a.stopPolling != nil {
		a.stopPolling()
	}
	a.work.Wait()
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := a.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		cancel()
	}
	if a.session != nil {
		if err := a.session.Close(); err != nil {
			errs = append(errs, fmt.Errorf("discord: %w", err))
		}
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	a.logger.Info("stopped")
	return errors.Join(errs...)
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

// dryRunPath is the database a dry run keeps beside the bot's:
// "backchannel.db" → "backchannel.dry-run.db". A dry run that opened the
// bot's own database would store the articles it saw there, and the bot
// would then never post them: the de-duplication keys say "seen".
func dryRunPath(path string) string {
	ext := filepath.Ext(path)
	if ext == "" {
		return path + ".dry-run"
	}
	return strings.TrimSuffix(path, ext) + ".dry-run" + ext
}

// retentionStart is how long after start-up the first pruning runs: after
// the first polls, which matter more.
const retentionStart = time.Minute

// runRetention prunes the store as [retention] says, every
// retention.interval, until ctx ends. A failed run is logged and the next
// one continues where it stopped.
func (a *App) runRetention(ctx context.Context) {
	r := db.Retention{
		Text:        a.cfg.Retention.Text.D,
		Keys:        a.cfg.Retention.Keys.D,
		UndatedKeys: a.cfg.Retention.UndatedKeys.D,
		KeySweep:    a.cfg.Retention.KeySweep.D,
	}
	wait := min(retentionStart, a.cfg.Retention.Interval.D)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = a.cfg.Retention.Interval.D
		start := time.Now()
		st, err := a.store.Prune(ctx, r)
		a.metrics.Pruned.WithLabelValues("texts").Add(float64(st.Stripped))
		a.metrics.Pruned.WithLabelValues("keys").Add(float64(st.Keys))
		if err != nil {
			if ctx.Err() == nil {
				a.logger.Error("retention: pruning failed; the next run continues", "err", err, "texts", st.Stripped, "keys", st.Keys)
			}
			continue
		}
		if st.Stripped+st.Keys > 0 {
			a.logger.Info("retention: pruned", "texts", st.Stripped, "keys", st.Keys,
				"pages_freed", st.Vacuumed, "took", time.Since(start).Round(time.Millisecond), "max_lock", st.MaxLock.Round(time.Microsecond))
		}
	}
}

// writable reports whether the store can write: nil while writes succeed.
// After a write failed it tries a small write itself, so that /healthz
// turns healthy again once space returns even if nothing else wrote.
func (a *App) writable(ctx context.Context) error {
	if a.store.WriteError() == nil {
		return nil
	}
	if err := a.store.ProbeWrite(ctx); err == nil {
		a.logger.Info("database writes succeed again")
		return nil
	}
	return a.store.WriteError()
}
