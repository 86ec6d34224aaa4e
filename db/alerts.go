package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/backchannel/backchannel/model"
)

// Delivery statuses: pending (a post, or with a message id an edit, is
// owed), delivered (the message shows the story as it was last rendered;
// back to pending when the story gains sources), failed (given up for
// good: never posted nor edited again).
const (
	statusPending   = "pending"
	statusDelivered = "delivered"
	statusFailed    = "failed"
)

// Limits on list sizes, so that no caller can make the store load a table.
const (
	defaultList = 5
	maxList     = 100
	maxDue      = 500
	maxTerms    = 16 // search words; more add nothing but cost
)

func clampList(n int) int {
	switch {
	case n <= 0:
		return defaultList
	case n > maxList:
		return maxList
	}
	return n
}

const alertColumns = `a.id, a.guild_id, a.matches, a.created, a.story, a.story_reason,
	r.id, r.feed_id, r.feed, r.guid, r.title, r.summary, r.content, r.link, r.published, r.fetched`

const alertFrom = ` FROM alerts a JOIN articles r ON r.id = a.article_id`

// scanAlert reads alertColumns, after any extra leading destinations.
func scanAlert(row interface{ Scan(...any) error }, extra ...any) (model.Alert, error) {
	var a model.Alert
	var matches string
	var created, published, fetched int64
	var feedID sql.NullInt64
	dest := append(extra,
		&a.ID, &a.GuildID, &matches, &created, &a.Story, &a.StoryReason,
		&a.Article.ID, &feedID, &a.Article.Feed, &a.Article.GUID, &a.Article.Title, &a.Article.Summary,
		&a.Article.Content, &a.Article.Link, &published, &fetched)
	if err := row.Scan(dest...); err != nil {
		return model.Alert{}, err
	}
	if err := json.Unmarshal([]byte(matches), &a.Matches); err != nil {
		return model.Alert{}, fmt.Errorf("alert %d: matches: %w", a.ID, err)
	}
	a.Created = fromMillis(created)
	a.Article.FeedID = feedID.Int64
	a.Article.Published = fromMillis(published)
	a.Article.Fetched = fromMillis(fetched)
	return a, nil
}

// actorKeys returns the folded actor ids ("\nid\n...") and aliases and
// offices ("\ntext\n...") of an alert's matches, for the actor filter.
func actorKeys(ms []model.Match) (ids, text string) {
	var idb, textb strings.Builder
	idb.WriteByte('\n')
	textb.WriteByte('\n')
	for _, m := range ms {
		for _, h := range m.Actors {
			if f := TitleFingerprint(h.ID); f != "" {
				idb.WriteString(f + "\n")
			}
			for _, s := range []string{h.Alias, h.Office} {
				if f := TitleFingerprint(s); f != "" {
					textb.WriteString(f + "\n")
				}
			}
		}
	}
	return idb.String(), textb.String()
}

