package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rulebook"
	"github.com/backchannel/backchannel/rules"
)

// store is an in-memory stand-in for *db.DB, with the same guild scoping
// and the same stories: an alert's story is its Story (or the alert alone
// when that is empty), its first alert is the one with the lowest id, and
// its Sources are its reports in id order, each feed once.
type store struct {
	mu        sync.Mutex
	subs      []model.Subscription
	alerts    []model.Alert
	overrides map[string][]model.Override
	feeds     []model.Feed
	writes    int // every successful change, to prove refusals change nothing
}

var (
	_ SubscriptionStore = (*store)(nil)
	_ AlertStore        = (*store)(nil)
	_ RuleStore         = (*store)(nil)
	_ FeedStore         = (*store)(nil)
)

func newStore() *store { return &store{overrides: map[string][]model.Override{}} }

func (s *store) Subscribe(_ context.Context, sub model.Subscription) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.subs {
		if x.GuildID == sub.GuildID && x.ChannelID == sub.ChannelID && x.Rule == sub.Rule {
			// Subscribing again re-enables and takes the new min_sources.
			s.subs[i].Disabled = ""
			if x.MinSources != sub.MinSources {
				s.subs[i].MinSources = sub.MinSources
				s.writes++
			}
			return false, nil
		}
	}
	s.subs = append(s.subs, sub)
	s.writes++
	return true, nil
}

func (s *store) Unsubscribe(_ context.Context, guildID, channelID, rule string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.subs {
		if x.GuildID == guildID && x.ChannelID == channelID && x.Rule == rule {
			s.subs = slices.Delete(s.subs, i, i+1)
			s.writes++
			return true, nil
		}
	}
	return false, nil
}

func (s *store) Subscriptions(_ context.Context, guildID string) ([]model.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.Subscription
	for _, x := range s.subs {
		if x.GuildID == guildID {
			out = append(out, x)
		}
	}
	return out, nil
}

// LatestAlerts returns one entry per story of guildID, newest story first:
// the story's first alert with Sources filled. With actor, only stories
// with a report naming that actor id.
func (s *store) LatestAlerts(_ context.Context, guildID, actor string, n int) ([]model.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	firsts := map[string]model.Alert{}
	named := map[string]bool{}
	var order []string
	for _, a := range s.sortedAlerts(guildID) {
		k := storyKey(a)
		if _, ok := firsts[k]; !ok {
			firsts[k] = a
			order = append(order, k)
		}
		if actor == "" || slices.ContainsFunc(a.Matches, func(m model.Match) bool {
			return slices.ContainsFunc(m.Actors, func(h model.ActorHit) bool { return h.ID == actor })
		}) {
			named[k] = true
		}
	}
	var out []model.Alert
	for i := len(order) - 1; i >= 0 && len(out) < n; i-- {
		if named[order[i]] {
			a := firsts[order[i]]
			a.Sources = s.sources(guildID, order[i])
			out = append(out, a)
		}
	}
	return out, nil
}

