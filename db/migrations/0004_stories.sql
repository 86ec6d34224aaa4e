-- 0004: stories. Reports of one contact event from many outlets are one
-- story (package stories decides which); a channel gets one message per
-- story, posted once and then edited as the story gains sources.

-- stories are the grouper's state: one row per story, state being the JSON
-- of a stories.Story. article_id is the story's first report when the
-- store knows it, so that retention removing that article removes the
-- story from the index too (its alerts keep the story id).
CREATE TABLE stories (
    id         TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    article_id INTEGER REFERENCES articles (id) ON DELETE CASCADE,
    updated    INTEGER NOT NULL
) STRICT;

CREATE INDEX stories_article ON stories (article_id) WHERE article_id IS NOT NULL;

-- story_postings index the stories by key ("RU|US", or "RU|*") and span of
-- days, so that finding a report's candidates is a range lookup on
-- (key, day_from) and never a scan. A story's days only narrow as reports
-- join it, so a posting stays valid once made; only a new key or a span
-- not covered by an earlier posting adds one.
CREATE TABLE story_postings (
    key      TEXT NOT NULL,
    day_from INTEGER NOT NULL,
    day_to   INTEGER NOT NULL,
    story    TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    PRIMARY KEY (key, day_from, story, day_to)
) STRICT, WITHOUT ROWID;

CREATE INDEX story_postings_story ON story_postings (story);

-- story_keys holds, per key, the longest span posted under it: a lookup for
-- the days [from, to] reads the postings starting in [from - max_len, to].
CREATE TABLE story_keys (
    key     TEXT PRIMARY KEY,
    max_len INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- article_stories records the story each matched article was put in, once:
-- a retried dispatch finds it here instead of grouping the article again.
CREATE TABLE article_stories (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    story      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT ''
) STRICT;

-- Each alert names its story and why it joined it. Alerts made before
-- stories are each a story of their own, named as the store names one
-- without a grouper: 'a' and the article id.
ALTER TABLE alerts ADD COLUMN story TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN story_reason TEXT NOT NULL DEFAULT '';
UPDATE alerts SET story = 'a' || article_id;
CREATE INDEX alerts_story ON alerts (guild_id, story, id);

-- A delivery is now one story owed to one channel. Its alert is the
-- story's first alert in the guild (so UNIQUE (alert_id, channel_id) is
-- one row per story and channel); it is posted until it has a message id,
-- then edited whenever the story has more sources than `rendered`, the
-- number of sources the message last showed. status goes back from
-- delivered to pending when an edit is owed.
ALTER TABLE deliveries ADD COLUMN rendered INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET rendered = 1 WHERE message_id != '';

-- The outbox reads due deliveries in id order (the order of the stories),
-- paging by id.
DROP INDEX deliveries_pending;
CREATE INDEX deliveries_pending ON deliveries (id, next_attempt) WHERE status = 'pending';

-- min_sources holds a story back from a subscription's channel until that
-- many different feeds reported it.
ALTER TABLE subscriptions ADD COLUMN min_sources INTEGER NOT NULL DEFAULT 1;
