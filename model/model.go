// Package model holds backchannel's domain: the feeds it polls, the
// articles they carry, the alerts its rules raise and the deliveries that
// post them, with the sentinel errors every store returns. It imports
// nothing of the project but plaintext (text helpers that import nothing of
// the project either), so every other package can name a feed or an alert
// without depending on the matcher, the store or Discord.
package model

import (
	"cmp"
	"errors"
	"strings"
	"time"

	"github.com/backchannel/backchannel/plaintext"
)

// ErrNotFound is returned by stores when the named thing does not exist (or
// belongs to another guild, which callers must not be able to tell apart).
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned by stores when a unique name or key is taken.
var ErrDuplicate = errors.New("already exists")

// Article is one feed item as stored.
type Article struct {
	ID        int64     `json:"-"`
	FeedID    int64     `json:"-"`
	Feed      string    `json:"feed,omitempty"` // feed name, for display
	GUID      string    `json:"guid,omitempty"`
	Title     string    `json:"title"`
	Summary   string    `json:"summary,omitempty"`
	Content   string    `json:"content,omitempty"`
	Link      string    `json:"link,omitempty"`
	Published time.Time `json:"published,omitempty"` // zero when the feed gave no date
	Fetched   time.Time `json:"-"`
	// Backlog: the article came with its feed's first successful fetch, so
	// it is the feed's back catalogue rather than news.
	Backlog bool `json:"-"`
	// KeysOnly: the article could not alert when it was polled (CanAlert),
	// so the store keeps only its de-duplication keys. Nothing reads the
	// text of an article that never alerted, and more than half of a first
	// fetch is older than poll.max_age.
	KeysOnly bool `json:"-"`
}

// CanAlert reports whether the article may alert at all: an item published
// more than maxAge before now never does (zero maxAge: no limit), and an
// undated item of a feed's back catalogue does not either, so adding a feed
// never floods channels with old news.
func (a Article) CanAlert(maxAge time.Duration, now time.Time) bool {
	if a.Published.IsZero() {
		return !a.Backlog
	}
	return maxAge <= 0 || now.Sub(a.Published) <= maxAge
}

// ActorHit is one actor found in a text.
type ActorHit struct {
	ID      string `json:"id"`      // actor id from the rules, e.g. "ru-svr"
	Office  string `json:"office"`  // e.g. "SVR Director"
	Country string `json:"country"` // ISO-like country code, e.g. "RU"
	Kind    string `json:"kind"`    // "intel" or "diplomatic"
	Alias   string `json:"alias"`   // the text that matched, as written in the article
	// Role: the office was named by its title alone ("spy chief",
	// "counterpart") and its Country read from the words around it, so
	// Alias only repeats the title and the country is what tells who it was.
	Role bool `json:"role,omitempty"`
}

// Match is one rule firing on an article, with everything needed to explain it.
type Match struct {
	Rule        string     `json:"rule"`
	Actors      []ActorHit `json:"actors,omitempty"`
	ContactKind string     `json:"contact_kind,omitempty"` // meeting, call, talks, visit, letter, channel, planned, appearance
	ContactTerm string     `json:"contact_term,omitempty"` // the contact words as written
	Keywords    []string   `json:"keywords,omitempty"`     // for keyword rules: the patterns that matched
	Field       string     `json:"field,omitempty"`        // title, summary or content
	Evidence    string     `json:"evidence,omitempty"`     // the sentence or span that fired
}