// sortedAlerts is guildID's alerts in id order.
func (s *store) sortedAlerts(guildID string) []model.Alert {
	var out []model.Alert
	for _, a := range s.alerts {
		if a.GuildID == guildID {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b model.Alert) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func storyKey(a model.Alert) string {
	if a.Story == "" {
		return fmt.Sprintf("alert-%d", a.ID)
	}
	return a.Story
}

// sources are the reports of a story, first report first, each feed once.
func (s *store) sources(guildID, key string) []model.Source {
	var out []model.Source
	seen := map[string]bool{}
	for _, a := range s.sortedAlerts(guildID) {
		if storyKey(a) != key || seen[a.Article.Feed] {
			continue
		}
		seen[a.Article.Feed] = true
		out = append(out, model.Source{AlertID: a.ID, Feed: a.Article.Feed, Title: a.Article.Title,
			Link: a.Article.Link, Published: a.Article.Published})
	}
	return out
}

func (s *store) SearchAlerts(_ context.Context, guildID, query string, n int) ([]model.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.Alert
	for i := len(s.alerts) - 1; i >= 0 && len(out) < n; i-- {
		a := s.alerts[i]
		if a.GuildID == guildID && strings.Contains(strings.ToLower(a.Article.Title), strings.ToLower(query)) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *store) Alert(_ context.Context, guildID string, id int64) (model.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.alerts {
		if a.ID == id && a.GuildID == guildID {
			a.Sources = s.sources(guildID, storyKey(a))
			return a, nil
		}
	}
	return model.Alert{}, fmt.Errorf("fake: alert %d: %w", id, model.ErrNotFound)
}

func (s *store) GuildOverrides(_ context.Context, guildID string) ([]model.Override, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.overrides[guildID]), nil
}

func (s *store) PutGuildRule(_ context.Context, guildID string, r model.RuleSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setOverride(guildID, model.Override{Name: r.Name, Rule: &r})
	s.writes++
	return nil
}

func (s *store) RemoveGuildRule(_ context.Context, guildID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setOverride(guildID, model.Override{Name: name})
	s.writes++
	return nil
}

func (s *store) setOverride(guildID string, o model.Override) {
	ov := s.overrides[guildID]
	for i := range ov {
		if ov[i].Name == o.Name {
			ov[i] = o
			return
		}
	}
	s.overrides[guildID] = append(ov, o)
}

func (s *store) Feeds(context.Context) ([]model.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.feeds), nil
}

func (s *store) AddFeed(_ context.Context, f model.Feed) (model.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.feeds {
		if x.Name == f.Name || x.URL == f.URL {
			return model.Feed{}, fmt.Errorf("fake: add feed: %w", model.ErrDuplicate)
		}
	}
	f.ID = int64(len(s.feeds) + 100)
	s.feeds = append(s.feeds, f)
	s.writes++
	return f, nil
}

func (s *store) RemoveFeed(_ context.Context, name string) (model.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.feeds {
		if x.Name == name {
			s.feeds = slices.Delete(s.feeds, i, i+1)
			s.writes++
			return x, nil
		}
	}
	return model.Feed{}, fmt.Errorf("fake: remove feed: %w", model.ErrNotFound)
}

func (s *store) changes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// prober answers from a map of URL to title; anything else fails.
type prober struct {
	mu    sync.Mutex
	feeds map[string]string
	calls []string
}

func (p *prober) Probe(_ context.Context, url string) (string, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, url)
	title, ok := p.feeds[url]
	if !ok {
		return "", 0, errors.New("body is not RSS, Atom or JSON Feed")
	}
	return title, 12, nil
}

func (p *prober) probed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// scheduler records scheduled feeds.
type scheduler struct {
	mu   sync.Mutex
	next map[int64]time.Time
	now  time.Time
}

func (s *scheduler) Add(f model.Feed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next[f.ID] = s.now.Add(5 * time.Minute)
	return nil
}

func (s *scheduler) Remove(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.next, id)
}

func (s *scheduler) Next(id int64) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next[id]
}

// responder records what the handler sent and checks, for every message,
// that allowed_mentions parses nothing.
type responder struct {
	t         testing.TB
	mu        sync.Mutex
	responses []*discordgo.InteractionResponse
	edits     []*discordgo.WebhookEdit
}

func (r *responder) Respond(_ context.Context, resp *discordgo.InteractionResponse) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.responses) > 0 {
		r.t.Errorf("second initial response: %+v", resp)
	}
	switch resp.Type {
	case discordgo.InteractionResponseChannelMessageWithSource, discordgo.InteractionResponseDeferredChannelMessageWithSource:
		if resp.Data == nil || resp.Data.AllowedMentions == nil || resp.Data.AllowedMentions.Parse == nil || len(resp.Data.AllowedMentions.Parse) != 0 {
			r.t.Errorf("response without empty allowed_mentions.parse: %+v", resp.Data)
		}
		checkLimits(r.t, resp.Data.Content, resp.Data.Embeds)
	}
	r.responses = append(r.responses, resp)
	return nil
}

