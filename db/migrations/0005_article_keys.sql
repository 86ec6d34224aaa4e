-- 0005: the de-duplication keys move to a table of their own, so that
-- retention can drop an article's text (its articles row) and keep its
-- keys, and later drop those, each with one cheap delete (see
-- retention.go). A row of article_keys is ~100 bytes with its indexes; an
-- articles row with its text is ~1.8 KB.
--
-- article_keys.id is the article's id: an article is stored as its keys
-- row first (the unique indexes below decide whether it is new) and then
-- its articles row under the same id. AUTOINCREMENT: an id is never
-- reused, even once retention has deleted the highest, so ids stay in
-- fetch order and retention's cursors stay valid. published is kept for
-- retention (undated items keep their keys longer) and fetched for its
-- windows.
CREATE TABLE article_keys (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    feed_id   INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
    guid_key  INTEGER,
    link_key  INTEGER,
    title_key INTEGER,
    published INTEGER NOT NULL DEFAULT 0,
    fetched   INTEGER NOT NULL
) STRICT;

INSERT INTO article_keys (id, feed_id, guid_key, link_key, title_key, published, fetched)
    SELECT id, feed_id, guid_key, link_key, title_key, published, fetched FROM articles ORDER BY id;

-- The schema's de-duplication, as in 0001, now on the keys.
CREATE UNIQUE INDEX article_keys_feed_guid ON article_keys (feed_id, guid_key);
CREATE UNIQUE INDEX article_keys_link ON article_keys (link_key);
CREATE UNIQUE INDEX article_keys_title ON article_keys (title_key);

-- The articles' own key columns are no longer written (new rows have
-- NULL there) nor indexed.
DROP INDEX articles_feed_guid;
DROP INDEX articles_link_key;
DROP INDEX articles_title_key;
