package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/backchannel/backchannel/model"
)

// Subscribe adds a subscription and returns true, or returns false when it
// already existed; an existing one takes the new MinSources, and a
// disabled one is re-enabled, since subscribing again is an admin saying
// "the channel works now". MinSources below 1 is stored as 1.
func (db *DB) Subscribe(ctx context.Context, s model.Subscription) (bool, error) {
	if s.GuildID == "" || s.ChannelID == "" {
		return false, errors.New("db: subscribe: guild and channel are required")
	}
	minSources := max(s.MinSources, 1)
	var added bool
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		created := s.Created
		if created.IsZero() {
			created = db.clock()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (guild_id, channel_id, rule, min_sources, created)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, s.GuildID, s.ChannelID, s.Rule, minSources, toMillis(created))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if added = n == 1; added {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET disabled = '', min_sources = ?
			WHERE guild_id = ? AND channel_id = ? AND rule = ?`, minSources, s.GuildID, s.ChannelID, s.Rule)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("db: subscribe channel %s: %w", s.ChannelID, err)
	}
	return added, nil
}

// Unsubscribe removes a subscription; false when there was none. Deliveries
// already queued for the channel are still posted: they were owed when the
// alert was made.
func (db *DB) Unsubscribe(ctx context.Context, guildID, channelID, rule string) (bool, error) {
	var removed bool
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE guild_id = ? AND channel_id = ? AND rule = ?`,
			guildID, channelID, rule)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		removed = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("db: unsubscribe channel %s: %w", channelID, err)
	}
	return removed, nil
}

// Subscriptions returns a guild's subscriptions, disabled ones included, by
// channel then rule.
func (db *DB) Subscriptions(ctx context.Context, guildID string) ([]model.Subscription, error) {
	out, err := db.querySubscriptions(ctx, `WHERE guild_id = ? ORDER BY channel_id, rule`, guildID)
	if err != nil {
		return nil, fmt.Errorf("db: subscriptions of guild %s: %w", guildID, err)
	}
	return out, nil
}

// ActiveSubscriptions returns every guild's subscriptions that are not
// disabled, by guild, channel and rule.
func (db *DB) ActiveSubscriptions(ctx context.Context) ([]model.Subscription, error) {
	out, err := db.querySubscriptions(ctx, `WHERE disabled = '' ORDER BY guild_id, channel_id, rule`)
	if err != nil {
		return nil, fmt.Errorf("db: active subscriptions: %w", err)
	}
	return out, nil
}

func (db *DB) querySubscriptions(ctx context.Context, where string, args ...any) ([]model.Subscription, error) {
	var out []model.Subscription
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`SELECT guild_id, channel_id, rule, disabled, min_sources, created FROM subscriptions `+where, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s model.Subscription
			var created int64
			if err := rows.Scan(&s.GuildID, &s.ChannelID, &s.Rule, &s.Disabled, &s.MinSources, &created); err != nil {
				return err
			}
			s.Created = fromMillis(created)
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// DisableChannel stops posting to a channel Discord refuses (Missing
// Access, Unknown Channel): all the guild's subscriptions for it are marked
// disabled with reason, which /subscriptions and /status show, and its
// pending deliveries fail with that reason, in one transaction so that no
// delivery slips between the two. Subscribe re-enables.
func (db *DB) DisableChannel(ctx context.Context, guildID, channelID, reason string) error {
	if reason == "" {
		reason = "disabled" // the empty string means "not disabled"
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET disabled = ?
			WHERE guild_id = ? AND channel_id = ?`, reason, guildID, channelID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'failed', last_error = ?, finished = ?
			WHERE guild_id = ? AND channel_id = ? AND status = 'pending'`,
			"channel disabled: "+reason, toMillis(db.clock()), guildID, channelID)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: disable channel %s: %w", channelID, err)
	}
	return nil
}