func (r *responder) EditResponse(_ context.Context, e *discordgo.WebhookEdit) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.responses) == 0 || r.responses[0].Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		r.t.Errorf("edit without a deferred response first")
	}
	if e.AllowedMentions == nil || e.AllowedMentions.Parse == nil || len(e.AllowedMentions.Parse) != 0 {
		r.t.Errorf("edit without empty allowed_mentions.parse")
	}
	var content string
	if e.Content != nil {
		content = *e.Content
	}
	var embeds []*discordgo.MessageEmbed
	if e.Embeds != nil {
		embeds = *e.Embeds
	}
	checkLimits(r.t, content, embeds)
	r.edits = append(r.edits, e)
	return nil
}

// checkLimits fails t when a message breaks one of Discord's limits.
func checkLimits(t testing.TB, content string, embeds []*discordgo.MessageEmbed) {
	t.Helper()
	if n := len([]rune(content)); n > maxContent {
		t.Errorf("content of %d characters", n)
	}
	if len(embeds) > maxEmbeds {
		t.Errorf("%d embeds", len(embeds))
	}
	total := 0
	for _, e := range embeds {
		total += len([]rune(e.Title)) + len([]rune(e.Description))
		if len([]rune(e.Title)) > maxEmbedTitle || len([]rune(e.Description)) > maxEmbedDescription || len(e.Fields) > maxEmbedFields {
			t.Errorf("embed over its limits: title %d, description %d, fields %d", len([]rune(e.Title)), len([]rune(e.Description)), len(e.Fields))
		}
		for _, f := range e.Fields {
			total += len([]rune(f.Name)) + len([]rune(f.Value))
			if len([]rune(f.Name)) > maxFieldName || len([]rune(f.Value)) > maxFieldValue || f.Name == "" || f.Value == "" {
				t.Errorf("field over its limits or empty: %q", f.Name)
			}
		}
		if e.Footer != nil {
			total += len([]rune(e.Footer.Text))
		}
	}
	if total > maxEmbedTotal {
		t.Errorf("embeds total %d characters", total)
	}
}

// text is everything a user would read in the answer, for assertions.
func (r *responder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	add := func(content string, embeds []*discordgo.MessageEmbed) {
		b.WriteString(content + "\n")
		for _, e := range embeds {
			b.WriteString(e.Title + "\n" + e.Description + "\n")
			for _, f := range e.Fields {
				b.WriteString(f.Name + "\n" + f.Value + "\n")
			}
			if e.Footer != nil {
				b.WriteString(e.Footer.Text + "\n")
			}
		}
	}
	for _, resp := range r.responses {
		if resp.Data != nil {
			add(resp.Data.Content, resp.Data.Embeds)
		}
	}
	for _, e := range r.edits {
		var content string
		if e.Content != nil {
			content = *e.Content
		}
		var embeds []*discordgo.MessageEmbed
		if e.Embeds != nil {
			embeds = *e.Embeds
		}
		add(content, embeds)
	}
	return b.String()
}

// ephemeral reports whether the (first) answer is visible to its asker only.
func (r *responder) ephemeral() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.responses) > 0 && r.responses[0].Data != nil && r.responses[0].Data.Flags&discordgo.MessageFlagsEphemeral != 0
}

// panicWatch is a slog handler that remembers whether the handler recovered
// from a panic, which tests treat as a failure.
type panicWatch struct {
	mu       sync.Mutex
	panicked []string
}

func (p *panicWatch) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panicked") {
		p.mu.Lock()
		var v string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "panic" || a.Key == "stack" {
				v += a.Value.String() + "\n"
			}
			return true
		})
		p.panicked = append(p.panicked, v)
		p.mu.Unlock()
	}
	return nil
}
func (p *panicWatch) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicWatch) WithGroup(string) slog.Handler      { return p }

