package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/backchannel/backchannel/model"
)

// Delivery statuses. A delivery leaves pending exactly once.
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

const alertColumns = `a.id, a.guild_id, a.matches, a.created,
	r.id, r.feed_id, r.feed, r.guid, r.title, r.summary, r.content, r.link, r.published, r.fetched`

const alertFrom = ` FROM alerts a JOIN articles r ON r.id = a.article_id`

// scanAlert reads alertColumns, after any extra leading destinations.
func scanAlert(row interface{ Scan(...any) error }, extra ...any) (model.Alert, error) {
	var a model.Alert
	var matches string
	var created, published, fetched int64
	var feedID sql.NullInt64
	dest := append(extra,
		&a.ID, &a.GuildID, &matches, &created,
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

// CreateAlert records an alert and one pending delivery per channel in one
// transaction, so an alert is never without its deliveries nor the other
// way round. An alert for the same guild and article that already exists is
// returned as it is with false, and no delivery is added: the story was
// already sent (or is queued) for that guild. a.Article.ID must be set (from
// StoreArticles).
func (db *DB) CreateAlert(ctx context.Context, a model.Alert, channels []string) (model.Alert, bool, error) {
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
	ids, text := actorKeys(a.Matches)
	var out model.Alert
	created := false
	err = db.write(ctx, func(tx *sql.Tx) error {
		now := db.clock()
		at := a.Created
		if at.IsZero() {
			at = now
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO alerts
			(guild_id, article_id, rule, matches, actor_ids, actor_text, created)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (guild_id, article_id) DO NOTHING RETURNING id`,
			a.GuildID, a.Article.ID, a.Rule(), string(mj), ids, text, toMillis(at)).Scan(&id)
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
		ins, err := tx.PrepareContext(ctx, `INSERT INTO deliveries
			(alert_id, guild_id, channel_id, next_attempt, created) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (alert_id, channel_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, ch := range channels {
			if ch == "" {
				continue
			}
			if _, err := ins.ExecContext(ctx, id, a.GuildID, ch, toMillis(now), toMillis(now)); err != nil {
				return fmt.Errorf("delivery to %s: %w", ch, err)
			}
		}
		out, err = scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+alertFrom+` WHERE a.id = ?`, id))
		return err
	})
	if err != nil {
		return model.Alert{}, false, fmt.Errorf("db: create alert for article %d in guild %q: %w", a.Article.ID, a.GuildID, err)
	}
	return out, created, nil
}

// DueDeliveries returns up to limit pending deliveries whose next attempt is
// at or before now, longest-due first (creation order among equals), each
// with its alert and article.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]model.Delivery, error) {
	if limit <= 0 || limit > maxDue {
		limit = maxDue
	}
	var out []model.Delivery
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.channel_id, d.attempts, d.next_attempt, d.last_error, `+
			alertColumns+` FROM deliveries d
			JOIN alerts a ON a.id = d.alert_id
			JOIN articles r ON r.id = a.article_id
			WHERE d.status = 'pending' AND d.next_attempt <= ?
			ORDER BY d.next_attempt, d.id LIMIT ?`, toMillis(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d model.Delivery
			var next int64
			if d.Alert, err = scanAlert(rows, &d.ID, &d.ChannelID, &d.Attempts, &next, &d.LastError); err != nil {
				return err
			}
			d.NextAttempt = fromMillis(next)
			d.Nonce = db.nonce(d.ID)
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: due deliveries: %w", err)
	}
	return out, nil
}

// MarkDelivered records that Discord accepted delivery id as messageID. It
// applies whatever the delivery's state: the message exists either way.
func (db *DB) MarkDelivered(ctx context.Context, id int64, messageID string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'delivered', message_id = ?,
			attempts = attempts + 1, last_error = '', finished = ? WHERE id = ?`,
			messageID, toMillis(db.clock()), id)
		return affected(res, err)
	})
	if err != nil {
		return fmt.Errorf("db: mark delivery %d delivered: %w", id, err)
	}
	return nil
}

// MarkRetry counts a failed attempt and schedules the next one. A delivery
// no longer pending (delivered, or failed by DisableChannel meanwhile) is
// left alone.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
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
	err := db.write(ctx, func(tx *sql.Tx) error {
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

// Alert returns one of guildID's alerts. Another guild's alert is
// model.ErrNotFound, exactly like a missing one.
func (db *DB) Alert(ctx context.Context, guildID string, id int64) (model.Alert, error) {
	var out model.Alert
	err := db.read(ctx, func(tx *sql.Tx) (err error) {
		out, err = scanAlert(tx.QueryRowContext(ctx,
			`SELECT `+alertColumns+alertFrom+` WHERE a.id = ? AND a.guild_id = ?`, id, guildID))
		return notFound(err)
	})
	if err != nil {
		return model.Alert{}, fmt.Errorf("db: alert %d: %w", id, err)
	}
	return out, nil
}

// LatestAlerts returns guildID's n most recent alerts, newest first. When
// actor is not empty only alerts naming that actor count: its id (exactly),
// or a part of the alias or office as written (case-insensitively).
func (db *DB) LatestAlerts(ctx context.Context, guildID, actor string, n int) ([]model.Alert, error) {
	n = clampList(n)
	q := `SELECT ` + alertColumns + alertFrom + ` WHERE a.guild_id = ?`
	args := []any{guildID}
	if f := TitleFingerprint(actor); f != "" {
		q += ` AND (instr(a.actor_ids, ?) > 0 OR instr(a.actor_text, ?) > 0)`
		args = append(args, "\n"+f+"\n", f)
	}
	q += ` ORDER BY a.id DESC LIMIT ?`
	args = append(args, n)
	out, err := db.queryAlerts(ctx, q, args...)
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
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAlert(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}