// CreateAlert records an alert in its story (a.Story; StoryRef of the
// article when empty) and brings the story's deliveries in the guild up to
// date, in one transaction:
//
//   - a channel of routes (one subscription per channel, its MinSources the
//     least of those that routed the alert there) that has no delivery of
//     the story gets one, a post, once at least MinSources different feeds
//     reported the story in the guild; until then it is held back;
//   - every delivery of the story whose message shows fewer sources than
//     the story now has (in a channel not disabled) becomes due for an
//     edit, editDelay from now: the
//     reports that arrive meanwhile are one edit, rendered when it is sent.
//     A delivery still waiting for its post or edit is left as it is: it
//     renders the latest sources when sent.
//
// A delivery's alert is the story's first alert in the guild, the one its
// message shows, so there is one delivery per story and channel. An alert
// for the same guild and article that already exists is returned as it is
// with false, and nothing changes. a.Article.ID must be set (from
// StoreArticles).
func (db *DB) CreateAlert(ctx context.Context, a model.Alert, routes []model.Subscription, editDelay time.Duration) (model.Alert, bool, error) {
	if a.Article.ID == 0 {
		return model.Alert{}, false, errors.New("db: create alert: article has no id (store it first)")
	}
	matches := a.Matches
	if matches == nil {
		matches = []model.Match{}
	}
	mj, err := json.Marshal(matches)
	if err != nil {
		return model.Alert{}, false, fmt.Errorf("db: create alert: matches: %w", err)
	}
	story := a.Story
	if story == "" {
		story = StoryRef(a.Article.ID)
	}
	ids, text := actorKeys(a.Matches)
	var out model.Alert
	created := false
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.clock()
		at := a.Created
		if at.IsZero() {
			at = now
		}
		var earlier sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT min(id) FROM alerts WHERE guild_id = ? AND story = ?`,
			a.GuildID, story).Scan(&earlier); err != nil {
			return err
		}
		reason := guildReason(a.StoryReason, story, earlier.Int64)
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO alerts
			(guild_id, article_id, rule, matches, actor_ids, actor_text, created, story, story_reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (guild_id, article_id) DO NOTHING RETURNING id`,
			a.GuildID, a.Article.ID, a.Rule(), string(mj), ids, text, toMillis(at), story, reason).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			created = false
			out, err = scanAlert(tx.QueryRowContext(ctx,
				`SELECT `+alertColumns+alertFrom+` WHERE a.guild_id = ? AND a.article_id = ?`,
				a.GuildID, a.Article.ID))
			return err
		}
		if err != nil {
			return err
		}
		created = true
		first := id
		if earlier.Valid {
			first = earlier.Int64
		}
		n, err := storySourceCount(ctx, tx, first)
		if err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO deliveries
			(alert_id, guild_id, channel_id, next_attempt, created) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (alert_id, channel_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, r := range routes {
			if r.ChannelID == "" || n < max(r.MinSources, 1) {
				continue
			}
			if _, err := ins.ExecContext(ctx, first, a.GuildID, r.ChannelID, toMillis(now), toMillis(now)); err != nil {
				return fmt.Errorf("delivery to %s: %w", r.ChannelID, err)
			}
		}
		// Not to a channel Discord refused (DisableChannel): the edit
		// would only earn another 403.
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt = ?, attempts = 0, last_error = ''
			WHERE alert_id = ? AND status = 'delivered' AND message_id != '' AND rendered < ?
			AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.guild_id = deliveries.guild_id
				AND s.channel_id = deliveries.channel_id AND s.disabled != '')`,
			toMillis(now.Add(editDelay)), first, n); err != nil {
			return fmt.Errorf("edits: %w", err)
		}
		out, err = scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+alertFrom+` WHERE a.id = ?`, id))
		return err
	})
	if err != nil {
		return model.Alert{}, false, fmt.Errorf("db: create alert for article %d in guild %q: %w", a.Article.ID, a.GuildID, err)
	}
	return out, created, nil
}

// guildReason names the story a report joins as the guild knows it: the
// grouper says "joins a123 (…)", after the story's first report; in a
// guild that has an alert of the story, that is "joins alert 45 (…)", the
// id its messages show.
func guildReason(reason, story string, firstAlert int64) string {
	if firstAlert == 0 {
		return reason
	}
	if rest, ok := strings.CutPrefix(reason, "joins "+story+" "); ok {
		return "joins alert " + strconv.FormatInt(firstAlert, 10) + " " + rest
	}
	return reason
}

// storySourceCount counts the different feeds that reported the story of
// alert id in its guild: the story's sources.
func storySourceCount(ctx context.Context, tx *sql.Tx, alertID int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT r.feed) FROM alerts f
		JOIN alerts x ON x.guild_id = f.guild_id AND x.story = f.story
		JOIN articles r ON r.id = x.article_id
		WHERE f.id = ?`, alertID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sources of alert %d: %w", alertID, err)
	}
	return n, nil
}

// sourceColumns read one report of a story: alert x with its article r.
const sourceColumns = `x.id, r.feed, r.title, r.link, r.published`