// env is one handler over fresh fakes.
type env struct {
	h      *Handler
	store  *store
	book   *rulebook.Book
	prober *prober
	sched  *scheduler
	panics *panicWatch
	now    time.Time
}

const (
	guildA  = "100000000000000001"
	guildB  = "200000000000000002"
	chanA   = "110000000000000001"
	chanA2  = "110000000000000002"
	chanB   = "220000000000000001"
	userM   = "900000000000000001"
	ownerID = "999999999999999999"
)

// defaultSet builds the default rules: one covered actor and two keyword
// rules, enough vocabulary for the commands without the full config.
func defaultSet(t testing.TB) *rules.Set {
	t.Helper()
	set, err := rules.Compile(rules.Spec{
		Countries: map[string][]string{"RU": {"Russia", "Russian"}, "US": {"United States", "American"}},
		Actors: []rules.ActorSpec{
			{ID: "ru-svr", Country: "RU", Office: "SVR Director", Kind: "intel", Titles: []string{"SVR director"},
				Holders: []rules.HolderSpec{{Name: "Sergei Naryshkin", Aliases: []string{"Naryshkin"}}}},
			{ID: "us-cia", Country: "US", Office: "CIA Director", Kind: "intel", Titles: []string{"CIA director"}},
		},
		Rules: []model.RuleSpec{
			{Name: "summits", Description: "Leaders meeting", Keywords: []string{`summit`, `talks`}},
			{Name: "backchannel-words", Keywords: []string{`back ?channel`}, Exclude: []string{`podcast`}},
		},
	})
	if err != nil {
		t.Fatalf("compile default rules: %v", err)
	}
	return set
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{
		store:  newStore(),
		prober: &prober{feeds: map[string]string{"https://news.example/rss": "Example News"}},
		now:    time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		panics: &panicWatch{},
	}
	e.sched = &scheduler{next: map[int64]time.Time{}, now: e.now}
	e.book = rulebook.NewBook(defaultSet(t), e.store, rulebook.Options{})
	e.store.feeds = []model.Feed{
		{ID: 1, Name: "wire", URL: "https://wire.example/feed", Source: model.SourceConfig, State: model.FeedState{
			LastPoll: e.now.Add(-time.Minute), Status: "ok", ItemsSeen: 42}},
		{ID: 2, Name: "broken", URL: "https://broken.example/feed", Source: model.SourceConfig, State: model.FeedState{
			LastPoll: e.now.Add(-time.Minute), Status: "error", Error: "HTTP 503 Service Unavailable", Failures: 3}},
	}
	e.sched.next[1] = e.now.Add(4 * time.Minute)
	e.sched.next[2] = e.now.Add(4 * time.Minute)
	// Guild A has one story, reported three times by two feeds; guild B
	// an alert stored before stories existed.
	e.store.alerts = []model.Alert{
		{ID: 7, GuildID: guildA, Created: e.now, Story: "s-ankara", StoryReason: "new story: no RU–US meeting story on Mon 14 Nov",
			Article: model.Article{Title: "Spy chiefs hold secret summit", Link: "https://wire.example/a", Feed: "wire", Published: e.now.Add(-3 * time.Hour)},
			Matches: []model.Match{{Rule: "summits", Actors: []model.ActorHit{{ID: "ru-svr", Office: "SVR Director", Country: "RU", Alias: "Naryshkin"}},
				ContactKind: "meeting", ContactTerm: "met", Field: "title", Evidence: "Naryshkin met Burns"}}},
		{ID: 8, GuildID: guildB, Created: e.now, Article: model.Article{Title: "Guild B only summit story", Link: "https://wire.example/b"},
			Matches: []model.Match{{Rule: "summits"}}},
		{ID: 9, GuildID: guildA, Created: e.now, Story: "s-ankara", StoryReason: "joins s-ankara (1 report): RU–US meeting on Mon 14 Nov",
			Article: model.Article{Title: "Naryshkin and Burns held talks in Ankara", Link: "https://tass.example/9", Feed: "TASS", Published: e.now.Add(-2 * time.Hour)},
			Matches: []model.Match{{Rule: "summits", Actors: []model.ActorHit{{ID: "ru-svr", Office: "SVR Director", Country: "RU", Alias: "Naryshkin"}},
				ContactKind: "talks", ContactTerm: "held talks", Field: "title", Evidence: "Naryshkin and Burns held talks"}}},
		{ID: 10, GuildID: guildA, Created: e.now, Story: "s-ankara", StoryReason: "joins s-ankara (2 reports): RU–US meeting on Mon 14 Nov",
			Article: model.Article{Title: "Update: Ankara meeting confirmed", Link: "https://wire.example/c", Feed: "wire", Published: e.now.Add(-time.Hour)},
			Matches: []model.Match{{Rule: "summits"}}},
	}
	e.h = New(Options{
		Subscriptions: e.store, Alerts: e.store, Rules: e.store, Book: e.book,
		Feeds: e.store, Prober: e.prober, Scheduler: e.sched,
		OwnerIDs: []string{ownerID},
		Now:      func() time.Time { return e.now },
		Logger:   slog.New(e.panics),
		Metrics:  metrics.NewUnregistered(),
	})
	return e
}

