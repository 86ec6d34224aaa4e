-- 0006: the de-duplication keys become rows of one table, seen_keys, keyed
-- by the key itself, instead of columns of article_keys under three unique
-- indexes. Why: the keys are hashes, so deleting a day's expired keys from
-- three indexes touched random pages all over them, hundreds per
-- transaction, and each was written again at every checkpoint. One b-tree
-- in key order can be pruned in key order (retention.go: a sweep rewrites
-- each page once), and an article's keys take ~65 bytes instead of ~110.
--
-- key is the kind's tag in the top two bits over the low 62 bits of the
-- hash (see keyOf in articles.go, which computes the same):
--   1: the feed's GUID, its hash mixed with the feed's id (a GUID is only
--      unique within its feed);
--   2: NormalizeLink(link);
--   3: TitleFingerprint(title).
-- So the three kinds never compare equal, and the primary key is the
-- unique index that makes de-duplication hold whatever the code does.
-- article_id is the article the key is of (its articles row, if any, has
-- that id); day the day it was fetched (Unix days), for retention;
-- flags: 1 its article has a link key, 2 a title key (what a GUID match
-- is checked against, see articles.go), 4 it has no publication date
-- (retention keeps those keys longer).
CREATE TABLE seen_keys (
    key        INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    flags      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Keys of a deleted feed's GUIDs (feed_id NULL) matched nothing any more,
-- and are not carried over. x ^ y is written (x | y) & ~(x & y): SQL has
-- no XOR.
INSERT OR IGNORE INTO seen_keys (key, article_id, day, flags)
    SELECT (1 << 62) | ((((guid_key | (feed_id << 32)) & ~(guid_key & (feed_id << 32)))) & 4611686018427387903),
        id, fetched / 86400000,
        (link_key IS NOT NULL) | ((title_key IS NOT NULL) << 1) | ((published = 0) << 2)
    FROM article_keys WHERE guid_key IS NOT NULL AND feed_id IS NOT NULL;
INSERT OR IGNORE INTO seen_keys (key, article_id, day, flags)
    SELECT (2 << 62) | (link_key & 4611686018427387903), id, fetched / 86400000, (published = 0) << 2
    FROM article_keys WHERE link_key IS NOT NULL;
INSERT OR IGNORE INTO seen_keys (key, article_id, day, flags)
    SELECT (3 << 62) | (title_key & 4611686018427387903), id, fetched / 86400000, (published = 0) << 2
    FROM article_keys WHERE title_key IS NOT NULL;

-- Article ids were handed out by article_keys (AUTOINCREMENT); now by this
-- counter, the last id given, so that an id is still never reused.
INSERT INTO meta (key, value)
    SELECT 'last_article_id', CAST(max(
        coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'article_keys'), 0),
        coalesce((SELECT max(id) FROM article_keys), 0),
        coalesce((SELECT max(id) FROM articles), 0)) AS TEXT)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- The key passes' cursors were ids of article_keys; the sweep keeps its own.
DELETE FROM meta WHERE key IN ('retention_keys_cursor', 'retention_undated_cursor');

DROP TABLE article_keys;