// storySources returns the sources of a guild's story: its reports, the
// first first, each feed once (its first report).
func storySources(ctx context.Context, tx *sql.Tx, guildID, story string) ([]model.Source, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+sourceColumns+` FROM alerts x
		JOIN articles r ON r.id = x.article_id
		WHERE x.guild_id = ? AND x.story = ? ORDER BY x.id`, guildID, story)
	if err != nil {
		return nil, fmt.Errorf("sources of story %s: %w", story, err)
	}
	defer rows.Close()
	var out []model.Source
	seen := map[string]bool{}
	for rows.Next() {
		var s model.Source
		var published int64
		if err := rows.Scan(&s.AlertID, &s.Feed, &s.Title, &s.Link, &published); err != nil {
			return nil, fmt.Errorf("sources of story %s: %w", story, err)
		}
		if seen[s.Feed] {
			continue
		}
		seen[s.Feed] = true
		s.Published = fromMillis(published)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sources of story %s: %w", story, err)
	}
	return out, nil
}

// fillSources sets the Sources of each alert, reading each story once.
func fillSources(ctx context.Context, tx *sql.Tx, alerts []*model.Alert) error {
	type key struct{ guild, story string }
	known := map[key][]model.Source{}
	for _, a := range alerts {
		story := a.Story
		if story == "" {
			story = StoryRef(a.Article.ID)
		}
		k := key{a.GuildID, story}
		srcs, ok := known[k]
		if !ok {
			var err error
			if srcs, err = storySources(ctx, tx, a.GuildID, story); err != nil {
				return err
			}
			known[k] = srcs
		}
		a.Sources = slices.Clone(srcs)
	}
	return nil
}

// DueDeliveries returns up to limit pending deliveries with an id above
// after whose next attempt is at or before now, in id order (the order of
// the stories), each with its alert (the story's first in the guild) and
// the story's Sources as they are now. MessageID is set when the delivery
// is an edit. A post to a channel waits while an earlier post to that
// channel waits for its retry, so that a channel gets its stories in
// order. Callers page with after = the last id returned.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, after int64, limit int) ([]model.Delivery, error) {
	if limit <= 0 || limit > maxDue {
		limit = maxDue
	}
	var out []model.Delivery
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.StmtContext(ctx, db.stmts.dueDeliveries).QueryContext(ctx, after, toMillis(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d model.Delivery
			var next int64
			if d.Alert, err = scanAlert(rows, &d.ID, &d.ChannelID, &d.MessageID, &d.Attempts, &next, &d.LastError); err != nil {
				return err
			}
			d.NextAttempt = fromMillis(next)
			d.Nonce = db.nonce(d.ID)
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		alerts := make([]*model.Alert, len(out))
		for i := range out {
			alerts[i] = &out[i].Alert
		}
		return fillSources(ctx, tx, alerts)
	})
	if err != nil {
		return nil, fmt.Errorf("db: due deliveries: %w", err)
	}
	return out, nil
}

// dueDeliveriesSQL: pending deliveries due at ?2 after id ?1, at most ?3,
// in id order, leaving out a channel's new post while an earlier new post
// to it waits for its retry (order within a channel is the order of the
// stories). Prepared once (stmts.go): the outbox runs it every round.
const dueDeliveriesSQL = `SELECT d.id, d.channel_id, d.message_id, d.attempts, d.next_attempt, d.last_error, ` +
	alertColumns + ` FROM deliveries d
	JOIN alerts a ON a.id = d.alert_id
	JOIN articles r ON r.id = a.article_id
	WHERE d.status = 'pending' AND d.id > ?1 AND d.next_attempt <= ?2
	AND (d.message_id != '' OR NOT EXISTS (SELECT 1 FROM deliveries e
		WHERE e.guild_id = d.guild_id AND e.channel_id = d.channel_id AND e.status = 'pending'
		AND e.message_id = '' AND e.id < d.id AND e.next_attempt > ?2))
	ORDER BY d.id LIMIT ?3`

// nextDueSQL: when the earliest pending delivery is due.
const nextDueSQL = `SELECT min(next_attempt) FROM deliveries WHERE status = 'pending'`

