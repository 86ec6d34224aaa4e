-- An article is stored before it is matched and its alerts are recorded, in
-- a later transaction. dispatched = 0 marks the window between the two, so
-- that a crash or a failed dispatch in it is retried instead of losing the
-- article's alerts (it would never come back from its feed as new).
-- Articles stored before this migration were dispatched by the code of the
-- time: they start at 1.
ALTER TABLE articles ADD COLUMN dispatched INTEGER NOT NULL DEFAULT 1;

-- backlog = 1: the article arrived in its feed's first successful fetch, so
-- it is the feed's back catalogue rather than news (see dispatch.Eligible).
-- Kept with the article because a retried dispatch no longer knows the poll.
ALTER TABLE articles ADD COLUMN backlog INTEGER NOT NULL DEFAULT 0;

CREATE INDEX articles_undispatched ON articles (id) WHERE dispatched = 0;