// Alert is an article matched by a guild's rules. GuildID is empty for the
// configured default rules when no guild is involved (dry run).
//
// Reports of one contact event from many outlets are one story: every
// alert carries its story, and the alert that began the story is the one
// a channel's message shows (footer id and rule), edited as Sources grow.
type Alert struct {
	ID      int64     `json:"id"`
	GuildID string    `json:"guild_id"`
	Article Article   `json:"article"`
	Matches []Match   `json:"matches"` // Matches[0] is the rule named in the footer
	Created time.Time `json:"created"`
	// Story is the id of the contact event this report belongs to; empty
	// when the alert has none (stored before stories existed).
	Story string `json:"story,omitempty"`
	// StoryReason says why the report joined its story or began one.
	StoryReason string `json:"story_reason,omitempty"`
	// Sources are the story's reports, the first report first, each feed
	// once. Stores fill it where a caller shows the story (a delivery,
	// /latest, /explain); elsewhere it may be empty.
	Sources []Source `json:"sources,omitempty"`
}

// Source is one outlet's report of a story.
type Source struct {
	AlertID   int64     `json:"alert_id"`
	Feed      string    `json:"feed"` // the feed's name
	Title     string    `json:"title"`
	Link      string    `json:"link"`
	Published time.Time `json:"published"`
}

// Rule returns the name of the rule that fired first.
func (a Alert) Rule() string {
	if len(a.Matches) == 0 {
		return ""
	}
	return a.Matches[0].Rule
}

// Subscription routes a guild's alerts (all, or one rule's) to a channel.
type Subscription struct {
	GuildID   string `json:"guild_id"`
	ChannelID string `json:"channel_id"`
	Rule      string `json:"rule,omitempty"`     // empty: every rule
	Disabled  string `json:"disabled,omitempty"` // non-empty: why posting stopped (e.g. Missing Access)
	// MinSources holds a story back from this channel until that many
	// different feeds reported it (1, or 0 meaning 1: post the first report).
	MinSources int       `json:"min_sources,omitempty"`
	Created    time.Time `json:"created"`
}

// Matches reports whether an alert fired by rule should go through s.
func (s Subscription) Matches(rule string) bool {
	return s.Disabled == "" && (s.Rule == "" || s.Rule == rule)
}

// Delivery is one story owed to one channel: a row of the outbox. Alert
// is the story's first alert with Sources filled as they are when the
// delivery is sent, so a post made late (min_sources) or an edit shows
// every report so far.
type Delivery struct {
	ID          int64
	Alert       Alert
	ChannelID   string
	MessageID   string // the message to edit; empty for a post
	Nonce       string // at most 25 characters, stable for this alert and channel
	Attempts    int
	NextAttempt time.Time
	LastError   string
}

// Feed is a polled source. Feeds are shared by all guilds.
type Feed struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	URL      string     `json:"url"`
	Schedule string     `json:"schedule,omitempty"` // cron spec; empty: the default
	Source   FeedSource `json:"source"`
	State    FeedState  `json:"state"`
}

// FeedState is what the poller remembers about a feed between polls.
type FeedState struct {
	LastPoll     time.Time  `json:"last_poll"`    // zero: never polled
	LastSuccess  time.Time  `json:"last_success"` // zero: never fetched successfully
	NextPoll     time.Time  `json:"next_poll"`    // earliest next poll (backoff)
	Status       FeedStatus `json:"status"`
	Error        string     `json:"error,omitempty"`
	ETag         string     `json:"etag,omitempty"`
	LastModified string     `json:"last_modified,omitempty"`
	ItemsSeen    int64      `json:"items_seen"` // items stored from this feed, all time
	Failures     int        `json:"failures"`   // consecutive failures, for backoff
}