// NextDue returns when the earliest pending delivery is due (possibly in
// the past), and false when none is pending. The outbox sleeps until then
// instead of asking for due deliveries every few seconds.
func (db *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := db.stmts.nextDue.QueryRowContext(ctx).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("db: next due delivery: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromMillis(next.Int64), true, nil
}

// MarkDelivered records that Discord shows d as messageID: posted, or
// edited. What d rendered (its Alert's Sources) is remembered; when the
// story has gained sources since d was read, the delivery stays pending,
// due now, for an edit. It applies whatever the delivery's state: the
// message exists either way.
func (db *DB) MarkDelivered(ctx context.Context, d model.Delivery, messageID string) error {
	rendered := max(len(d.Alert.Sources), 1)
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var alertID int64
		if err := tx.QueryRowContext(ctx, `SELECT alert_id FROM deliveries WHERE id = ?`, d.ID).Scan(&alertID); err != nil {
			return notFound(err)
		}
		n, err := storySourceCount(ctx, tx, alertID)
		if err != nil {
			return err
		}
		now := toMillis(db.clock())
		if n > rendered {
			_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', message_id = ?, rendered = ?,
				attempts = 0, last_error = '', next_attempt = ? WHERE id = ?`, messageID, rendered, now, d.ID)
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'delivered', message_id = ?, rendered = ?,
			attempts = 0, last_error = '', finished = ? WHERE id = ?`, messageID, rendered, now, d.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: mark delivery %d delivered: %w", d.ID, err)
	}
	return nil
}

// sendingNote is the last_error of an edit sent whose outcome is not yet
// recorded: found on a pending delivery, the bot stopped meanwhile.
const sendingNote = "edit sent; its outcome not recorded"

// MarkSending notes, before an edit is sent, that its outcome is unknown
// until MarkDelivered, MarkRetry or MarkFailed records it: should the bot
// stop first, the delivery comes back from DueDeliveries at settled (by
// when the edit has reached Discord or never will) with that LastError,
// so the outbox checks the message before editing it again. A delivery
// no longer pending is left alone.
func (db *DB) MarkSending(ctx context.Context, id int64, settled time.Time) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET last_error = ?, next_attempt = ? WHERE id = ? AND status = 'pending'`,
			sendingNote, toMillis(settled), id)
		return pendingAffected(ctx, tx, id, res, err)
	})
	if err != nil {
		return fmt.Errorf("db: mark delivery %d sending: %w", id, err)
	}
	return nil
}

// MarkRetry counts a failed attempt and schedules the next one. A delivery
// no longer pending (delivered, or failed by DisableChannel meanwhile) is
// left alone.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET attempts = attempts + 1,
			next_attempt = ?, last_error = ? WHERE id = ? AND status = 'pending'`,
			toMillis(next), reason, id)
		return pendingAffected(ctx, tx, id, res, err)
	})
	if err != nil {
		return fmt.Errorf("db: mark delivery %d for retry: %w", id, err)
	}
	return nil
}

// MarkFailed gives a delivery up for good. A delivery no longer pending is
// left alone (a delivered one stays delivered).
func (db *DB) MarkFailed(ctx context.Context, id int64, reason string) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'failed', attempts = attempts + 1,
			last_error = ?, finished = ? WHERE id = ? AND status = 'pending'`,
			reason, toMillis(db.clock()), id)
		return pendingAffected(ctx, tx, id, res, err)
	})
	if err != nil {
		return fmt.Errorf("db: mark delivery %d failed: %w", id, err)
	}
	return nil
}

// affected turns "no row changed" into model.ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return model.ErrNotFound
	}
	return nil
}

// pendingAffected is affected for updates limited to pending deliveries:
// no change is fine when the delivery exists but has left pending.
func pendingAffected(ctx context.Context, tx *sql.Tx, id int64, res sql.Result, err error) error {
	if err := affected(res, err); !errors.Is(err, model.ErrNotFound) {
		return err
	}
	var one int
	return notFound(tx.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE id = ?`, id).Scan(&one))
}

