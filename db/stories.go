package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/stories"
)

// StoryRef is the story id of an article's report as the bot names it: "a"
// and the article id. Articles are shared by all guilds, so the id is the
// same in every guild; an alert recorded without a story gets its
// article's (a story of its own).
func StoryRef(articleID int64) string { return "a" + strconv.FormatInt(articleID, 10) }

// StoryIndex is the SQLite stories.Index: the stories as JSON rows, found
// through postings keyed by (key, first day) — see 0004_stories.sql — so
// that a report's candidates are a range lookup among the stories of its
// countries around its days, not a scan.
type StoryIndex struct {
	db *DB

	// lookup is the candidates query, prepared once: preparing it costs
	// more than running it.
	prepare sync.Once
	lookup  *sql.Stmt
	err     error
}

var _ stories.Index = (*StoryIndex)(nil)

// StoryIndex returns an index over the store's stories.
func (db *DB) StoryIndex() *StoryIndex { return &StoryIndex{db: db} }

// Put implements stories.Index.
func (x *StoryIndex) Put(ctx context.Context, s stories.Story) error {
	err := x.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return putStory(ctx, tx, s, 0, x.db.clock().UnixMilli()) })
	if err != nil {
		return fmt.Errorf("db: put story %s: %w", s.ID, err)
	}
	return nil
}

// putStory stores s and the postings it lacks. first, when not 0, is the
// article of the story's first report, recorded when the story is new.
func putStory(ctx context.Context, tx *sql.Tx, s stories.Story, first int64, now int64) error {
	if s.ID == "" {
		return errors.New("story without an id")
	}
	state, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	var article any
	if first != 0 {
		article = first
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO stories (id, state, article_id, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated = excluded.updated`,
		s.ID, string(state), article, now); err != nil {
		return err
	}
	posted, err := postingsOf(ctx, tx, s.ID)
	if err != nil {
		return err
	}
	for _, key := range s.Keys() {
		for _, sp := range s.When {
			if covered(posted[key], sp) {
				continue
			}
			posted[key] = append(posted[key], sp)
			if _, err := tx.ExecContext(ctx, `INSERT INTO story_postings (key, day_from, day_to, story)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, key, sp.From, sp.To, s.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO story_keys (key, max_len) VALUES (?, ?)
				ON CONFLICT (key) DO UPDATE SET max_len = max(max_len, excluded.max_len)`, key, sp.To-sp.From); err != nil {
				return err
			}
		}
	}
	return nil
}

// postingsOf returns the spans posted for a story, by key.
func postingsOf(ctx context.Context, tx *sql.Tx, id string) (map[string][]stories.Span, error) {
	rows, err := tx.QueryContext(ctx, `SELECT key, day_from, day_to FROM story_postings WHERE story = ?`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]stories.Span{}
	for rows.Next() {
		var key string
		var sp stories.Span
		if err := rows.Scan(&key, &sp.From, &sp.To); err != nil {
			return nil, err
		}
		out[key] = append(out[key], sp)
	}
	return out, rows.Err()
}

func covered(spans []stories.Span, sp stories.Span) bool {
	for _, x := range spans {
		if x.From <= sp.From && sp.To <= x.To {
			return true
		}
	}
	return false
}

// candidatesQuery: the postings under key ?1 that start at most the key's
// longest span before the days [?2, ?3] and no later than ?3, and end on
// or after ?2, with their stories.
const candidatesQuery = `SELECT s.id, s.state FROM story_keys k
	JOIN story_postings p ON p.key = k.key AND p.day_from BETWEEN ?2 - k.max_len AND ?3
	JOIN stories s ON s.id = p.story
	WHERE k.key = ?1 AND p.day_to >= ?2`

// Candidates implements stories.Index: for each key and span, the stories
// posted under the key over those days, each once.
func (x *StoryIndex) Candidates(ctx context.Context, q stories.Query) ([]stories.Story, error) {
	x.prepare.Do(func() { x.lookup, x.err = x.db.reader.PrepareContext(ctx, candidatesQuery) })
	if x.err != nil {
		return nil, fmt.Errorf("db: story candidates: %w", x.err)
	}
	var out []stories.Story
	seen := map[string]bool{}
	for _, key := range q.Keys {
		for _, w := range q.When {
			if err := x.candidates(ctx, key, w, seen, &out); err != nil {
				return nil, fmt.Errorf("db: story candidates under %s: %w", key, err)
			}
		}
	}
	return out, nil
}

func (x *StoryIndex) candidates(ctx context.Context, key string, w stories.Span, seen map[string]bool, out *[]stories.Story) error {
	rows, err := x.lookup.QueryContext(ctx, key, w.From, w.To)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var state []byte
		if err := rows.Scan(&id, &state); err != nil {
			return err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		var s stories.Story
		if err := json.Unmarshal(state, &s); err != nil {
			return fmt.Errorf("story %s: decode: %w", id, err)
		}
		*out = append(*out, s)
	}
	return rows.Err()
}

// ArticleStory returns the story an article was put in and why; found is
// false when it has none yet.
func (db *DB) ArticleStory(ctx context.Context, articleID int64) (story, reason string, found bool, err error) {
	err = db.reader.QueryRowContext(ctx, `SELECT story, reason FROM article_stories WHERE article_id = ?`,
		articleID).Scan(&story, &reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", false, nil
	case err != nil:
		return "", "", false, fmt.Errorf("db: story of article %d: %w", articleID, err)
	}
	return story, reason, true, nil
}

// SaveStory records that article articleID is a report of d.Story, for
// d.Reason, and stores the story in its new state, in one transaction: a
// crash leaves either both or neither, so a retried dispatch neither loses
// the article's story nor counts the report twice. An article that has a
// story already keeps it (false is returned and nothing changes).
func (db *DB) SaveStory(ctx context.Context, articleID int64, d stories.Decision) (bool, error) {
	saved := false
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO article_stories (article_id, story, reason) VALUES (?, ?, ?)
			ON CONFLICT (article_id) DO NOTHING`, articleID, d.Story.ID, d.Reason)
		if err := affected(res, err); err != nil {
			if errors.Is(err, model.ErrNotFound) {
				return nil // already placed
			}
			return err
		}
		saved = true
		var first int64
		if d.New {
			first = articleID
		}
		return putStory(ctx, tx, d.Story, first, db.clock().UnixMilli())
	})
	if err != nil {
		return false, fmt.Errorf("db: save story %s of article %d: %w", d.Story.ID, articleID, err)
	}
	return saved, nil
}
