package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/backchannel/backchannel/model"
)

// GuildOverrides returns a guild's changes to the default rules, by name. A
// removed rule comes back as an Override with a nil Rule (a tombstone).
func (db *DB) GuildOverrides(ctx context.Context, guildID string) ([]model.Override, error) {
	var out []model.Override
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`SELECT name, spec FROM guild_rules WHERE guild_id = ? ORDER BY name`, guildID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o model.Override
			var spec sql.NullString
			if err := rows.Scan(&o.Name, &spec); err != nil {
				return err
			}
			if spec.Valid {
				o.Rule = new(model.RuleSpec)
				if err := json.Unmarshal([]byte(spec.String), o.Rule); err != nil {
					return fmt.Errorf("rule %q: %w", o.Name, err)
				}
			}
			out = append(out, o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: overrides of guild %s: %w", guildID, err)
	}
	return out, nil
}

// PutGuildRule saves r as the guild's version of the rule r.Name, replacing
// an earlier version or tombstone. The caller validates r first.
func (db *DB) PutGuildRule(ctx context.Context, guildID string, r model.RuleSpec) error {
	if r.Name == "" {
		return errors.New("db: put guild rule: rule has no name")
	}
	spec, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("db: put guild rule %q: %w", r.Name, err)
	}
	return db.putOverride(ctx, guildID, r.Name, sql.NullString{String: string(spec), Valid: true})
}

// RemoveGuildRule writes a tombstone for name, so that a default rule is
// removed for this guild alone (and a guild-added one is gone).
func (db *DB) RemoveGuildRule(ctx context.Context, guildID, name string) error {
	if name == "" {
		return errors.New("db: remove guild rule: no name")
	}
	return db.putOverride(ctx, guildID, name, sql.NullString{})
}

func (db *DB) putOverride(ctx context.Context, guildID, name string, spec sql.NullString) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO guild_rules (guild_id, name, spec, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (guild_id, name) DO UPDATE SET spec = excluded.spec, updated = excluded.updated`,
			guildID, name, spec, toMillis(db.clock()))
		return err
	})
	if err != nil {
		return fmt.Errorf("db: save rule %q of guild %s: %w", name, guildID, err)
	}
	return nil
}