// RuleSpec is one rule as written in the configuration or by /rules add. It
// is stored as JSON for guild overrides, so fields keep their json names.
type RuleSpec struct {
	Name        string `toml:"name" json:"name"`
	Description string `toml:"description" json:"description,omitempty"`
	// Keywords: at least one of these RE2 patterns (case-insensitive) must
	// match the title, summary or content.
	Keywords []string `toml:"keywords" json:"keywords,omitempty"`
	// Exclude: no item matching any of these RE2 patterns fires the rule.
	Exclude []string `toml:"exclude" json:"exclude,omitempty"`
	// Actors: when set, at least one of these actor ids must be found too.
	Actors []string `toml:"actors" json:"actors,omitempty"`
	// The contact-rule fields below are read by the rules package, which
	// documents them with the rest of its vocabulary.

	// Contact makes this a contact rule: it fires when two covered actors
	// of different countries (or one multi-country group of them) appear
	// close to a contact term that is not negated. Keywords, Exclude and
	// Actors then narrow it further.
	Contact bool `toml:"contact" json:"contact,omitempty"`
	// Kinds: the actor kinds ("intel", "diplomatic") that may take part in
	// a contact. Empty: any kind.
	Kinds []string `toml:"kinds" json:"kinds,omitempty"`
	// RequireKinds: at least one participant must be of one of these kinds.
	// Empty: no requirement.
	RequireKinds []string `toml:"require_kinds" json:"require_kinds,omitempty"`
	// ContactKinds: the contact kinds that count (meeting, call, talks,
	// visit, letter, channel, planned, appearance). Empty: all.
	ContactKinds []string `toml:"contact_kinds" json:"contact_kinds,omitempty"`
	// Window: at most this many words from the first to the last of the two
	// actors and the contact term. 0: rules.contact.window.
	Window int `toml:"window" json:"window,omitempty"`
	// Fields: where keywords and excludes are looked for (title, summary,
	// content). Empty: all three.
	Fields []string `toml:"fields" json:"fields,omitempty"`
}

// Override is a guild's change to the default rules: Rule replaces or adds
// the rule called Name; a nil Rule removes it for that guild.
type Override struct {
	Name string
	Rule *RuleSpec
}

// FeedSource says where a feed came from, which decides whether it is
// trusted (may reach private networks) and who may remove it.
type FeedSource string

const (
	// SourceConfig: written in the configuration file; trusted.
	SourceConfig FeedSource = "config"
	// SourceAdmin: added by an owner with /feeds add; fetched through the
	// private-network guard unless poll.allow_private_networks is set.
	SourceAdmin FeedSource = "admin"
)

// Trusted reports whether feeds of this source may reach any address.
func (s FeedSource) Trusted() bool { return s == SourceConfig }

// FeedStatus is the result of a feed's last poll.
type FeedStatus string

const (
	StatusUnknown     FeedStatus = ""             // never polled
	StatusOK          FeedStatus = "ok"           // fetched and parsed
	StatusNotModified FeedStatus = "not modified" // 304, or the same body
	StatusError       FeedStatus = "error"        // see FeedState.Error
)

// Who says who met whom, e.g. "CIA Director (Burns) ↔ SVR Director
// (Naryshkin)", or for roles "Russia's intelligence chief ↔ Egypt's
// counterpart". An actor appears once even when several of its aliases
// matched; white space is collapsed so feed text cannot break the layout.
func (m Match) Who() string {
	var parts []string
	seen := map[string]bool{}
	for _, h := range m.Actors {
		key := h.ID
		if key == "" {
			key = h.Office + "\x00" + h.Alias
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		office, alias := plaintext.OneLine(h.Office), plaintext.OneLine(h.Alias)
		switch {
		case h.Role && h.Country != "":
			parts = append(parts, CountryPossessive(h.Country)+" "+cmp.Or(office, alias))
		case office == "":
			parts = append(parts, alias)
		case alias == "" || strings.EqualFold(alias, office):
			parts = append(parts, office)
		default:
			parts = append(parts, office+" ("+alias+")")
		}
	}
	return strings.Join(parts, " ↔ ")
}

// How says what kind of contact it was and the words that said so, e.g.
// "meeting (met in Ankara)".
func (m Match) How() string {
	kind, term := plaintext.OneLine(m.ContactKind), plaintext.OneLine(m.ContactTerm)
	switch {
	case kind == "":
		return term
	case term == "" || strings.EqualFold(kind, term):
		return kind
	}
	return kind + " (" + term + ")"
}