// run handles i and returns what was answered.
func (e *env) run(t testing.TB, i *discordgo.Interaction) *responder {
	t.Helper()
	r := &responder{t: t}
	e.h.Handle(context.Background(), i, r)
	if len(e.panics.panicked) > 0 {
		t.Fatalf("handler panicked: %s", e.panics.panicked[0])
	}
	return r
}

// Interaction builders.

type opt = *discordgo.ApplicationCommandInteractionDataOption

func str(name, v string) opt {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
}

func num(name string, v float64) opt {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionInteger, Value: v}
}

func chanOpt(name, id string) opt {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionChannel, Value: id}
}

func sub(name string, opts ...opt) opt {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}
}

// who is the invoking member: guild, user id, permissions.
type who struct {
	guild, user string
	perms       int64
}

var (
	memberA = who{guildA, userM, 0}
	mcA     = who{guildA, userM, discordgo.PermissionManageChannels}
	mgA     = who{guildA, userM, discordgo.PermissionManageGuild}
	adminA  = who{guildA, userM, discordgo.PermissionAdministrator}
	ownerA  = who{guildA, ownerID, 0}
	adminB  = who{guildB, userM, discordgo.PermissionAdministrator}
	dm      = who{"", userM, 0}
)

func slash(w who, name string, opts ...opt) *discordgo.Interaction {
	i := &discordgo.Interaction{
		ID: "1", AppID: "app", Token: "tok", Type: discordgo.InteractionApplicationCommand,
		GuildID: w.guild,
		Data:    discordgo.ApplicationCommandInteractionData{Name: name, Options: opts},
	}
	u := &discordgo.User{ID: w.user}
	if w.guild == "" {
		i.User = u
		i.ChannelID = "300000000000000003"
	} else {
		i.Member = &discordgo.Member{User: u, Permissions: w.perms}
		i.ChannelID = chanA
		if w.guild == guildB {
			i.ChannelID = chanB
		}
	}
	return i
}

// withChannel adds a resolved channel, as Discord sends with a channel option.
func withChannel(i *discordgo.Interaction, id string, typ discordgo.ChannelType) *discordgo.Interaction {
	d := i.Data.(discordgo.ApplicationCommandInteractionData)
	d.Resolved = &discordgo.ApplicationCommandInteractionDataResolved{Channels: map[string]*discordgo.Channel{id: {ID: id, Type: typ, Name: "alerts"}}}
	i.Data = d
	return i
}
