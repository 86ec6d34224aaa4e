-- 0001: the initial schema. Times are INTEGER Unix milliseconds in UTC, 0
-- meaning "never/unknown", so that comparisons and indexes are numeric and
-- independent of any driver's time formatting.

-- meta holds single values owned by the database itself, such as the random
-- instance id that delivery nonces are derived from.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE feeds (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    url      TEXT NOT NULL,
    -- url_key is the normalized URL, so that the same feed cannot be added
    -- twice by varying the case of the host or a tracking parameter.
    url_key  TEXT NOT NULL UNIQUE,
    schedule TEXT NOT NULL DEFAULT '',
    source   TEXT NOT NULL CHECK (source IN ('config', 'admin')),
    created  INTEGER NOT NULL
) STRICT;

-- feed_state is what the poller remembers between polls; one row per feed,
-- removed with it.
CREATE TABLE feed_state (
    feed_id       INTEGER PRIMARY KEY REFERENCES feeds (id) ON DELETE CASCADE,
    last_poll     INTEGER NOT NULL DEFAULT 0,
    last_success  INTEGER NOT NULL DEFAULT 0,
    next_poll     INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    items_seen    INTEGER NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- articles are every item ever stored. They outlive their feed (feed_id is
-- set to NULL when the feed is removed) so that removing and re-adding a
-- feed cannot post its items again; feed keeps the name for display.
--
-- De-duplication is the schema's job: each of the three keys below is under
-- a unique index. The keys are 64-bit integers, the first 8 bytes of the
-- SHA-256 of the GUID, of NormalizeLink(link) and of TitleFingerprint(title)
-- (see articles.go): an integer index is a fraction of the size of one on
-- the text, so the three of them stay in a small page cache with 100,000
-- articles; a chance collision only becomes likely near 2^32 stories. A NULL key takes
-- part in no comparison (SQLite treats NULLs as distinct in unique indexes),
-- which is how an item without a GUID, link or title is keyed on the others.
CREATE TABLE articles (
    id        INTEGER PRIMARY KEY,
    feed_id   INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
    feed      TEXT NOT NULL DEFAULT '',
    guid      TEXT NOT NULL DEFAULT '',
    guid_key  INTEGER,         -- NULL: no GUID, or not trusted (see articles.go)
    link      TEXT NOT NULL DEFAULT '',
    link_key  INTEGER,         -- NULL when there is no link
    title     TEXT NOT NULL DEFAULT '',
    title_key INTEGER,         -- NULL when the title is blank
    summary   TEXT NOT NULL DEFAULT '',
    content   TEXT NOT NULL DEFAULT '',
    published INTEGER NOT NULL DEFAULT 0,
    fetched   INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX articles_feed_guid ON articles (feed_id, guid_key);
CREATE UNIQUE INDEX articles_link_key ON articles (link_key);
CREATE UNIQUE INDEX articles_title_key ON articles (title_key);

-- alerts are articles matched by a guild's rules, at most once per guild.
-- actor_ids and actor_text are folded copies of the actors in matches, kept
-- so that the actor filter of /latest is a plain string test, not JSON parsing.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    guild_id   TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    rule       TEXT NOT NULL DEFAULT '',
    matches    TEXT NOT NULL DEFAULT '[]', -- JSON []rules.Match
    actor_ids  TEXT NOT NULL DEFAULT '',   -- "\nid\nid\n", folded
    actor_text TEXT NOT NULL DEFAULT '',   -- aliases and offices, folded, "\n"-separated
    created    INTEGER NOT NULL,
    UNIQUE (guild_id, article_id)
) STRICT;

CREATE INDEX alerts_guild_id ON alerts (guild_id, id);
CREATE INDEX alerts_article ON alerts (article_id);

-- deliveries are the outbox: one row per alert and channel, written in the
-- same transaction as the alert. status moves pending -> delivered or
-- pending -> failed, never back.
CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY,
    alert_id     INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    guild_id     TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL DEFAULT '',
    created      INTEGER NOT NULL,
    finished     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (alert_id, channel_id)
) STRICT;

-- Only pending rows are ever looked up by time, and they are few; a partial
-- index keeps the due query and the queue depth independent of history.
CREATE INDEX deliveries_pending ON deliveries (next_attempt, id) WHERE status = 'pending';
CREATE INDEX deliveries_channel ON deliveries (guild_id, channel_id) WHERE status = 'pending';

-- subscriptions route a guild's alerts to a channel; rule '' means every rule.
CREATE TABLE subscriptions (
    guild_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    rule       TEXT NOT NULL DEFAULT '',
    disabled   TEXT NOT NULL DEFAULT '', -- non-empty: why posting stopped
    created    INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id, rule)
) STRICT, WITHOUT ROWID;

-- guild_rules are a guild's changes to the default rules. spec is the JSON
-- of a rules.RuleSpec; NULL is a tombstone: "this rule is removed here".
CREATE TABLE guild_rules (
    guild_id TEXT NOT NULL,
    name     TEXT NOT NULL,
    spec     TEXT,
    updated  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, name)
) STRICT, WITHOUT ROWID;

-- alerts_fts indexes the title and summary of each alert's article, keyed
-- by alert id so that a search joins straight to the guild's alerts. It is
-- contentless (the text lives in articles) but allows deletes.
CREATE VIRTUAL TABLE alerts_fts USING fts5 (
    title,
    summary,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER alerts_fts_insert AFTER INSERT ON alerts BEGIN
    INSERT INTO alerts_fts (rowid, title, summary)
    SELECT new.id, title, summary FROM articles WHERE id = new.article_id;
END;

CREATE TRIGGER alerts_fts_delete AFTER DELETE ON alerts BEGIN
    DELETE FROM alerts_fts WHERE rowid = old.id;
END;