// QueueDepth returns the number of pending deliveries (due or not).
func (db *DB) QueueDepth(ctx context.Context) (int, error) {
	var n int
	if err := db.reader.QueryRowContext(ctx,
		`SELECT count(*) FROM deliveries WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: queue depth: %w", err)
	}
	return n, nil
}

// Alert returns one of guildID's alerts, any report of a story (the
// footer's id is the story's first), with its story's Sources. Another
// guild's alert is model.ErrNotFound, exactly like a missing one.
func (db *DB) Alert(ctx context.Context, guildID string, id int64) (model.Alert, error) {
	var out model.Alert
	err := db.read(ctx, func(tx *sql.Tx) (err error) {
		out, err = scanAlert(tx.QueryRowContext(ctx,
			`SELECT `+alertColumns+alertFrom+` WHERE a.id = ? AND a.guild_id = ?`, id, guildID))
		if err != nil {
			return notFound(err)
		}
		return fillSources(ctx, tx, []*model.Alert{&out})
	})
	if err != nil {
		return model.Alert{}, fmt.Errorf("db: alert %d: %w", id, err)
	}
	return out, nil
}

// LatestAlerts returns guildID's n most recent stories, newest first, each
// as its first alert with the story's Sources. When actor is not empty only
// stories with a report naming that actor count: its id (exactly), or a
// part of the alias or office as written (case-insensitively).
func (db *DB) LatestAlerts(ctx context.Context, guildID, actor string, n int) ([]model.Alert, error) {
	n = clampList(n)
	q := `SELECT ` + alertColumns + alertFrom + ` WHERE a.guild_id = ?
		AND NOT EXISTS (SELECT 1 FROM alerts b WHERE b.guild_id = a.guild_id AND b.story = a.story AND b.id < a.id)`
	args := []any{guildID}
	if f := TitleFingerprint(actor); f != "" {
		q += ` AND EXISTS (SELECT 1 FROM alerts c WHERE c.guild_id = a.guild_id AND c.story = a.story
			AND (instr(c.actor_ids, ?) > 0 OR instr(c.actor_text, ?) > 0))`
		args = append(args, "\n"+f+"\n", f)
	}
	q += ` ORDER BY a.id DESC LIMIT ?`
	args = append(args, n)
	var out []model.Alert
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		if out, err = queryAlertsTx(ctx, tx, q, args...); err != nil {
			return err
		}
		alerts := make([]*model.Alert, len(out))
		for i := range out {
			alerts[i] = &out[i]
		}
		return fillSources(ctx, tx, alerts)
	})
	if err != nil {
		return nil, fmt.Errorf("db: latest alerts: %w", err)
	}
	return out, nil
}

// SearchAlerts returns guildID's alerts whose article title or summary
// contains every word of query (as a word prefix, diacritics and case
// ignored), newest first. query is plain words, not FTS syntax: quotes,
// operators and other punctuation are treated as separators, so no input
// can make the search fail. A query without words finds nothing.
func (db *DB) SearchAlerts(ctx context.Context, guildID, query string, n int) ([]model.Alert, error) {
	n = clampList(n)
	match := ftsQuery(query)
	if match == "" {
		return nil, nil
	}
	out, err := db.queryAlerts(ctx, `SELECT `+alertColumns+` FROM alerts_fts f
		JOIN alerts a ON a.id = f.rowid
		JOIN articles r ON r.id = a.article_id
		WHERE alerts_fts MATCH ? AND a.guild_id = ?
		ORDER BY f.rowid DESC LIMIT ?`, match, guildID, n)
	if err != nil {
		return nil, fmt.Errorf("db: search alerts: %w", err)
	}
	return out, nil
}

// ftsQuery turns user text into an FTS5 query that cannot be a syntax
// error: each run of letters and digits becomes a quoted prefix term
// ("word"*), and terms are ANDed. Letters and digits never include '"', so
// quoting needs no escaping. "AND", "NEAR" or "*" in the input become an
// ordinary word or nothing.
func ftsQuery(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
	if len(words) > maxTerms {
		words = words[:maxTerms]
	}
	terms := make([]string, 0, len(words))
	for _, w := range words {
		terms = append(terms, `"`+w+`"*`)
	}
	return strings.Join(terms, " ")
}

func (db *DB) queryAlerts(ctx context.Context, q string, args ...any) ([]model.Alert, error) {
	var out []model.Alert
	err := db.read(ctx, func(tx *sql.Tx) (err error) {
		out, err = queryAlertsTx(ctx, tx, q, args...)
		return err
	})
	return out, err
}

func queryAlertsTx(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]model.Alert, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
